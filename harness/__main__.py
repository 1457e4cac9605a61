"""``harness`` command line: ``harness schema``, ``harness merge``, ``harness init``, ``harness try``,
``harness record`` and ``harness import-har`` (cases from traffic)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from harness._errors import HarnessError, HarnessUsageError, ServiceUnreachable

USAGE_ERROR = 2


def main(argv: list[str] | None = None) -> int:
    """Print or write the published JSON Schemas; merge shards' reports."""
    parser = argparse.ArgumentParser(prog="harness", description="qa-harness utilities.")
    commands = parser.add_subparsers(dest="command", required=True)
    schema = commands.add_parser("schema", help="Print the JSON Schema of case files or service specs.")
    schema.add_argument("kind", nargs="?", choices=["case-file", "service-spec"], default="case-file")
    schema.add_argument("--write", action="store_true", help="Write every schema to its file in the package.")
    merge = commands.add_parser(
        "merge",
        help="Merge the report dirs of a suite's shards (run.json, junit.xml, allure-results) into one.",
    )
    merge.add_argument("shards", nargs="+", type=Path, metavar="SHARD_REPORT_DIR")
    merge.add_argument("-o", "--output", type=Path, default=Path("reports"), help="Where to write (default: reports)")
    _add_init(commands)
    _add_try(commands)
    from harness._record._cli import add_commands  # argparse only; the recorder loads when a command runs

    add_commands(commands)
    args = parser.parse_args(argv)
    if args.command in ("record", "import-har"):
        from harness._record._cli import run

        return run(args)
    if args.command == "merge":
        return _merge(args.shards, args.output)
    if args.command == "init":
        return _init(args)
    if args.command == "try":
        return _try(args)
    from harness._model._schema import SCHEMA_FILES, render  # lazy: the schema pulls in pydantic and the checks

    if args.write:
        for kind, path in SCHEMA_FILES.items():
            path.write_text(render(kind), encoding="utf-8")
            print(f"wrote {path}")
        return 0
    sys.stdout.write(render(args.kind))
    return 0


def _merge(shards: list[Path], output: Path) -> int:
    from harness._report.merge import merge_reports
    from harness._report.run import totals_line

    try:
        result = merge_reports(shards, output)
    except HarnessUsageError as exc:
        print(f"harness merge: {exc}", file=sys.stderr)
        return 2
    print(f"merged {result.shards} shard(s) into {output}: {totals_line(result.run['totals'])}")
    return 0


