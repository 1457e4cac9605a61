"""``harness record`` and ``harness import-har``: arguments to a recorder, one clear message on bad input."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from harness._errors import CaseFileError, HarnessUsageError
from harness._record import DEFAULT_MAX_BODY_BYTES

if TYPE_CHECKING:  # the recorder loads when a command runs: `harness --help` stays quick
    from harness._model._spec import ServiceSpec
    from harness._record._recorder import Recorder

_LEVELS = ["exact", "normalized", "structural", "semantic", "lexical"]


def add_commands(commands: Any) -> None:
    """The two subcommands on the ``harness`` parser's subparsers."""
    record = commands.add_parser(
        "record",
        help="A recording reverse proxy: traffic to a service passes through, each request becomes a case.",
        description="Proxy --listen to --upstream; each request to the spec's QA or prod endpoint becomes a case "
        "(input, status, golden output) in --out. Stop with Ctrl-C: the file is always complete.",
    )
    record.add_argument("--upstream", required=True, metavar="URL", help="The service, e.g. http://127.0.0.1:8000")
    record.add_argument(
        "--listen", default="127.0.0.1:8080", metavar="HOST:PORT", help="Where clients connect (default 127.0.0.1:8080)"
    )
    record.add_argument(
        "--timeout", type=float, default=300.0, metavar="S", help="Bound on each wait for the upstream (default 300)"
    )
    _common(record)
    record.add_argument(
        "--samples",
        type=int,
        default=1,
        metavar="N",
        help="Answers per input: send each recorded request N-1 more times to learn its noise (sync and SSE)",
    )
    har = commands.add_parser("import-har", help="Cases from a HAR 1.2 file, as harness record would make them.")
    har.add_argument("har", type=Path, metavar="FILE.har")
    _common(har)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--spec", type=Path, metavar="PATH", help="The service.yaml (default: the only one under cases/)"
    )
    parser.add_argument(
        "--out", type=Path, metavar="FILE", help="The case file to write (default: recorded.yaml next to the spec)"
    )
    parser.add_argument(
        "--sample-rate", type=float, default=1.0, metavar="R", help="Share of new inputs recorded, 0..1 (default 1)"
    )
    parser.add_argument("--max-cases", type=int, metavar="N", help="Stop recording new cases after N")
    parser.add_argument(
        "--level", choices=_LEVELS, help="Level of every golden output (default: learned; normalized with one sample)"
    )
    parser.add_argument(
        "--max-body-size",
        type=int,
        default=DEFAULT_MAX_BODY_BYTES,
        metavar="BYTES",
        help=f"Largest body recorded; larger ones pass through unrecorded (default {DEFAULT_MAX_BODY_BYTES})",
    )


def run(args: argparse.Namespace) -> int:
    """Run ``record`` or ``import-har``; a usage problem is one line on stderr and exit status 2."""
    try:
        if args.command == "record":
            return _record(args)
        return _import_har(args)
    except (HarnessUsageError, CaseFileError) as exc:
        print(f"harness {args.command}: {exc}", file=sys.stderr)
        return 2


def _recorder(args: argparse.Namespace, source: str) -> Recorder:
    from harness._record._recorder import Recorder, RecordSettings

    if not 0.0 <= args.sample_rate <= 1.0:
        raise HarnessUsageError(f"--sample-rate must be between 0 and 1, got {args.sample_rate}")
    if args.max_cases is not None and args.max_cases < 1:
        raise HarnessUsageError(f"--max-cases must be at least 1, got {args.max_cases}")
    samples = getattr(args, "samples", 1)
    if not 1 <= samples <= 20:
        raise HarnessUsageError(f"--samples must be between 1 and 20, got {samples}")
    spec_path = args.spec or _only_spec()
    spec = _spec(spec_path)
    out = args.out or spec_path.parent / "recorded.yaml"
    settings = RecordSettings(
        out=out,
        sample_rate=args.sample_rate,
        max_cases=args.max_cases,
        samples=samples,
        level=args.level,
        max_body_bytes=args.max_body_size,
        source=source,
    )
    return Recorder(spec, settings)


def _only_spec() -> Path:
    found = sorted(Path("cases").glob("*/service.yaml"))
    if len(found) != 1:
        listed = ", ".join(str(p) for p in found[:5]) or "none under cases/"
        raise HarnessUsageError(f"which service? give --spec (service specs: {listed})")
    return found[0]


def _spec(path: Path) -> ServiceSpec:
    from harness._model._spec import parse_service_spec

    if not path.is_file():
        raise HarnessUsageError(f"--spec {path}: no such file; give the service's service.yaml")
    return parse_service_spec(path, str(path))


def _record(args: argparse.Namespace) -> int:
    from harness._record._proxy import RecordingProxy, serve_options  # lazy: starlette, uvicorn
    from harness.serving import ServerThread, bind, quiet_config

    upstream = urlsplit(args.upstream)
    if upstream.scheme not in ("http", "https") or not upstream.netloc:
        raise HarnessUsageError(f"--upstream must be an http(s) URL, got {args.upstream!r}")
    host, _, port_text = args.listen.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    if not port_text.isdigit():
        raise HarnessUsageError(f"--listen must be HOST:PORT, e.g. 127.0.0.1:8080, got {args.listen!r}")
    shown_upstream = f"{upstream.scheme}://{upstream.hostname}{f':{upstream.port}' if upstream.port else ''}"
    recorder = _recorder(args, shown_upstream)
    try:
        sock = bind(host, int(port_text))
    except OSError as exc:
        raise HarnessUsageError(f"--listen {args.listen}: cannot listen there ({exc.strerror})") from None
    proxy = RecordingProxy(args.upstream, recorder, timeout_s=args.timeout)
    recorder.write()  # a valid (empty) case file from the first moment
    server = ServerThread([(quiet_config(proxy.app, **serve_options()), sock)], name="harness-record")
    stop = threading.Event()
    # The server runs on a thread and the main thread waits for a signal: uvicorn re-raises the signals it
    # catches itself, which would end the process before the summary (and, for SIGTERM, without cleanup).
    previous = {signum: signal.signal(signum, lambda *_: stop.set()) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            server.start()
        except RuntimeError as exc:
            raise HarnessUsageError(f"--listen {args.listen}: the proxy did not start ({exc})") from None
        print(
            f"harness record: http://{args.listen} -> {shown_upstream}; recording {recorder.spec.service} cases to "
            f"{recorder.settings.out}; Ctrl-C to stop",
            flush=True,
        )
        while not stop.wait(0.5) and server.running:
            pass
    finally:
        server.stop(timeout_s=10.0)  # in-flight exchanges finish, pending samples get a short grace (bounded)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        recorder.write()
        for line in recorder.tally.lines():
            print(line)
        print(f"wrote {recorder.settings.out}", flush=True)
    return 0


def _import_har(args: argparse.Namespace) -> int:
    from harness._record._har import read_har

    recorder = _recorder(args, f"the HAR file {args.har.name}")
    for exchange in read_har(args.har):
        plan = recorder.plan(exchange)
        if plan is not None:
            recorder.record(plan)
    recorder.write()
    for line in recorder.tally.lines():
        print(line)
    print(f"wrote {recorder.settings.out}")
    return 0
