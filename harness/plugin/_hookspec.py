"""Hooks qa-harness adds to pytest (registered by ``harness.plugin`` through ``pytest_addhooks``)."""

from __future__ import annotations

from typing import Any

import pytest


def pytest_harness_record(item: pytest.Item, record: dict[str, Any], sides: dict[str, dict[str, Any]] | None) -> None:
    """An item's record is ready, while the item still runs (so reporters can attach to it).

    Called in the process running the item (each xdist worker). ``record`` is the JSON-ready dict of
    ``harness._report.records.part_record``; the same dict reaches the controller on the call report as
    ``report.harness_record``. ``sides``: for a parity item, the records of the QA and prod parts it compares
    (None otherwise).
    """
