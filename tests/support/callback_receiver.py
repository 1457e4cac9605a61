"""A loopback HTTP server that records the callbacks the reference services POST to it."""

from __future__ import annotations

import json
import queue
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class ReceivedCallback:
    """One request the receiver got."""

    headers: dict[str, str]
    body: bytes
    status: int

    def json(self) -> Any:
        return json.loads(self.body)


class CallbackReceiver:
    """A loopback HTTP server that records every POST; it can answer 500 to the first N."""

    def __init__(self) -> None:
        self.received: queue.Queue[ReceivedCallback] = queue.Queue()
        self.fail_first = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                status = 200
                if receiver.fail_first > 0:
                    receiver.fail_first -= 1
                    status = 500
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()
                receiver.received.put(ReceivedCallback({k.lower(): v for k, v in self.headers.items()}, body, status))

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def url(self, path: str = "/callback") -> str:
        return self.base_url + path

    def wait(self, timeout: float = 5.0) -> ReceivedCallback:
        return self.received.get(timeout=timeout)

    def drain(self) -> None:
        while not self.received.empty():
            self.received.get_nowait()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
