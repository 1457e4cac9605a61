"""A GitHub-style webhook receiver that checks X-Hub-Signature-256 with githubkit's own verify().

POST any path: 204 when the signature over the raw body verifies with the secret, 401 when it does not,
400 when the header is missing. The answer echoes the delivery id it saw, so a sender can de-duplicate.

Run:  WEBHOOK_SECRET="It's a Secret to Everybody" python receiver.py 8200
"""

from __future__ import annotations

import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from githubkit.webhooks import verify

SECRET = os.environ.get("WEBHOOK_SECRET", "It's a Secret to Everybody")  # GitHub docs' dummy secret


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        signature = self.headers.get("X-Hub-Signature-256")
        delivery = self.headers.get("X-GitHub-Delivery")
        if signature is None:
            status, answer = 400, {"error": "missing X-Hub-Signature-256"}
        elif verify(SECRET, body, signature):
            status, answer = 204, None
        else:
            status, answer = 401, {"error": "signature mismatch", "delivery": delivery}
        self.send_response(status)
        self.send_header("X-Seen-Delivery", delivery or "")
        if answer is None:
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        data = json.dumps(answer).encode()
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8200
    ThreadingHTTPServer(("127.0.0.1", port), Receiver).serve_forever()
