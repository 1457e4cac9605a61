"""Which similarity judged `semantic` parity: the embedded model's embeddings, a given embedder, or the same
learned model in this process when `--base-url` comes with no embedder; the report names the model each time."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from reference_services import RunningStack, start_stack
from tests.support.pytester_project import Project

SEMANTIC = """\
cases:
  - id: gdp
    input: {user_id: u1, course: Macroeconomics 201, conversation_id: per-run, message: What is real GDP?}
    parity: semantic
  - id: gdp-lexical
    input: {user_id: u1, course: Macroeconomics 201, conversation_id: per-run, message: What is real GDP?}
    parity: {level: lexical, threshold: 0.9}
"""


@pytest.fixture(scope="module")
def staging() -> Iterator[RunningStack]:
    stack = start_stack()
    yield stack
    stack.stop()


def _judges(project: Project) -> dict[str, str]:
    run = json.loads((project.root / "reports" / "run.json").read_text(encoding="utf-8"))
    return {
        case["case_id"]: case["parts"]["parity"]["runs"][0]["reports"][0]["judge"]
        for case in run["cases"]
        if "parity" in case["parts"]
    }


def _thresholds(project: Project) -> dict[str, float]:
    run = json.loads((project.root / "reports" / "run.json").read_text(encoding="utf-8"))
    return {
        case["case_id"]: case["parts"]["parity"]["runs"][0]["reports"][0]["threshold"]
        for case in run["cases"]
        if "parity" in case["parts"]
    }


def test_the_report_names_the_judge(project: Project, staging: RunningStack) -> None:
    project.chat_service()
    project.write("cases/studycompanion/semantic.yaml", SEMANTIC)
    in_process = project.run()
    in_process.assert_outcomes(passed=6)
    assert _judges(project) == {"gdp": "embeddings: all-MiniLM-L6-v2", "gdp-lexical": "lexical: word+bigram cosine"}
    assert _thresholds(project)["gdp"] == 0.45  # the documented default for semantic

    remote = ["--base-url", staging.base_url, "--harness-qa-token", staging.qa_token]
    project.run(*remote).assert_outcomes(passed=6)
    assert _judges(project)["gdp"] == "embeddings: all-MiniLM-L6-v2"  # no embedder: the local model, not lexical

    given = project.run(*remote, "--harness-embeddings-url", staging.model_base_url, "--harness-embeddings-model", "e5")
    given.assert_outcomes(passed=6)
    assert _judges(project)["gdp"] == "embeddings: all-MiniLM-L6-v2"  # the model the server says answered


def test_an_unreachable_embedder_fails_parity_naming_it(project: Project, staging: RunningStack) -> None:
    project.chat_service()
    project.write("cases/studycompanion/semantic.yaml", SEMANTIC)
    result = project.run("-k", "gdp and not lexical", "--harness-embeddings-url", "http://127.0.0.1:9/v1")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*semantic parity failed: parity not judged: could not get embeddings from the embedder at "
            "http://127.0.0.1:9/v1 (model reference-embedding)*"
        ]
    )
