"""llm_judge graded by the embedded model, and noise-aware parity against a model that varies its wording."""

from __future__ import annotations

import pytest

from tests.support.pytester_project import Project

GDP_INPUT = (
    "{user_id: u1, course: Macroeconomics 201, conversation_id: generated-per-run, "
    "message: 'Can you explain the difference between nominal and real GDP?'}"
)

JUDGED = f"""\
cases:
  - id: covered
    input: {GDP_INPUT}
    checks:
      - llm_judge:
          rubric: Must mention "current prices", "base-year prices" and "inflation".
  - id: uncovered
    input: {GDP_INPUT}
    checks:
      - llm_judge:
          rubric: Must mention "current prices", "chain-weighted index" and "purchasing power parity".
          threshold: 0.5
"""

# Unseeded sampling at temperature 0.5: the reference model varies opener, lead-in, closing remark and
# sentence order between calls, never the sentences it quotes.
NOISY_TARGET = """\
from reference_services.inprocess import start_stack


def start(*, faults=(), model_latency_ms=0.0):
    return start_stack(
        faults=faults,
        model_latency_ms=model_latency_ms,
        settings_overrides={"seed": None, "temperature": 0.5},
    )
"""

NOISY = f"""\
cases:
  - id: noise-aware
    input: {GDP_INPUT}
    parity: {{level: semantic, noise_samples: 4}}
  - id: fixed-threshold
    description: >-
      One QA and one prod sample per repeat; with the embedded model's embeddings a pair of samples scores
      >= 0.99 about one time in ten (>= 0.95 two times in three: too often for five repeats to fail reliably).
    input: {GDP_INPUT}
    parity: {{level: semantic, threshold: 0.99}}
    repeat: 5
"""

# All eight Chemistry/Atoms questions: unseeded sampling only reorders them, so the substance is fixed.
# Lexical: the noise calibration is under test here, not the embedding. A sentence embedding rates an exam with its
# choices dropped close in meaning to the whole exam (as it is), so with MiniLM the margin was a coin toss; the
# exam's structure is what structural parity checks.
EXAM_NOISY = """\
cases:
  - id: atoms-all
    input: {course_title: Chemistry, course_topic: Atoms, num_questions: 8}
    parity: {level: lexical, noise_samples: 3}
"""


def test_llm_judge_reports_score_threshold_and_reason(project: Project) -> None:
    project.chat_service()
    project.write("cases/studycompanion/judged.yaml", JUDGED)
    result = project.pytester.runpytest()
    result.assert_outcomes(passed=4, failed=2)
    result.stdout.fnmatch_lines(
        [
            "*uncovered::qa*",
            '*llm_judge: score 0.33 below threshold 0.50 for rubric \'Must mention "current prices", '
            '"chain-weighted index" and "purchasing power parity".\'; grader\'s reason: misses 2 of 3 required '
            "points: 'chain-weighted index', 'purchasing power parity' (covers 'current prices')",
        ]
    )
    failed = {r.nodeid.rsplit("::", 2)[-2] for r in result.reprec.getreports("pytest_runtest_logreport") if r.failed}
    assert failed == {"uncovered"}


def _noisy(project: Project) -> None:
    project.pytester.makeini("[pytest]\naddopts = -p no:cacheprovider\nharness_local_target = noisy_services:start\n")
    project.write("noisy_services.py", NOISY_TARGET)
    project.pytester.syspathinsert()


def test_noise_aware_parity_passes_where_a_fixed_threshold_fails(project: Project) -> None:
    _noisy(project)
    project.chat_service()
    project.write("cases/studycompanion/noisy.yaml", NOISY)
    result = project.pytester.runpytest("-k", "parity")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        ["*fixed-threshold::parity*", "*semantic parity failed: similarity 0.* < threshold 0.99*"]
    )
    passed = [r for r in result.reprec.getreports("pytest_runtest_logreport") if r.passed and r.when == "call"]
    assert [r.nodeid.rsplit("::", 2)[-2] for r in passed] == ["noise-aware"]


def test_noise_aware_parity_catches_a_prod_that_drops_content(project: Project) -> None:
    _noisy(project)
    project.exam_service()
    project.write("cases/examgenerator/noisy.yaml", EXAM_NOISY)
    healthy = project.pytester.runpytest("-k", "parity")
    healthy.assert_outcomes(passed=1)
    faulty = project.pytester.runpytest("-k", "parity", "--reference-faults", "prod_drops_choices")
    faulty.assert_outcomes(failed=1)
    faulty.stdout.fnmatch_lines(
        ["*noise parity failed: cross similarity 0.* < noise floor 0.* (qa vs itself *, prod vs itself *"]
    )


@pytest.fixture(autouse=True)
def _embedded_grader(monkeypatch: pytest.MonkeyPatch) -> None:
    """Grade with the embedded model even where the environment names a real grader."""
    monkeypatch.delenv("HARNESS_JUDGE_URL", raising=False)
    monkeypatch.delenv("HARNESS_JUDGE_MODEL", raising=False)
