"""Helpers for unit tests of the engine: build outcomes and run a check synchronously."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from harness._delivery._outcome import Outcome, Timings
from harness._verdict._checks import CheckContext, CheckResult, CheckSettings, run_check


def _make_outcome(
    text: str | None = None,
    *,
    endpoint: str = "qa",
    delivery: str = "sync",
    status: int | None = 200,
    body: Any = None,
    sources: list[str] | None = None,
    metadata: dict[str, Any] | None = None,
    total_s: float | None = 0.1,
    ttft_s: float | None = None,
) -> Outcome:
    """An outcome as a delivery adapter would produce it."""
    if body is None and text is not None:
        body = {"text": text}
    return Outcome(
        endpoint=endpoint,
        delivery=delivery,
        status=status,
        body=body,
        text=text,
        sources=sources,
        metadata=metadata or {},
        timings=Timings(total_s=total_s, ttft_s=ttft_s),
    )


RunCheck = Callable[..., CheckResult]
MakeOutcome = Callable[..., Outcome]


@pytest.fixture
def make_outcome() -> MakeOutcome:
    """``make_outcome(text, status=..., body=..., sources=..., metadata=..., ...)`` → Outcome."""
    return _make_outcome


@pytest.fixture
def check_on() -> RunCheck:
    """``check_on(name, arg, outcome, input=..., other=..., settings=...)`` → CheckResult."""

    def run(
        name: str,
        arg: Any,
        outcome: Outcome,
        *,
        input: Any = None,
        other: Outcome | None = None,
        settings: CheckSettings | None = None,
    ) -> CheckResult:
        ctx = CheckContext(
            case_id="case-1",
            endpoint="parity" if other is not None else outcome.endpoint,
            outcome=outcome,
            input=input,
            other=other,
            settings=settings or CheckSettings(),
        )
        return asyncio.run(run_check(name, ctx, arg))

    return run
