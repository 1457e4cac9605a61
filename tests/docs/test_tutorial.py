"""The tutorial runs as written: its files, its service on a real loopback port, its pytest commands and outputs.

The page marks what is run: a code block with ``title="path"`` is a file written there; each line of a
``bash`` block is a command (setup lines that only make the folder and install the harness are done by this
test's own environment; any other command is run); a ``text`` block titled ``Output`` lists lines the last
command's output must show, in order (``...`` skips lines; timings and column padding are not compared).
"""

from __future__ import annotations

import os
import re
import shlex
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from tests.support.docs import DOCS, Block, blocks_of

TUTORIAL = DOCS / "tutorial" / "index.md"
DOCUMENTED_PORT = "8000"
START_BOUND_S = 30.0
RUN_BOUND_S = 240.0

# Setup the test's own environment already did: a folder (tmp_path), a virtualenv with the harness installed.
SETUP = ("mkdir ", "cd ", "python3 -m venv ", "source ", ". ", "pip install ")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _environment() -> dict[str, str]:
    """The caller's environment without what would steer the inner pytest (xdist worker ids, harness options)."""
    drop = ("PYTEST_", "HARNESS_", "REFERENCE_")
    return {key: value for key, value in os.environ.items() if not key.startswith(drop)}


@contextmanager
def _service(argv: list[str], workdir: Path, port: int) -> Iterator[None]:
    """The tutorial's uvicorn command, run until the block ends; ready once its port accepts connections."""
    log = workdir / "service.log"
    with log.open("wb") as out:
        process = subprocess.Popen(argv, cwd=workdir, stdout=out, stderr=subprocess.STDOUT, env=_environment())
    try:
        deadline = time.monotonic() + START_BOUND_S
        while True:
            if process.poll() is not None:
                pytest.fail(f"the tutorial's service exited with {process.returncode}:\n{log.read_text()}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"the tutorial's service did not listen within {START_BOUND_S:g} s:\n{log.read_text()}")
                time.sleep(0.1)
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _normal(line: str) -> str:
    """A line with its timings and padding blurred, for comparing documented with real output."""
    line = re.sub(r"\d+(\.\d+)?\s?(ms|s)\b", "<time>", line)
    return " ".join(line.split())


def assert_shows(output: str, expected: Block) -> None:
    """Every documented line is in the output, in order, each within one output line."""
    actual = [_normal(line) for line in output.splitlines()]
    at = 0
    for want in expected.text.splitlines():
        if want.strip() in ("", "...", "…"):
            continue
        needle = _normal(want)
        while at < len(actual) and needle not in actual[at]:
            at += 1
        if at == len(actual):
            pytest.fail(
                f"{TUTORIAL.name}:{expected.line}: the documented output line {want!r} is not in the run's output "
                f"(after the lines before it):\n{output}"
            )
        at += 1


def run_tutorial(markdown: str, workdir: Path) -> list[str]:
    """Do what the page says, in its order; returns the output of each command whose output it documents."""
    port = _free_port()
    outputs: list[str] = []
    last: str | None = None
    with ExitStack() as services:
        for block in blocks_of(markdown):
            if block.title and block.language not in ("text", "bash"):
                path = workdir / block.title
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(block.text, encoding="utf-8")
            elif block.language == "bash":
                for line in block.text.splitlines():
                    for command in (part.strip() for part in line.split("#")[0].split("&&")):
                        if not command or command.startswith(SETUP):
                            continue
                        argv = [word.replace(DOCUMENTED_PORT, str(port)) for word in shlex.split(command)]
                        if argv[0] == "uvicorn":
                            services.enter_context(_service([sys.executable, "-m", *argv], workdir, port))
                        elif argv[0] == "pytest":
                            done = subprocess.run(
                                [sys.executable, "-m", *argv, "-p", "no:cacheprovider"],
                                cwd=workdir,
                                capture_output=True,
                                text=True,
                                timeout=RUN_BOUND_S,
                                env=_environment(),
                            )
                            last = done.stdout + done.stderr
                        else:
                            pytest.fail(f"{TUTORIAL.name}:{block.line}: a command this test cannot run: {command!r}")
            elif block.language == "text" and block.title == "Output":
                assert last is not None, f"{TUTORIAL.name}:{block.line}: an Output block before any command"
                assert_shows(last, block)
                outputs.append(last)
    return outputs


@pytest.mark.slow
def test_the_tutorial_runs_as_written(tmp_path: Path) -> None:
    outputs = run_tutorial(TUTORIAL.read_text(encoding="utf-8"), tmp_path)
    # The page documents two runs: the first case file passing, then the deliberately failing case.
    assert len(outputs) == 2
    assert "6 passed" in outputs[0]
    assert "2 failed, 7 passed" in outputs[1]


def test_a_documented_line_the_output_lacks_fails() -> None:
    block = Block("text", "Output", "6 passed in 1.00s\n...\nqa of case 'x' failed:\n", 1)
    assert_shows("== 6 passed in 2.31s ==\nsomething\nqa of case 'x' failed:", block)
    with pytest.raises(pytest.fail.Exception, match="qa of case 'y' failed"):
        assert_shows("== 6 passed in 2.31s ==", Block("text", "Output", "qa of case 'y' failed:\n", 1))
