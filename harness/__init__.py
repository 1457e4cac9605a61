"""qa-harness: evaluate and regression-test ML/LLM services through their production and QA endpoints.

The pytest plugin lives in ``harness.plugin`` (loaded through the ``pytest11`` entry point). This package
exports what users extend or call: the check registry, the result types, the exceptions, and the Python API
(``deliver``, ``run_check``, ``compare``, ``assert_passed``; in tests the ``harness_deliver``,
``harness_target`` and ``reference_services`` fixtures).
"""

from __future__ import annotations

from harness._api import (
    Deliverer,
    adeliver,
    arun_check,
    assert_passed,
    compare,
    deliver,
    failure_lines,
    find_service_spec,
    run_check,
)
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
from harness._parity import ParityReport, compare_with_noise
from harness._runner import Target
from harness._spec import ServiceSpec

__all__ = [
    "CaseFileError",
    "CheckContext",
    "CheckFailed",
    "CheckResult",
    "CheckSettings",
    "Deliverer",
    "HarnessError",
    "HarnessUsageError",
    "Outcome",
    "ParityReport",
    "Problem",
    "RegisteredCheck",
    "ServiceSpec",
    "ServiceUnreachable",
    "Target",
    "Timings",
    "adeliver",
    "arun_check",
    "assert_passed",
    "check",
    "check_names",
    "compare",
    "compare_with_noise",
    "deliver",
    "failure_lines",
    "find_service_spec",
    "get_check",
    "parse_exam",
    "register_check",
    "run_check",
]
