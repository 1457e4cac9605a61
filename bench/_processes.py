"""What the benchmarks share to start and time processes: a free port, waiting for a service, one timed pytest run."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_up(url: str, process: subprocess.Popen[bytes], timeout_s: float = 60.0) -> None:
    """Return once ``url`` answers 200; exit when ``process`` dies or the wait runs out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{process.args} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{url} not up within {timeout_s:g} s")


def run_pytest(cwd: Path, reports: Path, latency_ms: float, *args: str) -> tuple[float, str]:
    """Wall time of one ``pytest`` process in ``cwd``, and its closing line; exits when it fails."""
    # Options with '=': pytest picks its rootdir from the path-like arguments before plugins declare options.
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        f"--reference-model-latency-ms={latency_ms}",
        f"--harness-report-dir={reports}",
        *args,
    ]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=1800, check=False)
    elapsed = time.perf_counter() - started
    last = (done.stdout.strip().splitlines() or ["(no output)"])[-1]
    if done.returncode != 0:
        sys.exit(f"pytest {' '.join(args)} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-2000:]}")
    return elapsed, last
