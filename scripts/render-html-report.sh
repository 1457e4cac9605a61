#!/usr/bin/env bash
# Render <report dir>/allure-results as a static HTML report with the Allure 3 CLI from npm (Node, no Java).
#
#   scripts/render-html-report.sh [REPORT_DIR] [OUTPUT_DIR]
#
# REPORT_DIR defaults to reports (the --harness-report-dir default), OUTPUT_DIR to REPORT_DIR/html.
# Open OUTPUT_DIR/index.html through a web server (e.g. `npx --yes allure@3.18.0 open OUTPUT_DIR`
# or `python -m http.server -d OUTPUT_DIR`); set ALLURE_SINGLE_FILE=1 for one self-contained index.html
# that opens straight from disk. ALLURE_VERSION overrides the pinned CLI version.
set -euo pipefail

report_dir="${1:-reports}"
output_dir="${2:-$report_dir/html}"
version="${ALLURE_VERSION:-3.18.0}"
results="$report_dir/allure-results"

if ! command -v npx >/dev/null 2>&1; then
  echo "render-html-report: npx not found; install Node.js 20+ (it ships npm and npx)" >&2
  exit 2
fi
if [ ! -d "$results" ]; then
  echo "render-html-report: no $results; run pytest first (it writes allure results to <--harness-report-dir>/allure-results)" >&2
  exit 2
fi

extra=()
if [ "${ALLURE_SINGLE_FILE:-0}" = "1" ]; then
  extra+=(--single-file)
fi

npx --yes "allure@$version" awesome "$results" --output "$output_dir" --report-name "${ALLURE_REPORT_NAME:-qa-harness}" "${extra[@]}"
echo "HTML report: $output_dir/index.html"
