"""``python -m reference_services``: run the gateway (and the embedded model) as a standalone server."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Iterator, Sequence

import uvicorn

from harness.serving import quiet_config
from reference_services.faults import FAULTS, UnknownFaultError, parse_fault_list
from reference_services.gateway import create_app
from reference_services.inprocess import bind_loopback
from reference_services.model import ModelSettings, create_model_app
from reference_services.settings import (
    DEFAULT_ALLOWED_HOSTS,
    DEFAULT_MODEL_NAME,
    Settings,
    generate_callback_secret,
    generate_qa_token,
)

logger = logging.getLogger("reference_services")


def _latency(text: str) -> tuple[float, float]:
    """'N' (time to first token) or 'TTFT,PER_TOKEN', in milliseconds."""
    try:
        values = [float(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected N or TTFT,PER_TOKEN in ms, got {text!r}") from None
    if len(values) not in (1, 2) or any(v < 0 for v in values):
        raise argparse.ArgumentTypeError(f"expected N or TTFT,PER_TOKEN (non-negative ms), got {text!r}")
    return values[0], values[1] if len(values) == 2 else 0.0


def _faults(text: str) -> frozenset[str]:
    try:
        return parse_fault_list(text)
    except UnknownFaultError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m reference_services",
        description="Serve examgenerator and studycompanion (and the embedded reference model).",
        epilog="Faults: " + ", ".join(sorted(FAULTS)) + ". Set OPENAI_BASE_URL (and OPENAI_API_KEY, "
        "REFERENCE_MODEL) to use another OpenAI-compatible model instead of the embedded one.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: %(default)s)")
    parser.add_argument("--port", type=int, default=8000, help="gateway port (default: %(default)s)")
    parser.add_argument(
        "--faults",
        type=_faults,
        default=None,
        metavar="A,B",
        help="comma-separated faults to switch on (env REFERENCE_FAULTS)",
    )
    parser.add_argument(
        "--model-latency-ms",
        type=_latency,
        default=(0.0, 0.0),
        metavar="N|TTFT,PER_TOKEN",
        help="embedded model latency: time to first token, optionally with a per-token delay (default: 0)",
    )
    parser.add_argument("--qa-token", default=os.environ.get("QA_TOKEN"), help="QA bearer token (env QA_TOKEN)")
    parser.add_argument(
        "--callback-secret",
        default=os.environ.get("CALLBACK_SECRET"),
        metavar="whsec_...",
        help="Standard Webhooks signing secret (env CALLBACK_SECRET)",
    )
    parser.add_argument(
        "--callback-allowed-hosts",
        default=os.environ.get("CALLBACK_ALLOWED_HOSTS", ",".join(DEFAULT_ALLOWED_HOSTS)),
        metavar="H1,H2",
        help="hosts callbacks may go to (env CALLBACK_ALLOWED_HOSTS, default: %(default)s)",
    )
    return parser


class _Server(uvicorn.Server):
    """A uvicorn server whose signals are handled by ``main`` (two servers share one process)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def _serve(servers: list[tuple[uvicorn.Server, list[object]]]) -> None:
    loop = asyncio.get_running_loop()

    def stop(signum: int) -> None:
        logger.info("received %s, shutting down", signal.Signals(signum).name)
        for server, _ in servers:
            if server.should_exit:
                server.force_exit = True
            server.should_exit = True

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop, sig)
    await asyncio.gather(*(server.serve(sockets=socks) if socks else server.serve() for server, socks in servers))  # type: ignore[arg-type]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx", "httpx2", "openai"):
        logging.getLogger(noisy).setLevel(logging.WARNING)  # one line per request is ours to write
    if args.faults is None:
        try:
            args.faults = parse_fault_list(os.environ.get("REFERENCE_FAULTS", ""))
        except UnknownFaultError as exc:
            parser.error(f"REFERENCE_FAULTS: {exc}")
    qa_token = args.qa_token or generate_qa_token()
    callback_secret = args.callback_secret or generate_callback_secret()

    servers: list[tuple[uvicorn.Server, list[object]]] = []
    external = os.environ.get("OPENAI_BASE_URL")
    if external:
        model_base_url = external
    else:
        ttft, per_token = args.model_latency_ms
        sock = bind_loopback()
        model_base_url = f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
        model_app = create_model_app(ModelSettings(time_to_first_token_ms=ttft, per_token_delay_ms=per_token))
        servers.append(
            (
                _Server(quiet_config(model_app)),
                [sock],
            )
        )
    try:
        settings = Settings(
            qa_token=qa_token,
            callback_secret=callback_secret,
            callback_allowed_hosts=args.callback_allowed_hosts,
            faults=args.faults,
            model_base_url=model_base_url,
            model_api_key=os.environ.get("OPENAI_API_KEY", "not-needed"),
            model_name=os.environ.get("REFERENCE_MODEL", DEFAULT_MODEL_NAME),
        )
    except ValueError as exc:
        parser.error(str(exc))
    gateway = quiet_config(create_app(settings), host=args.host, port=args.port, log_level="info")
    servers.append((_Server(gateway), []))

    print(f"reference services on http://{args.host}:{args.port}", flush=True)
    print(f"  model:           {model_base_url} ({settings.model_name})", flush=True)
    print(f"  QA token:        {qa_token}" + ("" if args.qa_token else "   (generated)"), flush=True)
    print(f"  callback secret: {callback_secret}" + ("" if args.callback_secret else "   (generated)"), flush=True)
    print(f"  faults:          {', '.join(sorted(settings.faults)) or 'none'}", flush=True)
    asyncio.run(_serve(servers))
    return 0


if __name__ == "__main__":
    sys.exit(main())
