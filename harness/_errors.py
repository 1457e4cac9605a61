"""The harness's exceptions.

    HarnessError                  root: a problem that is not a check failure
    ├── CaseFileError             a case file or service spec is invalid (file, line, fix)
    ├── HarnessUsageError         a bad option or option combination
    ├── ServiceUnreachable        the target refused or dropped the connection
    └── DeliveryTimeout           a bounded wait ran out (request, stream or callback)

    CheckFailed (AssertionError)  a check found the output wrong

Every message says what happened, where (file:line, case id, endpoint) and what to do next.
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


class DeliveryTimeout(HarnessError):
    """A bounded wait for a response, stream or callback ran out."""


class CheckFailed(AssertionError):
    """A check found the output wrong; the message says expected, got and where."""
