"""``harness`` command line: ``harness schema [case-file|service-spec] [--write]``."""

from __future__ import annotations

import argparse
import sys

from harness._schema import SCHEMA_FILES, render


def main(argv: list[str] | None = None) -> int:
    """Print or write the published JSON Schemas."""
    parser = argparse.ArgumentParser(prog="harness", description="qa-harness utilities.")
    commands = parser.add_subparsers(dest="command", required=True)
    schema = commands.add_parser("schema", help="Print the JSON Schema of case files or service specs.")
    schema.add_argument("kind", nargs="?", choices=sorted(SCHEMA_FILES), default="case-file")
    schema.add_argument("--write", action="store_true", help="Write every schema to its file in the package.")
    args = parser.parse_args(argv)
    if args.write:
        for kind, path in SCHEMA_FILES.items():
            path.write_text(render(kind), encoding="utf-8")
            print(f"wrote {path}")
        return 0
    sys.stdout.write(render(args.kind))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
