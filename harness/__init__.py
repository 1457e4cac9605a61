"""qa-harness: evaluate and regression-test ML/LLM services through their production and QA endpoints.

The pytest plugin lives in ``harness.plugin`` (loaded through the ``pytest11`` entry point). This package
exports what users extend or call: the check registry, the result types and the exceptions.
"""

from __future__ import annotations

from harness._checks import (
    CheckContext,
    CheckResult,
    CheckSettings,
    RegisteredCheck,
    check,
    check_names,
    get_check,
    parse_exam,
    register_check,
)
from harness._errors import (
    CaseFileError,
    CheckFailed,
    HarnessError,
    HarnessUsageError,
    ServiceUnreachable,
)
from harness._outcome import Outcome, Problem, Timings
from harness._parity import ParityReport, compare, compare_with_noise

__all__ = [
    "CaseFileError",
    "CheckContext",
    "CheckFailed",
    "CheckResult",
    "CheckSettings",
    "HarnessError",
    "HarnessUsageError",
    "Outcome",
    "ParityReport",
    "Problem",
    "RegisteredCheck",
    "ServiceUnreachable",
    "Timings",
    "check",
    "check_names",
    "compare",
    "compare_with_noise",
    "get_check",
    "parse_exam",
    "register_check",
]
