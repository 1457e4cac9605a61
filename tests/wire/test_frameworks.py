"""Opt-in: the examples' case files against the real frameworks, each started from its own virtualenv.

Not part of the default suite (it needs LiteLLM, LangServe and BentoML installed, which the harness never
depends on). Make the venvs as tests/wire/README.md says, then:

    HARNESS_WIRELAB=../wirelab pytest tests/wire -m frameworks -p no:randomly

Each server is started on a free loopback port from its example folder, ``pytest examples/<preset>/cases
--base-url ...`` runs as a user would run it, and the broken cases must fail naming their problem.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
LAB = os.environ.get("HARNESS_WIRELAB")

pytestmark = [
    pytest.mark.frameworks,
    pytest.mark.skipif(not LAB, reason="set HARNESS_WIRELAB to the folder of framework venvs (tests/wire/README.md)"),
]

# name: (venv under the lab, example folder, argv after the venv's bin/, readiness path, environment)
SERVERS = {
    "openai-compatible": (
        "litellm",
        ["litellm", "--config", "config.yaml", "--host", "127.0.0.1", "--port", "{port}"],
        "/health/liveliness",
        {"LITELLM_MASTER_KEY": "sk-wire-test", "LITELLM_LOCAL_MODEL_COST_MAP": "True"},
    ),
    "langserve": (
        "langserve",
        ["python", "-m", "uvicorn", "app:app", "--host", "127.0.0.1", "--port", "{port}"],
        "/docs",
        {},
    ),
    "bentoml-task": (
        "bentoml",
        ["bentoml", "serve", "service:Answers", "--host", "127.0.0.1", "--port", "{port}"],
        "/readyz",
        {},
    ),
}

# What the broken cases must fail with, by example.
BROKEN = {"openai-compatible": "stream_error_chunk", "langserve": "stream_error_event"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def _server(example: str) -> Iterator[str]:
    venv, argv, ready, env = SERVERS[example]
    assert LAB is not None
    binaries = Path(LAB, venv, ".venv", "bin")
    port = _free_port()
    command = [str(binaries / argv[0]), *(arg.format(port=port) for arg in argv[1:])]
    log = Path(os.environ.get("TMPDIR", "/tmp"), f"harness-frameworks-{example}.log")
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            cwd=ROOT / "examples" / example,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **env},
            start_new_session=True,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 120
            while True:
                assert process.poll() is None, f"{example} server exited; see {log}"
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(url + ready, timeout=2).status_code == 200:
                        break
                assert time.monotonic() < deadline, f"{example} server not ready; see {log}"
                time.sleep(0.5)
            yield url
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _run(folder: str, url: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            folder,
            "-o",
            f"harness_case_paths={folder}",
            "--base-url",
            url,
            "-p",
            "no:cacheprovider",
            "-p",
            "no:randomly",
            "--harness-report-dir",
            str(tmp_path / Path(folder).name),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "LLM_API_KEY": "sk-wire-test"},
    )


@pytest.mark.parametrize("example", sorted(SERVERS))
def test_example_cases_pass_and_broken_cases_name_their_problem(example: str, tmp_path: Path) -> None:
    with _server(example) as url:
        good = _run(f"examples/{example}/cases", url, tmp_path)
        assert good.returncode == 0, good.stdout[-3000:]
        if example in BROKEN:
            broken = _run(f"examples/{example}/broken-cases", url, tmp_path)
            assert broken.returncode == 1, broken.stdout[-3000:]
            assert f"{BROKEN[example]}: " in broken.stdout
