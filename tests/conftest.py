"""Fixtures shared by every folder of the harness's own tests; the code behind them is in tests/support."""

from __future__ import annotations

import pytest

# Support modules hold assert helpers (assert_exam); rewrite them like test modules for useful failure messages.
pytest.register_assert_rewrite("tests.support")

from tests.support.pytester_project import Project  # noqa: E402 (after register_assert_rewrite, on purpose)


@pytest.fixture
def project(pytester: pytest.Pytester) -> Project:
    """An empty pytester project (no cache provider) to write specs and case files into."""
    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider\n")
    return Project(pytester)
