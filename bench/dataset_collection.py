"""Collection time of N cases written inline in YAML vs N rows of a JSONL dataset filling a template.

Times ``pytest --collect-only`` in a fresh process for each (best of ``--repeat``), and the engine alone
(``parse_case_file`` + ``resolve_cases``), at N/2 and N to show both grow linearly.

    python bench/dataset_collection.py --cases 10000
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _specs import CHAT_SPEC  # bench/ is on sys.path: these scripts run as files

from harness._model._case import parse_case_file, resolve_cases

DEFAULTS = "defaults:\n  checks: [retrieval_miss, no_mojibake, no_pii, model_version_equal]\n  parity: exact\n"


def row(n: int) -> dict[str, object]:
    return {
        "id": f"q{n}",
        "question": f"What is question {n} about GDP?",
        "sources": ["macro201/lecture-notes-gdp"],
        "must_contain": ["gdp", f"w{n % 7}"],
    }


def write_inline(folder: Path, n: int) -> Path:
    lines = [DEFAULTS, "cases:"]
    for i in range(n):
        r = row(i)
        message, sources, words = (json.dumps(r[key]) for key in ("question", "sources", "must_contain"))
        lines.append(
            f"  - id: {r['id']}\n"
            f"    input: {{user_id: u1, course: Macroeconomics 201, conversation_id: ds, message: {message}}}\n"
            f"    checks: [{{expected_sources: {sources}}}, {{icontains: {words}}}]"
        )
    path = folder / "inline.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_dataset(folder: Path, n: int) -> Path:
    (folder / "rows.jsonl").write_text("".join(json.dumps(row(i)) + "\n" for i in range(n)), encoding="utf-8")
    path = folder / "dataset.yaml"
    path.write_text(
        DEFAULTS
        + "dataset: {file: rows.jsonl}\n"
        + "template:\n"
        + '  id: "${id}"\n'
        + '  input: {user_id: u1, course: Macroeconomics 201, conversation_id: ds, message: "${question}"}\n'
        + '  checks: [{expected_sources: "${sources}"}, {icontains: "${must_contain}"}]\n',
        encoding="utf-8",
    )
    return path


def engine_seconds(path: Path) -> float:
    start = time.perf_counter()
    parsed, doc = parse_case_file(path, path.name)
    resolve_cases(parsed, doc, "studycompanion")
    return time.perf_counter() - start


def collect_seconds(root: Path, case_file: Path, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", str(case_file)],
            cwd=root,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "pytest.ini").write_text("[pytest]\nharness_case_paths = cases\n", encoding="utf-8")
        print(f"{'cases':>7} | {'form':<7} | {'engine':>8} | {'pytest --collect-only':>22}")
        for n in (args.cases // 2, args.cases):
            for form, write in (("inline", write_inline), ("dataset", write_dataset)):
                folder = root / "cases" / f"{form}-{n}"
                folder.mkdir(parents=True)
                (folder / "service.yaml").write_text(CHAT_SPEC, encoding="utf-8")
                path = write(folder, n)
                engine = engine_seconds(path)
                collect = collect_seconds(root, path, args.repeat)
                print(f"{n:>7} | {form:<7} | {engine:>7.2f}s | {collect:>21.2f}s")


if __name__ == "__main__":
    main()
