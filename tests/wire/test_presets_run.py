"""Whole runs, as a user makes them: a two-line preset spec, the examples' case files, a replayed framework.

The replay server stands in for the real LangServe app and LiteLLM proxy (their captured bytes, dropped
connections included); ``pytest --base-url`` runs in a subprocess like a user's. The good stream passes,
the broken one fails its prod and parity items naming the problem.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable

import pytest

from tests.support.replay_server import Capture, ReplayServer


def _at(name: str, path: str) -> Capture:
    capture = Capture.load(name)
    return Capture(capture.name, {**capture.meta, "request": {**capture.meta["request"], "path": path}}, capture.body)


Write = Callable[[str, str], None]


@pytest.fixture
def write(pytester: pytest.Pytester) -> Write:
    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider\n")

    def write(relative: str, text: str) -> None:
        path = pytester.path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")

    return write


def test_langserve_preset_passes_the_good_stream_and_names_the_broken_one(
    pytester: pytest.Pytester, write: Write
) -> None:
    write("cases/tutor/service.yaml", "service: tutor\npreset: {langserve: /chat}\n")
    write("cases/broken/service.yaml", "service: tutor-broken\npreset: {langserve: /broken}\n")
    case = """\
        cases:
          - id: mitochondria
            input: {question: "What do mitochondria do?"}
            checks: [{icontains: ATP}, no_mojibake]
            parity: exact
        """
    write("cases/tutor/chat.yaml", case)
    write("cases/broken/chat.yaml", case.replace("mitochondria\n", "mid-stream-error\n").replace("ATP}", "Le}"))
    captures = [
        Capture.load("langserve_invoke_ok"),
        Capture.load("langserve_stream_ok"),
        _at("langserve_invoke_ok", "/broken/invoke"),
        _at("langserve_stream_error", "/broken/stream"),
    ]
    with ReplayServer(captures) as server:
        result = pytester.runpytest_subprocess("cases", "-p", "no:randomly", "--base-url", server.url, timeout=120)
    result.assert_outcomes(passed=4, failed=2)
    result.stdout.fnmatch_lines(["*mid-stream-error::prod*", "*stream_error_event: *Internal Server Error*"])
    result.stdout.fnmatch_lines(["*FAILED cases/broken/chat.yaml::mid-stream-error::parity*"])
    sent = {(method, path): body for method, path, body in server.requests}
    assert sent[("POST", "/chat/invoke")] == b'{"input":{"question":"What do mitochondria do?"}}'


def test_openai_preset_with_an_env_key_masks_it_and_names_the_in_band_error(
    pytester: pytest.Pytester,
    write: Write,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LLM_API_KEY", "sk-wire-secret-1234")
    spec = 'service: llm\npreset: openai-chat\nheaders: {Authorization: "Bearer ${LLM_API_KEY}"}\n'
    write("cases/llm/service.yaml", spec)
    write(
        "cases/llm/chat.yaml",
        """\
        cases:
          - id: ok
            input: {model: fake-tutor, messages: [{role: user, content: "What do mitochondria do?"}]}
            checks: [{icontains: ATP}, {model_version_equal: finish_reason}]
          - id: midstream
            input: {model: fake-midstream, messages: [{role: user, content: "What do mitochondria do?"}]}
            endpoints: [prod]
        """,
    )
    ok, midstream = Capture.load("openai_chat_ok"), Capture.load("openai_chat_stream_midstream_error")
    stream_ok = Capture.load("openai_chat_stream_usage")
    with ReplayServer([ok, stream_ok, midstream]) as server:
        # One URL, told apart by the request body: route by order of arrival per body instead.
        server._routes[("POST", "/v1/chat/completions")] = []
        server._next = lambda method, path: _by_body(server, ok, stream_ok, midstream)  # type: ignore[method-assign]
        result = pytester.runpytest_subprocess(
            "cases", "-p", "no:randomly", "--base-url", server.url, "--harness-report-dir", "reports", timeout=120
        )
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(["*stream_error_chunk: in-band error at /error: *fake backend went away*"])
    # Sent on both sides (auth on prod as well as QA), masked everywhere it is shown.
    assert {h["authorization"] for h in server.headers} == {"Bearer sk-wire-secret-1234"}
    assert len(server.headers) == 3
    reports = "".join(p.read_text(errors="replace") for p in (pytester.path / "reports").rglob("*") if p.is_file())
    assert "sk-wire-secret-1234" not in reports + result.stdout.str()
    assert "Bearer sk-wire-secret-1234" not in reports


def _by_body(server: ReplayServer, ok: Capture, stream_ok: Capture, midstream: Capture) -> Capture:
    """The capture for the last request received: the model and ``stream`` pick it."""
    body = json.loads(server.requests[-1][2])
    if body["model"] == "fake-midstream":
        return midstream
    return stream_ok if body["stream"] else ok
