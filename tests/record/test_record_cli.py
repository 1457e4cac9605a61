"""``harness record`` as a user runs it: a process that proxies until SIGTERM or Ctrl-C and leaves a valid file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from harness.__main__ import main
from harness.serving import bind
from reference_services import RunningStack, start_stack
from tests.support.pytester_project import CHAT_SPEC
from tests.support.reference_calls import NOMINAL_REAL, chat_body


@pytest.fixture(scope="module")
def stack() -> Iterator[RunningStack]:
    with start_stack() as running:
        yield running


def free_port() -> int:
    sock = bind()
    try:
        return int(sock.getsockname()[1])
    finally:
        sock.close()


def wait_for(condition: object, what: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_stopping_the_recorder_leaves_a_valid_case_file_and_a_summary(
    stack: RunningStack, tmp_path: Path, stop: signal.Signals
) -> None:
    spec = tmp_path / "service.yaml"
    spec.write_text(CHAT_SPEC)
    out = tmp_path / "recorded.yaml"
    port = free_port()
    command = [sys.executable, "-m", "harness", "record", "--upstream", stack.base_url]
    command += ["--listen", f"127.0.0.1:{port}", "--spec", str(spec), "--out", str(out)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        proxy = f"http://127.0.0.1:{port}"
        wait_for(lambda: out.exists(), "the empty case file")

        def answers() -> bool:
            try:
                return httpx.get(f"{proxy}/health", timeout=2).status_code == 200
            except httpx.TransportError:
                return False

        wait_for(answers, "the proxy to listen")
        body = chat_body(NOMINAL_REAL, "c0ffee00-0000-4000-8000-000000000009")
        headers = {"Authorization": f"Bearer {stack.qa_token}"}
        response = httpx.post(f"{proxy}/studycompanion/chat/qa", json=body, headers=headers, timeout=30)
        assert response.status_code == 200
        wait_for(lambda: "rec-" in out.read_text(), "the case to be written")
        process.send_signal(stop)
        output, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(10)
    assert process.returncode == 0, output
    assert "2 request(s) seen: 1 case(s) recorded" in output
    assert f"wrote {out}" in output
    assert "Traceback" not in output
    (case,) = yaml.safe_load(out.read_text())["cases"]
    assert case["input"] == body
    assert stack.qa_token not in out.read_text()


def test_bad_arguments_are_one_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "service.yaml"
    spec.write_text(CHAT_SPEC)
    base = ["record", "--spec", str(spec)]
    assert main([*base, "--upstream", "ftp://x"]) == 2
    assert "--upstream must be an http(s) URL" in capsys.readouterr().err
    assert main([*base, "--upstream", "http://127.0.0.1:1", "--listen", "nowhere"]) == 2
    assert "--listen must be HOST:PORT" in capsys.readouterr().err
    assert main([*base, "--upstream", "http://127.0.0.1:1", "--sample-rate", "2"]) == 2
    assert "--sample-rate must be between 0 and 1" in capsys.readouterr().err
    spec.write_text("service: x\nqa: {path: /a, delivery: sink}\nprod: {path: /b, delivery: sync}\n")
    assert main([*base, "--upstream", "http://127.0.0.1:1"]) == 2
    err = capsys.readouterr().err
    assert "service.yaml:2" in err
    assert "Traceback" not in err
