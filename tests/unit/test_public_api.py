"""The package exports a curated, sorted ``__all__`` and every name in it exists."""

from __future__ import annotations

import harness


def test_all_is_sorted_and_complete() -> None:
    assert harness.__all__ == sorted(harness.__all__)
    missing = [name for name in harness.__all__ if not hasattr(harness, name)]
    assert missing == []


def test_public_names_have_docstrings() -> None:
    undocumented = [name for name in harness.__all__ if not (getattr(harness, name).__doc__ or "").strip()]
    assert undocumented == []


def test_exports_and_all_agree() -> None:
    # The lazy export table and __all__ name the same things.
    assert sorted(harness._MODULE_OF) == harness.__all__
