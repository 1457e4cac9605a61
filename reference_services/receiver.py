"""``python -m reference_services.receiver``: a tiny callback receiver that prints what arrives.

For trying the async examgenerator flow by hand; with ``--secret`` it also verifies the signature.
"""

from __future__ import annotations

import argparse
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m reference_services.receiver")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--secret", help="whsec_... to verify webhook signatures with")
    args = parser.parse_args(argv)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            verdict = "signature not checked (no --secret)"
            if args.secret:
                try:
                    Webhook(args.secret).verify(body, dict(self.headers.items()))
                    verdict = "signature OK"
                except WebhookVerificationError as exc:
                    verdict = f"signature INVALID: {exc}"
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()
            payload = json.loads(body)
            print(f"--- {self.path} webhook-id={self.headers.get('webhook-id')} {verdict}", flush=True)
            print(json.dumps({k: v for k, v in payload.items() if k != "text"}, ensure_ascii=False), flush=True)
            if "text" in payload:
                print(payload["text"], flush=True)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer((args.host, args.port), Handler)
    print(f"receiving callbacks on http://{args.host}:{args.port}/ (Ctrl-C to stop)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
