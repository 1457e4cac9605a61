"""qa-harness: evaluate and regression-test ML/LLM services through their production and QA endpoints.

The pytest plugin lives in ``harness.plugin`` (loaded through the ``pytest11`` entry point). This package
exports what users extend or call: the check registry, the parity hook for text structures, the result
types, the exceptions, and the Python API (``deliver``, ``run_check``, ``compare``, ``assert_passed``; in
tests the ``harness_deliver``, ``harness_target`` and ``reference_services`` fixtures).

Names are imported on first access (PEP 562): pytest imports this package in every run of every project
the plugin is installed in, and most of those runs never touch a check or a parity report.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness._delivery._outcome import (
        Outcome,
        Problem,
        Timings,
    )
    from harness._errors import (
        CaseFileError,
        CheckFailed,
        HarnessError,
        HarnessUsageError,
        ServiceUnreachable,
    )
    from harness._model._spec import (
        ServiceSpec,
    )
    from harness._run._api import (
        Deliverer,
        acompare,
        adeliver,
        arun_check,
        assert_passed,
        compare,
        deliver,
        failure_lines,
        find_service_spec,
        run_check,
    )
    from harness._run._target import (
        Target,
    )
    from harness._verdict._checks import (
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
    from harness._verdict._parity import (
        ParityReport,
        compare_with_noise,
    )
    from harness._verdict._structures import register_text_structure

_EXPORTS = {
    "harness._run._api": (
        "Deliverer",
        "adeliver",
        "acompare",
        "arun_check",
        "assert_passed",
        "compare",
        "deliver",
        "failure_lines",
        "find_service_spec",
        "run_check",
    ),
    "harness._verdict._checks": (
        "CheckContext",
        "CheckResult",
        "CheckSettings",
        "RegisteredCheck",
        "check",
        "check_names",
        "get_check",
        "parse_exam",
        "register_check",
    ),
    "harness._errors": (
        "CaseFileError",
        "CheckFailed",
        "HarnessError",
        "HarnessUsageError",
        "ServiceUnreachable",
    ),
    "harness._delivery._outcome": (
        "Outcome",
        "Problem",
        "Timings",
    ),
    "harness._verdict._parity": (
        "ParityReport",
        "compare_with_noise",
    ),
    "harness._verdict._structures": ("register_text_structure",),
    "harness._run._target": ("Target",),
    "harness._model._spec": ("ServiceSpec",),
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}

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
    "acompare",
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
    "register_text_structure",
    "run_check",
]


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'harness' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # once: later lookups are plain module attributes
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
