"""Bounded number types for file models: finite, in range, and an error that says the range.

pydantic's lax mode turns the YAML string ``"1e309"`` into ``inf`` and takes ``.nan``; ``gt=0`` lets
both through. Every field that bounds time, size or counts uses one of these types instead, so a
value outside its range is one error naming the key, the value and the range.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import BeforeValidator, Field
from pydantic_core import PydanticCustomError

from harness._model._limits import MAX_NEGATIVE_COUNT, MAX_NOISE_SAMPLES, MAX_REPEAT, MAX_SECONDS

__all__ = ["OUT_OF_RANGE", "Fraction", "HttpStatus", "NegativeCount", "NoiseSamples", "Repeat", "Seconds", "range_text"]

OUT_OF_RANGE = "number_out_of_range"
"""The pydantic error type of a bounded number outside its range."""


def range_text(low: float, high: float, *, low_open: bool = False, unit: str = "") -> str:
    """How a message states a range: ``more than 0 and at most 86400 seconds (24 h)``."""
    unit = f" {unit}" if unit else ""
    if low_open:
        return f"more than {low:g} and at most {high:g}{unit}"
    return f"from {low:g} to {high:g}{unit}"


def _checker(low: float, high: float, *, low_open: bool, unit: str) -> BeforeValidator:
    allowed = range_text(low, high, low_open=low_open, unit=unit)
    if unit == "seconds" and high == MAX_SECONDS:
        allowed += " (24 h)"

    def check(value: Any) -> Any:
        """Refuse non-finite and out-of-range numbers; anything else goes on to pydantic's type check."""
        number = value
        if isinstance(value, str):
            try:
                number = float(value.strip())
            except ValueError:
                return value  # not a number at all: pydantic says so
        if isinstance(number, bool) or not isinstance(number, int | float):
            return value
        if not math.isfinite(number) or number < low or number > high or (low_open and number == low):
            raise PydanticCustomError(
                OUT_OF_RANGE, "must be a finite number {allowed}", {"allowed": allowed, "low": low, "high": high}
            )
        return value

    return BeforeValidator(check)


# The Field bounds publish the range in the JSON Schema (editors flag a value out of range) and hold it
# for values the checker lets pass; the checker, a BeforeValidator after them, runs first and words the error.

Seconds = Annotated[float, Field(gt=0, le=MAX_SECONDS), _checker(0, MAX_SECONDS, low_open=True, unit="seconds")]
"""A time bound: more than 0 and at most a day."""

Fraction = Annotated[float, Field(ge=0, le=1), _checker(0, 1, low_open=False, unit="")]
"""A share or similarity: 0 to 1."""

Repeat = Annotated[int, Field(ge=1, le=MAX_REPEAT), _checker(1, MAX_REPEAT, low_open=False, unit="")]
"""How many times a case runs."""

NoiseSamples = Annotated[
    int, Field(ge=0, le=MAX_NOISE_SAMPLES), _checker(0, MAX_NOISE_SAMPLES, low_open=False, unit="")
]
"""Calls per endpoint for noise-aware parity (0: off)."""

NegativeCount = Annotated[
    int, Field(ge=1, le=MAX_NEGATIVE_COUNT), _checker(1, MAX_NEGATIVE_COUNT, low_open=False, unit="")
]
"""How many negative cases a spec generates."""

HttpStatus = Annotated[int, Field(ge=100, le=599), _checker(100, 599, low_open=False, unit="")]
"""An HTTP status code."""
