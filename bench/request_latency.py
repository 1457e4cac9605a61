"""Time of one request to the in-process reference services, with and without Nagle's algorithm, one at a time.

Every server the harness starts (the reference services, the callback receiver, test graders) binds through
``harness.serving.bind``. A response leaves in two writes, headers then body; on a connection that keeps Nagle's
algorithm, the body waits for the client's delayed ACK of the headers, about 40 ms a request on Linux. asyncio
turns Nagle off only on sockets made with proto TCP, which ``bind`` now says. This prints the median time of
sequential requests (``/health``, a QA chat answer, a QA exam) as shipped, and, as the baseline in the same run,
with the socket made the way ``bind`` made it before (proto 0, so Nagle stays on).

    python bench/request_latency.py
    python bench/request_latency.py --requests 200
"""

from __future__ import annotations

import argparse
import socket
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reference_services import inprocess  # noqa: E402


def median_ms(call: Callable[[], object], requests: int) -> float:
    for _ in range(3):
        call()  # warm: connections, imports, the model's first answer
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def nagle_socket() -> socket.socket:
    """A loopback socket made as ``bind`` made it before: proto 0, so asyncio leaves Nagle on for what it accepts."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def measure(requests: int) -> dict[str, float]:
    import httpx

    stack = inprocess.start_stack()
    try:
        headers = {"Authorization": f"Bearer {stack.qa_token}"}
        chat = {"user_id": "u", "course": "Macroeconomics 201", "conversation_id": "c", "message": "What is GDP?"}
        exam = {"course_title": "Chemistry", "course_topic": "Atoms", "num_questions": 4}
        with httpx.Client(base_url=stack.base_url, headers=headers, timeout=30) as client:
            return {
                "GET /health": median_ms(lambda: client.get("/health"), requests),
                "POST /studycompanion/chat/qa": median_ms(
                    lambda: client.post("/studycompanion/chat/qa", json=chat), requests
                ),
                "POST /examgenerator/create/qa": median_ms(
                    lambda: client.post("/examgenerator/create/qa", json=exam), requests
                ),
            }
    finally:
        stack.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=50, help="sequential requests per endpoint")
    args = parser.parse_args()
    shipped = measure(args.requests)
    inprocess.bind_loopback = nagle_socket  # the baseline: the stack's sockets made as before
    nagle = measure(args.requests)
    print(f"median of {args.requests} sequential requests to the in-process reference services")
    print(f"  {'request':32} {'shipped':>10} {'Nagle on':>10} {'ratio':>8}")
    for name, ms in shipped.items():
        print(f"  {name:32} {ms:8.2f} ms {nagle[name]:7.2f} ms {ms / nagle[name]:7.2f}x")


if __name__ == "__main__":
    main()
