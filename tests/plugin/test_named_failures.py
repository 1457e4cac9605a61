"""Every failed delivery has one named problem quoting the service's own words, and defaults don't trap.

A small service of the test's own (FastAPI on loopback), tested with ``--base-url`` as a user would: a 5xx, a
polled job that fails while its result route answers 200 ``null``, a wrong output pointer, and a case file whose
default output checks meet an expected rejection.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from harness.serving import ServerThread, bind, quiet_config
from tests.support.pytester_project import Project


def make_app() -> FastAPI:
    app = FastAPI()

    @app.post("/qa")
    async def qa(request: Request) -> Any:
        body = await request.json()
        if body.get("question") == "crash":
            return JSONResponse({"error": "CUDA out of memory on worker 3"}, status_code=500)
        if not body.get("question"):
            return JSONResponse({"detail": [{"loc": ["body", "question"], "msg": "required", "type": "missing"}]}, 422)
        return {"answer": f"an answer to {body['question']}", "model_version": "m-1"}

    @app.post("/jobs")
    async def submit(request: Request) -> Any:
        body = await request.json()
        if not body.get("question"):
            return JSONResponse({"detail": [{"loc": ["body", "question"], "msg": "required", "type": "missing"}]}, 422)
        return {"id": "failing" if body["question"] == "crash" else "fine"}

    @app.get("/jobs/{job_id}")
    async def status(job_id: str) -> Any:
        if job_id == "failing":
            return {"state": "failed", "error": "tokenizer rejected the prompt"}
        return {"state": "done"}

    @app.get("/jobs/{job_id}/result")
    async def result(job_id: str) -> Any:
        # The trap of the issue: a failed job's result route answers 200 with null.
        return None if job_id == "failing" else {"answer": "an answer", "model_version": "m-1"}

    return app


@pytest.fixture(scope="module")
def service_url() -> Iterator[str]:
    sock = bind()
    server = ServerThread([(quiet_config(make_app()), sock)], name="named-failures")
    server.start()
    host, port = sock.getsockname()[:2]
    yield f"http://{host}:{port}"
    server.stop()


SPEC = """\
service: answers
qa:
  path: /qa
  delivery: sync
  output: {{text: {text}, metadata: {{model_version: /model_version}}}}
prod:
  path: /jobs
  delivery: poll
  poll:
    job_id: /id
    status: {{path: "/jobs/{{id}}", pointer: /state, success: [done], failure: [failed]}}
    result: {{path: "/jobs/{{id}}/result"}}
  output: {{text: /answer, metadata: {{model_version: /model_version}}}}
"""


def run(project: Project, service_url: str, cases: str, *, text: str = "/answer") -> tuple[Any, dict[str, Any]]:
    project.write("cases/answers/service.yaml", SPEC.format(text=text))
    project.write("cases/answers/cases.yaml", cases)
    result = project.run("cases", "--base-url", service_url, "-p", "no:cacheprovider", "-rfE")
    record = json.loads((project.root / "reports" / "run.json").read_text(encoding="utf-8"))
    return result, {f"{c['case_id']}[{part}]": p for c in record["cases"] for part, p in c["parts"].items()}


def checks_said(part: dict[str, Any]) -> list[str]:
    return [f"{c['name']}: {c['message']}" for run in part["runs"] for turn in run["turns"] for c in turn["checks"]]


def test_a_5xx_and_a_failed_job_are_named_once_with_the_services_words(project: Project, service_url: str) -> None:
    result, items = run(
        project,
        service_url,
        """\
        defaults:
          checks: [no_mojibake, {contains: answer}]
        cases:
          - id: crash
            input: {question: crash}
        """,
    )
    qa, prod = items["crash[qa]"], items["crash[prod]"]
    assert qa["outcome"] == "failed"
    assert qa["reason"] == 'server_error: qa answered 500: {"error": "CUDA out of memory on worker 3"}'
    # named once: the checks that need output say they did not run instead of each failing on "got none"
    assert checks_said(qa) == [f"{name}: not run: no output (server_error)" for name in ("no_mojibake", "contains")]
    assert prod["outcome"] == "failed"
    assert prod["reason"].startswith("job_failed: job failing ended with status 'failed' at /state: ")
    assert "tokenizer rejected the prompt" in prod["reason"]
    result.stdout.fnmatch_lines(["server_error: qa answered 500: *CUDA out of memory*", "job_failed: job failing *"])


def test_an_output_pointer_that_matches_nothing_names_the_keys_there(project: Project, service_url: str) -> None:
    _, items = run(
        project,
        service_url,
        """\
        cases:
          - id: plain
            endpoints: [qa]
            input: {question: what is GDP}
            checks: [no_mojibake]
        """,
        text="/anwser",
    )
    failure = items["plain[qa]"]["reason"]
    assert failure.startswith("output_missing: output.text /anwser finds no text in the qa answer: ")
    assert "the body has keys answer, model_version; fix output.text in the service spec" in failure


def test_default_output_checks_do_not_fail_an_expected_rejection(project: Project, service_url: str) -> None:
    result, items = run(
        project,
        service_url,
        """\
        defaults:
          checks: [no_mojibake, model_version_equal]
        cases:
          - id: happy
            input: {question: what is GDP}
          - id: empty-question
            input: {question: ""}
            checks: [{status: 422}, error_shape]
        """,
    )
    assert {key: part["outcome"] for key, part in items.items()} == dict.fromkeys(
        [f"{case}[{part}]" for case in ("happy", "empty-question") for part in ("qa", "prod", "parity")], "passed"
    )
    result.assert_outcomes(passed=6)