def _add_init(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    init = commands.add_parser(
        "init",
        help="Write pytest.ini, cases/<service>/service.yaml and a first case file, from a preset or an OpenAPI "
        "document.",
    )
    init.add_argument("dir", nargs="?", type=Path, default=Path("."), metavar="DIR", help="Project folder (default: .)")
    init.add_argument("--service", metavar="NAME", help="Service name, also the folder under cases/")
    source = init.add_mutually_exclusive_group()
    source.add_argument(
        "--preset", metavar="NAME", help="openai-chat, '{langserve: /ROUTE}' or '{bentoml-task: {api: A, task: T}}'"
    )
    source.add_argument(
        "--openapi",
        metavar="URL_OR_FILE",
        help="The service's OpenAPI document, e.g. http://localhost:8000/openapi.json",
    )
    init.add_argument("--base-url", metavar="URL", help="Where the service runs; written to pytest.ini as base_url")
    init.add_argument("--force", action="store_true", help="Overwrite the spec and case file if they exist")


def _add_try(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    attempt = commands.add_parser(
        "try",
        help="Send one input to the endpoints; print the curl, the transcript and what each spec pointer found.",
    )
    attempt.add_argument("--base-url", required=True, metavar="URL", help="Where the service runs")
    attempt.add_argument(
        "--spec",
        type=Path,
        metavar="PATH",
        help="The service.yaml (default: beside --case, or the only one under cases/)",
    )
    attempt.add_argument(
        "--endpoint", choices=["qa", "prod", "both"], default="both", help="Which endpoint(s) (default: both)"
    )
    what = attempt.add_mutually_exclusive_group(required=True)
    what.add_argument("--input", metavar="JSON", help="The case input, as JSON")
    what.add_argument(
        "--case", metavar="FILE::ID", help="A case of a case file, e.g. cases/myservice/first.yaml::first"
    )
    attempt.add_argument(
        "--qa-token",
        metavar="TOKEN",
        help="Bearer token for auth: qa_token endpoints (env HARNESS_QA_TOKEN)",
    )
    attempt.add_argument(
        "--callback-secret",
        metavar="whsec_…",
        help="Secret to verify callbacks (env HARNESS_CALLBACK_SECRET)",
    )
    attempt.add_argument(
        "--callback-host",
        metavar="HOST",
        default="127.0.0.1",
        help="Interface the callback receiver listens on (default: 127.0.0.1)",
    )
    attempt.add_argument("--callback-url", metavar="URL", help="URL a remote service uses to reach the receiver")
    attempt.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help="Bound on each delivery (default: 60, as --harness-timeout)",
    )


def _init(args: argparse.Namespace) -> int:
    from harness._cli._init import plan_init, write_plan

    try:
        plan = plan_init(
            args.dir, service=args.service, preset=args.preset, openapi=args.openapi, base_url=args.base_url
        )
        written = write_plan(plan, force=args.force)
    except HarnessUsageError as exc:
        print(f"harness init: {exc}", file=sys.stderr)
        return USAGE_ERROR
    except HarnessError as exc:
        print(f"harness init: {exc}", file=sys.stderr)
        return 1
    for path in written:
        print(f"wrote {path}")
    for message in plan.messages:
        print(message)
    print(plan.next_steps(args.dir))
    return 0


def _try(args: argparse.Namespace) -> int:
    from harness._cli._try import TryOptions, case_input, case_service, find_spec, parse_input, run_try
    from harness._run._options import DEFAULT_TIMEOUT_S

    if args.timeout is not None and not args.timeout > 0:
        print("harness try: --timeout must be more than 0 seconds", file=sys.stderr)
        return USAGE_ERROR
    if not args.base_url.startswith(("http://", "https://")):
        print(f"harness try: --base-url must be an http(s) URL, got {args.base_url!r}", file=sys.stderr)
        return USAGE_ERROR
    try:
        if args.case is not None:
            case_file, case_id, service = case_service(args.case)
            loaded = find_spec(args.spec, case_file, service, [Path("cases")])
            sent = case_input(case_file, case_id, loaded.spec.service)
        else:
            loaded = find_spec(args.spec, None, None, [Path("cases")])
            sent = parse_input(args.input)
        endpoints = sent.endpoints if args.endpoint == "both" else (args.endpoint,)
        options = TryOptions(
            base_url=args.base_url,
            endpoints=endpoints,
            # Read here, not as argparse defaults: --help and the generated docs print defaults.
            qa_token=args.qa_token or os.environ.get("HARNESS_QA_TOKEN") or None,
            callback_secret=args.callback_secret or os.environ.get("HARNESS_CALLBACK_SECRET") or None,
            callback_host=args.callback_host,
            callback_url=args.callback_url,
            timeout_s=args.timeout or DEFAULT_TIMEOUT_S,
        )
        return run_try(loaded, sent, options, print)
    except HarnessUsageError as exc:
        print(f"harness try: {exc}", file=sys.stderr)
        return USAGE_ERROR
    except ServiceUnreachable as exc:
        print(f"harness try: {exc}", file=sys.stderr)
        return 1
    except HarnessError as exc:
        # A spec or case file that does not load: its message names file:line and the fix.
        print(f"harness try: {exc}", file=sys.stderr)
        return USAGE_ERROR


if __name__ == "__main__":
    raise SystemExit(main())
