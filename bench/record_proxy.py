"""What ``harness record`` adds to each request: latency direct to a service vs through the recording proxy.

Starts the reference services (``python -m reference_services``) and a recording proxy in front of them
(``python -m harness record``), each its own process as a user runs them, then sends the same requests
both ways, interleaved so both see the same machine load: QA (sync JSON) requests and prod (SSE) streams.
Prints medians and p95 of the total time (and the SSE time to first byte), the added milliseconds and
the ratio proxy/direct from this one run, and what the recording wrote.

    python bench/record_proxy.py                       # 200 sync + 100 SSE requests, model latency 0
    python bench/record_proxy.py --requests 400 --model-latency-ms 50,5
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from _processes import free_port, wait_up  # bench/ is on sys.path: these scripts run as files
from _specs import CHAT_SPEC  # bench/ is on sys.path: these scripts run as files

TOKEN = "bench-qa-token-0123456789"


def body(n: int) -> dict[str, str]:
    return {
        "user_id": f"bench-{n % 7}",
        "course": "Macroeconomics 201",
        "conversation_id": f"00000000-0000-4000-8000-{n:012d}",
        "message": f"What is the difference between nominal and real GDP? (variant {n % 50})",
    }


def sync_call(client: httpx.Client, base: str, n: int) -> tuple[float, float]:
    started = time.perf_counter()
    response = client.post(f"{base}/studycompanion/chat/qa", json=body(n), headers={"Authorization": f"Bearer {TOKEN}"})
    response.raise_for_status()
    total = time.perf_counter() - started
    return total, total


def sse_call(client: httpx.Client, base: str, n: int) -> tuple[float, float]:
    started = time.perf_counter()
    first = None
    with client.stream("POST", f"{base}/studycompanion/chat/stream", json=body(n)) as response:
        response.raise_for_status()
        for _ in response.iter_raw():
            if first is None:
                first = time.perf_counter() - started
    return time.perf_counter() - started, first or 0.0


def measure(
    call: Callable[[httpx.Client, str, int], tuple[float, float]], direct: str, proxy: str, count: int
) -> dict[str, list[float]]:
    """``count`` calls each way, alternating which goes first, after a short warm-up."""
    found: dict[str, list[float]] = {"direct": [], "proxy": [], "direct_first": [], "proxy_first": []}
    with httpx.Client(timeout=60) as client:
        for n in range(5):
            call(client, direct, n)
            call(client, proxy, n)
        for n in range(count):
            order = [("direct", direct), ("proxy", proxy)][:: 1 if n % 2 else -1]
            for name, base in order:
                total, first = call(client, base, n)
                found[name].append(total)
                found[f"{name}_first"].append(first)
    return found


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, round(0.95 * len(values)) - 1)]


def report(label: str, found: dict[str, list[float]], key: str = "") -> None:
    direct, proxy = found[f"direct{key}"], found[f"proxy{key}"]
    d50, p50 = statistics.median(direct), statistics.median(proxy)
    print(
        f"{label:<22} direct p50 {d50 * 1000:7.2f} ms  p95 {p95(direct) * 1000:7.2f} ms | "
        f"proxy p50 {p50 * 1000:7.2f} ms  p95 {p95(proxy) * 1000:7.2f} ms | "
        f"added p50 {(p50 - d50) * 1000:+6.2f} ms  ratio {p50 / d50:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="sync requests each way (SSE: half)")
    parser.add_argument("--model-latency-ms", default="0", help="reference model latency (TTFT[,PER_TOKEN])")
    args = parser.parse_args()
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": str(root)}
    service_port, proxy_port = free_port(), free_port()
    direct, proxy = f"http://127.0.0.1:{service_port}", f"http://127.0.0.1:{proxy_port}"
    with tempfile.TemporaryDirectory() as scratch:
        spec, out = Path(scratch, "service.yaml"), Path(scratch, "recorded.yaml")
        spec.write_text(CHAT_SPEC)
        service = subprocess.Popen(
            [sys.executable, "-m", "reference_services", "--port", str(service_port), "--qa-token", TOKEN,
             "--model-latency-ms", args.model_latency_ms],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        recorder = subprocess.Popen(
            [sys.executable, "-m", "harness", "record", "--upstream", direct, "--listen", f"127.0.0.1:{proxy_port}",
             "--spec", str(spec), "--out", str(out)],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        try:
            wait_up(f"{direct}/health", service)
            wait_up(f"{proxy}/health", recorder)
            print(f"reference services at {direct}, recording proxy at {proxy}; model latency {args.model_latency_ms}")
            sync = measure(sync_call, direct, proxy, args.requests)
            report("qa (sync JSON)", sync)
            sse = measure(sse_call, direct, proxy, max(1, args.requests // 2))
            report("prod (SSE) total", sse)
            report("prod (SSE) first byte", sse, "_first")
        finally:
            recorder.send_signal(signal.SIGINT)
            output, _ = recorder.communicate(timeout=60)
            service.send_signal(signal.SIGINT)
            service.wait(30)
        print("recorder:", *(line for line in output.splitlines()[1:] if line.strip()), sep="\n  ")


if __name__ == "__main__":
    main()
