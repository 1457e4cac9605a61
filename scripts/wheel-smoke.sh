#!/usr/bin/env bash
# Build the sdist and, from it, the wheel; install the wheel alone in a fresh virtualenv and run two cases
# from an empty directory against the in-process reference services. This catches what the editable
# install hides: package data left out (schemas, fixtures, py.typed), a broken pytest11 entry point.
#
#   scripts/wheel-smoke.sh            # PYTHON=python3.12 scripts/wheel-smoke.sh for another interpreter
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
python="${PYTHON:-python}"
work="$(mktemp -d "${TMPDIR:-/tmp}/wheel-smoke.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# Build from a copy without build leftovers: a stale *.egg-info/SOURCES.txt in the checkout puts files in the
# sdist that the package data no longer declares, and the smoke test would pass for the wrong reason.
mkdir "$work/src"
tar -C "$repo" -cf - --exclude=.git --exclude=.venv --exclude='*.egg-info' --exclude=build --exclude=dist \
    --exclude=reports --exclude=node_modules --exclude=__pycache__ --exclude='.*_cache' . | tar -C "$work/src" -xf -
# sdist first, then the wheel from it: a file missing from the sdist fails here too.
"$python" -m build --outdir "$work/dist" "$work/src" >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
wheels=("$work"/dist/*.whl)
echo "wheel-smoke: built ${wheels[0]##*/}"

"$python" -m venv "$work/venv"
venv_python="$work/venv/bin/python"
"$venv_python" -m pip install --quiet --disable-pip-version-check "${wheels[0]}" >"$work/install.log" 2>&1 ||
    { cat "$work/install.log"; exit 1; }

# From here on only the venv's packages: not the checkout (the current directory) nor PYTHONPATH.
cd "$work"
unset PYTHONPATH

# Only the package data is checked by name; the run below proves the rest.
"$venv_python" - "$work/venv" <<'PY'
import sys
from importlib.resources import files

import harness
import reference_services

venv = sys.argv[1]
for module in (harness, reference_services):
    assert module.__file__.startswith(venv), f"{module.__name__} imported from {module.__file__}, not the wheel"
for resource in (
    files("harness") / "py.typed",
    files("harness") / "case-file.schema.json",
    files("reference_services") / "fixtures" / "question_bank.yaml",
    files("reference_services") / "fixtures" / "courses" / "macro201" / "_course.yaml",
):
    assert resource.is_file(), f"missing from the wheel: {resource}"
PY

project="$work/project"
mkdir -p "$project/cases/examgenerator" "$project/cases/studycompanion"
cp "$repo/cases/examgenerator/service.yaml" "$project/cases/examgenerator/"
cp "$repo/cases/studycompanion/service.yaml" "$project/cases/studycompanion/"
# Exams come from the question bank, answers from the course materials: both fixtures are exercised.
cat >"$project/cases/examgenerator/smoke.yaml" <<'YAML'
cases:
  - id: cells-3
    input: {course_title: Introduction to Biology, course_topic: Cell Structure, num_questions: 3}
    checks: [exam_format, question_count, choices_present]
    parity: structural
YAML
cat >"$project/cases/studycompanion/smoke.yaml" <<'YAML'
cases:
  - id: real-gdp
    input:
      user_id: u1
      course: Macroeconomics 201
      conversation_id: generated-per-run
      message: Can you explain the difference between nominal and real GDP?
    checks: [{expected_sources: {any_of: [macro201/lecture-notes-gdp]}}]
    parity: exact
YAML

cd "$project"
status=0
"$venv_python" -m pytest -p no:cacheprovider -v >"$work/pytest.log" 2>&1 || status=$?
expected=(
    "cases/examgenerator/smoke.yaml::cells-3::qa PASSED"
    "cases/examgenerator/smoke.yaml::cells-3::prod PASSED"
    "cases/examgenerator/smoke.yaml::cells-3::parity PASSED"
    "cases/studycompanion/smoke.yaml::real-gdp::qa PASSED"
    "cases/studycompanion/smoke.yaml::real-gdp::prod PASSED"
    "cases/studycompanion/smoke.yaml::real-gdp::parity PASSED"
)
missing=0
for line in "${expected[@]}"; do
    grep -qF "$line" "$work/pytest.log" || { echo "wheel-smoke: not in the output: $line"; missing=1; }
done
# Every item passed, and nothing else happened (the shipped specs add their generated negative cases).
if [[ $status -ne 0 || $missing -ne 0 ]] || ! grep -qE "^=+ [0-9]+ passed in " "$work/pytest.log"; then
    cat "$work/pytest.log"
    echo "wheel-smoke: FAILED (pytest exit code $status)"
    exit 1
fi
echo "wheel-smoke: $(grep -oE "^=+ [0-9]+ passed" "$work/pytest.log" | grep -oE "[0-9]+") items passed from the installed wheel"
