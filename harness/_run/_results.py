"""What running a case produced: each endpoint's turns and checks, parity, repeats, and their failure lines."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from harness._delivery._exchange import quote_body
from harness._delivery._outcome import Outcome, Problem, is_success
from harness._delivery._problems import blocks_output
from harness._errors import HarnessError
from harness._model._case import ResolvedCase
from harness._verdict._checks import CheckResult
from harness._verdict._parity import ParityReport


def judge_answer(case: ResolvedCase, outcome: Outcome, secrets: tuple[str, ...]) -> None:
    """The problems that depend on what the case expects, added to (or taken from) ``outcome``.

    An error status the case does not expect is named once with the service's words (``server_error``,
    ``request_rejected``) instead of every output check failing on "got none". A case that expects an error
    takes a failed job as its answer, and an error answer has no output text to miss: its checks speak.
    """
    if case.expects_error:
        outcome.problems = [p for p in outcome.problems if p.kind not in ("job_failed", "output_missing")]
        return
    status = outcome.status
    if status is None or is_success(status) or case.expects_status(status):
        return
    if any(blocks_output(p.kind) for p in outcome.problems):
        return  # already named (a timeout after the status line, say)
    said = f"{outcome.endpoint} answered {status}: {quote_body(outcome.body, secrets)}"
    outcome.problems.append(Problem("server_error", said) if status >= 500 else Problem("request_rejected", said))


def problem_lines(outcome: Outcome) -> list[str]:
    """An outcome's delivery problems as failure lines (``kind: message``)."""
    return [f"{p.kind}: {p.message}" for p in outcome.problems]


def check_lines(checks: Iterable[CheckResult]) -> list[str]:
    """Failed checks as failure lines (``name: message``)."""
    return [f"{c.name}: {c.message}" for c in checks if not c.passed]


def parity_lines(report: ParityReport, prefix: str = "", *, verdict: str = "{level} parity failed") -> list[str]:
    """A failed comparison as failure lines: the verdict, then its diffs (none when it passed)."""
    if report.passed:
        return []
    lines = [f"{prefix}{verdict.format(level=report.level)}: {report.summary}"]
    return lines + [diff for diff in (report.text_diff, report.json_diff) if diff]


def golden_lines(report: ParityReport) -> list[str]:
    """A failed golden-output comparison as failure lines: the verdict, then its diffs."""
    return parity_lines(report, verdict="golden output differs ({level})")


@dataclass
class TurnResult:
    """One endpoint's output for one turn and the checks run on it."""

    outcome: Outcome
    checks: list[CheckResult] = field(default_factory=list)
    golden: ParityReport | None = None
    """The output against the case's golden output, when it has one."""

    @property
    def skipped(self) -> list[str]:
        """Checks that could not run here, with why."""
        return [f"{c.name}: {c.message}" for c in self.checks if c.skipped]

    @property
    def failures(self) -> list[str]:
        """Delivery problems, failed checks and a golden output missed, one line each (diffs after)."""
        golden = golden_lines(self.golden) if self.golden is not None else []
        return problem_lines(self.outcome) + check_lines(self.checks) + golden


@dataclass
class SideRun:
    """Everything one endpoint delivered for one run of a case."""

    endpoint: str
    turns: list[TurnResult] = field(default_factory=list)
    error: HarnessError | None = None
    """Not the service's output failing: unreachable, or a harness problem."""

    @property
    def passed(self) -> bool:
        """No infrastructure error, no delivery problem, every check passed."""
        return self.error is None and all(not t.failures for t in self.turns)

    def failure_text(self) -> str:
        """Readable failures, prefixed with the turn when there are several."""
        if self.error is not None:
            return str(self.error)
        lines = []
        for number, turn in enumerate(self.turns, 1):
            prefix = f"turn {number}: " if len(self.turns) > 1 else ""
            lines += [prefix + line for line in turn.failures]
        return "\n".join(lines)


@dataclass
class ParityRun:
    """QA against prod for one run: a parity report per turn and the pair checks."""

    reports: list[ParityReport] = field(default_factory=list)
    checks: list[CheckResult] = field(default_factory=list)
    blocked: str | None = None
    """Why parity could not be judged (a side delivered nothing)."""

    @property
    def passed(self) -> bool:
        """Parity held on every turn and every pair check passed."""
        return self.blocked is None and all(r.passed for r in self.reports) and all(c.passed for c in self.checks)

    def failure_text(self) -> str:
        """Readable failures with their diffs."""
        if self.blocked:
            return self.blocked
        parts: list[str] = []
        for number, report in enumerate(self.reports, 1):
            parts += parity_lines(report, f"turn {number}: " if len(self.reports) > 1 else "")
        return "\n".join(parts + check_lines(self.checks))


@dataclass
class CaseRun:
    """One repeat of a case."""

    sides: dict[str, SideRun]
    parity: ParityRun | None


@dataclass
class CaseResult:
    """All repeats of a case."""

    case: ResolvedCase
    runs: list[CaseRun]
    records: dict[str, dict[str, Any]] = field(default_factory=dict, compare=False, repr=False)
    """Each part's record once built (``records.part_record``): a parity item's report reuses its sides'."""

    def pass_rate(self, part: str) -> float:
        """Share of repeats in which ``part`` (qa, prod or parity) passed."""
        outcomes = [self._passed(run, part) for run in self.runs]
        return sum(outcomes) / len(outcomes) if outcomes else 0.0

    def passed(self, part: str) -> bool:
        """The part's pass rate meets the case's ``min_pass_rate``."""
        return self.pass_rate(part) >= self.case.min_pass_rate - 1e-9

    def first_failure(self, part: str) -> str:
        """The failure text of the first repeat where ``part`` failed."""
        for number, run in enumerate(self.runs, 1):
            if not self._passed(run, part):
                text = run.parity.failure_text() if part == "parity" and run.parity else run.sides[part].failure_text()
                return f"(repeat {number}) {text}" if len(self.runs) > 1 else text
        return ""

    def failure(self, part: str) -> str:
        """The item's failure message: the pass rate when repeated, then the first failing repeat's failures."""
        text = self.first_failure(part)
        if len(self.runs) > 1:
            rate = f"pass rate {self.pass_rate(part):.0%} over {len(self.runs)} runs"
            text = f"{rate}, below min_pass_rate {self.case.min_pass_rate:.0%}\n{text}"
        return text

    def skipped_checks(self, part: str) -> list[str]:
        """Checks of ``part`` that could not run here (the same in every repeat), with why."""
        reasons: list[str] = []
        for run in self.runs:
            checks = run.parity.checks if part == "parity" and run.parity else []
            turns = run.sides[part].turns if part in run.sides else []
            lines = [f"{c.name}: {c.message}" for c in checks if c.skipped]
            lines += [line for turn in turns for line in turn.skipped]
            reasons += [line for line in lines if line not in reasons]
        return reasons

    def infrastructure_error(self) -> HarnessError | None:
        """The first error that is not the service's output failing (e.g. unreachable)."""
        for run in self.runs:
            for side in run.sides.values():
                if side.error is not None:
                    return side.error
        return None

    @staticmethod
    def _passed(run: CaseRun, part: str) -> bool:
        if part == "parity":
            return run.parity is not None and run.parity.passed
        return run.sides[part].passed
