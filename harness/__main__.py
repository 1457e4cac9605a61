"""``harness`` command line: ``harness schema [case-file|service-spec] [--write]``, ``harness merge``,
``harness record`` and ``harness import-har`` (cases from traffic)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from harness._errors import HarnessUsageError


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
    from harness._record._cli import add_commands  # argparse only; the recorder loads when a command runs

    add_commands(commands)
    args = parser.parse_args(argv)
    if args.command in ("record", "import-har"):
        from harness._record._cli import run

        return run(args)
    if args.command == "merge":
        return _merge(args.shards, args.output)
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


if __name__ == "__main__":
    raise SystemExit(main())
