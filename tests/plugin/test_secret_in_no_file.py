"""A QA token the service echoes back is in no file the run writes: not run.json, summary.md, junit.xml,
nor any allure result (attachments, and the failure message and trace allure-pytest takes from the exception)."""

from __future__ import annotations

import base64
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Request

from harness.serving import ServerThread, bind, quiet_config
from tests.support.pytester_project import Project

# Characters that URL-encoding and base64 change, so each form is a different byte string to look for.
TOKEN = "qa?tok-S3CRET/9+z="
FORMS = {
    "raw": TOKEN,
    "url-encoded": urllib.parse.quote(TOKEN, safe=""),
    "base64": base64.b64encode(TOKEN.encode()).decode().rstrip("="),
    "urlsafe base64": base64.urlsafe_b64encode(TOKEN.encode()).decode().rstrip("="),
}

ECHO_SPEC = """\
service: echo
qa: {path: /echo/qa, delivery: sync, auth: qa_token, output: {text: /text}}
prod: {path: /echo, delivery: sync, output: {text: /text}}
"""

# Every part fails, and each failure quotes what the service said: the status check quotes the body, exact
# parity shows the diff, the conftest check prints the text (captured output is an allure attachment too).
ECHO_CASES = """\
cases:
  - id: echo
    input: {question: what is my token?}
    checks: [{status: 201}, print_text]
    parity: exact
"""

CONFTEST = """\
import harness


@harness.check("print_text")
def print_text(ctx, arg):
    print("the service said:", ctx.outcome.text)
    raise AssertionError("the text was " + str(ctx.outcome.text))
"""


# A user's own test against the same service: its failure is pytest's assertion message, made by no harness
# code, so only the masking of what allure-pytest writes stands between it and the results folder.
USER_TEST = """\
import httpx


def test_the_service_keeps_quiet(harness_target):
    headers = {"Authorization": "Bearer " + harness_target.qa_token}
    answer = httpx.post(harness_target.base_url + "/echo/qa", headers=headers, json={}, timeout=10)
    assert "token" not in answer.text, answer.text
"""


def _echo_app() -> FastAPI:
    app = FastAPI()

    @app.post("/echo/qa")
    def qa(request: Request) -> dict[str, Any]:
        # A debug line of the kind that leaked: the credential the service was sent, in several encodings.
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        encoded = " ".join(
            (
                urllib.parse.quote(token, safe=""),
                base64.b64encode(token.encode()).decode(),
                base64.urlsafe_b64encode(token.encode()).decode(),
            )
        )
        return {"text": f"debug: token={token} encoded={encoded}", "token": token}

    @app.post("/echo")
    def prod() -> dict[str, Any]:
        return {"text": "debug: no token here"}

    return app


@pytest.fixture(scope="module")
def echo_url() -> Iterator[str]:
    sock = bind()
    serving = ServerThread([(quiet_config(_echo_app(), lifespan="off"), sock)], name="echo")
    serving.start(15.0)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    serving.stop()


def _leaks(root: Path) -> list[str]:
    """Every ``file: form`` where a form of the token is found, reading every file's bytes."""
    found = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        data = path.read_bytes()
        found += [f"{path.relative_to(root)}: {name}" for name, form in FORMS.items() if form.encode() in data]
    return found


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one process", "xdist"])
def test_an_echoed_token_is_in_no_file_the_run_writes(project: Project, echo_url: str, workers: list[str]) -> None:
    project.write("cases/echo/service.yaml", ECHO_SPEC)
    project.write("cases/echo/echo.yaml", ECHO_CASES)
    project.write("conftest.py", CONFTEST)
    project.write("tests/test_user.py", USER_TEST)
    result = project.run("--base-url", echo_url, "--harness-qa-token", TOKEN, "-rA", *workers)
    result.assert_outcomes(failed=4)
    allure = project.root / "reports" / "allure-results"
    # The run wrote what it should have, and the failure allure keeps is there (masked), else this proves nothing.
    assert (project.root / "reports" / "junit.xml").is_file()
    results = list(allure.glob("*-result.json"))
    assert len(results) == 4
    assert any("***" in path.read_text(encoding="utf-8") and "statusDetails" in path.read_text() for path in results)
    assert any(allure.glob("*-attachment.*"))
    leaks = _leaks(project.root)
    assert not leaks, "the token leaked into:\n" + "\n".join(leaks)
    output = result.stdout.str() + result.stderr.str()
    assert [name for name, form in FORMS.items() if form in output] == []
    assert "token=***" in output
