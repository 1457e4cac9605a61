"""Shared support for the harness's own tests, imported as ``tests.support.<module>``.

- ``scripted_http``: a raw HTTP/1.1 server that writes each response byte for byte (delivery adapter tests).
- ``replay_server``: answers with transcripts captured from real frameworks (tests/wire/transcripts).
- ``callback_receiver``: a loopback server that records the callbacks the reference services POST.
- ``reference_calls``: inputs and requests for the reference services' endpoints.
- ``exam_samples``: exam texts in the seed format.
- ``pytester_project``: a pytester project with service specs and case files (the ``project`` fixture).
- ``case_suite``: runs ``cases/`` in process and labels why each item failed (the fault matrix).
"""
