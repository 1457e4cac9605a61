"""A loopback HTTP server that answers with captured transcripts, byte for byte (format: tests/wire/README.md).

Each request is matched by method and path (with query) to the transcripts captured for that request, in
order (the last one repeats). The body goes out exactly as captured; chunked bodies are re-chunked at event
boundaries, and a capture that ended without its last chunk (or before its Content-Length) is replayed
by closing the connection at the same byte. Nothing of the frameworks is imported.
"""

from __future__ import annotations

import json
import socket
import socketserver
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TRANSCRIPTS = Path(__file__).parents[1] / "wire" / "transcripts"


@dataclass
class Capture:
    """One captured exchange: its metadata and its response body bytes."""

    name: str
    meta: dict[str, Any]
    body: bytes

    @classmethod
    def load(cls, name: str) -> Capture:
        meta = json.loads((TRANSCRIPTS / f"{name}.json").read_text(encoding="utf-8"))
        return cls(name, meta, (TRANSCRIPTS / meta["body_file"]).read_bytes())

    @classmethod
    def made(cls, name: str, body: bytes, *, status: int = 200, content_type: str, complete: bool = True) -> Capture:
        """A hand-made exchange (a failure mode no framework produced), replayed the same way."""
        meta = {
            "request": {"method": "POST", "path": f"/{name}"},
            "status": status,
            "reason": "X",
            "headers": [["content-type", content_type]],
            "framing": "chunked",
            "complete": complete,
        }
        return cls(name, meta, body)

    @property
    def route(self) -> tuple[str, str]:
        return self.meta["request"]["method"], self.meta["request"]["path"]

    def json(self) -> Any:
        return json.loads(self.body)


def _events(body: bytes) -> list[bytes]:
    """The body split after each blank line (LF or CRLF), so each event is its own chunk."""
    parts: list[bytes] = []
    start = 0
    for sep in (b"\r\n\r\n", b"\n\n"):
        if sep in body:
            while (end := body.find(sep, start)) >= 0:
                parts.append(body[start : end + len(sep)])
                start = end + len(sep)
            break
    if start < len(body):
        parts.append(body[start:])
    return parts


def _response(capture: Capture) -> tuple[bytes, bool]:
    """The response bytes, and whether the connection must then be dropped."""
    meta = capture.meta
    head = [f"HTTP/1.1 {meta['status']} {meta.get('reason', 'X')}"]
    head += [f"{k}: {v}" for k, v in meta["headers"] if k.lower() not in ("content-length", "transfer-encoding")]
    framing, complete = meta["framing"], meta["complete"]
    if framing == "chunked":
        head.append("Transfer-Encoding: chunked")
        data = b"".join(f"{len(part):x}\r\n".encode() + part + b"\r\n" for part in _events(capture.body))
        if complete:
            data += b"0\r\n\r\n"
    elif framing == "content-length":
        head.append(f"Content-Length: {len(capture.body)}")
        data = capture.body
    else:
        data = capture.body
        complete = False  # delimited by the close
    return "\r\n".join(head).encode("latin-1") + b"\r\n\r\n" + data, not complete


@dataclass
class ReplayServer:
    """Serves captures on 127.0.0.1 from a thread; ``with ReplayServer(...) as server: server.url``."""

    captures: list[Capture]
    requests: list[tuple[str, str, bytes]] = field(default_factory=list)
    """(method, path, body) of every request received."""
    unmatched: list[str] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    """The headers of every request received, names lower-cased."""

    def __post_init__(self) -> None:
        self._routes: dict[tuple[str, str], list[Capture]] = {}
        for capture in self.captures:
            self._routes.setdefault(capture.route, []).append(capture)
        self._lock = threading.Lock()

    def __enter__(self) -> ReplayServer:
        replay = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                replay._serve(self.request)

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _next(self, method: str, path: str) -> Capture | None:
        with self._lock:
            queue = self._routes.get((method, path))
            if not queue:
                self.unmatched.append(f"{method} {path}")
                return None
            return queue.pop(0) if len(queue) > 1 else queue[0]

    def _serve(self, sock: socket.socket) -> None:
        """Keep-alive: answer requests on this connection until the client closes or a capture drops it."""
        reader = sock.makefile("rb")
        try:
            while True:
                line = reader.readline()
                if not line:
                    return
                method, path, _ = line.decode("latin-1").split(" ", 2)
                headers = {}
                while (header := reader.readline()) not in (b"\r\n", b"\n", b""):
                    name, _, value = header.decode("latin-1").partition(":")
                    headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length", "0"))
                body = reader.read(length) if length else b""
                self.headers.append(headers)
                self.requests.append((method, path, body))
                capture = self._next(method, path)
                if capture is None:
                    sock.sendall(b"HTTP/1.1 599 No capture for this request\r\nContent-Length: 0\r\n\r\n")
                    continue
                data, drop = _response(capture)
                sock.sendall(data)
                if drop:
                    return
        except (ConnectionError, OSError):
            return
        finally:
            reader.close()
            sock.close()
