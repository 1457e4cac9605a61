"""The check library: a registry of named checks and the built-in ones.

Importing this package registers the built-in checks. Users add their own with ``@check("name")``.
"""

from __future__ import annotations

# The built-in checks register on import; the exam extension (checks and a parity text structure) last.
from harness._verdict._checks import _http, _judge, _quality, _text
from harness._verdict._checks._http import ErrorBody, classify_error_body
from harness._verdict._checks._registry import (
    CheckContext,
    CheckFn,
    CheckResult,
    CheckSettings,
    RegisteredCheck,
    check,
    check_names,
    get_check,
    register_check,
    run_check,
    unregister_check,
)
from harness._verdict._exam import ExamQuestion, FormatError, ParsedExam, parse_exam
from harness._verdict._exam import _checks as _exam_checks

del _exam_checks, _http, _judge, _quality, _text

__all__ = [
    "CheckContext",
    "CheckFn",
    "CheckResult",
    "CheckSettings",
    "ErrorBody",
    "ExamQuestion",
    "FormatError",
    "ParsedExam",
    "RegisteredCheck",
    "check",
    "check_names",
    "classify_error_body",
    "get_check",
    "parse_exam",
    "register_check",
    "run_check",
    "unregister_check",
]
