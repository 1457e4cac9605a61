"""The harness's exceptions.

    HarnessError                  root: a problem that is not a check failure
    ├── CaseFileError             a case file or service spec is invalid (file, line, fix)
    ├── HarnessUsageError         a bad option or option combination
    └── ServiceUnreachable        the target refused the connection or could not be resolved

    CheckFailed (AssertionError)  a check found the output wrong
    CheckSkipped                  a check cannot run here (e.g. no grader configured); the item is skipped

A bounded wait that runs out is not an exception: it is a named ``timeout`` problem on the outcome,
judged like any other delivery failure. Every message says what happened, where (file:line, case id,
endpoint) and what to do next.
"""

from __future__ import annotations


class HarnessError(Exception):
    """A problem that is not the output failing a check."""


class CaseFileError(HarnessError):
    """A case file or service spec that cannot be loaded."""

    def __init__(self, path: str, line: int | None, message: str, fix: str = "") -> None:
        self.path = path
        self.line = line
        self.fix = fix
        where = f"{path}:{line}" if line else path
        text = f"{where}: {message}"
        if fix:
            text += f"\n  fix: {fix}"
        super().__init__(text)


class HarnessUsageError(HarnessError):
    """An option value the harness cannot use."""


class ServiceUnreachable(HarnessError):
    """The service under test could not be reached at all."""


class CheckFailed(AssertionError):
    """A check found the output wrong; the message says expected, got and where."""


class CheckSkipped(Exception):
    """A check that cannot run in this setting (e.g. no grader configured); the message says what to set."""


class CheckNotApplicable(Exception):
    """A check with nothing to judge in this answer (output checks on an expected rejection): a pass that says so."""
