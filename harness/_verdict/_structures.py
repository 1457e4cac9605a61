"""The parity hook for text structures: domain knowledge (an exam, a table, ...) plugs in here, not into parity.

Structural parity compares two output texts by every registered structure. The built-in exam extension
registers one; users register theirs with ``harness.register_text_structure``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class TextStructure:
    """A structure some output texts have (an exam, a table, ...), which structural parity compares."""

    name: str
    differences: Callable[[str, str], list[str]]
    """``(qa_text, prod_text)`` -> how their structures differ; empty when they agree or neither has it."""
    describe: Callable[[str], str | None]
    """A text's structure in a few words for a passing report (``5 questions``); None when it has none."""


_TEXT_STRUCTURES: dict[str, TextStructure] = {}


def register_text_structure(
    name: str, differences: Callable[[str, str], list[str]], describe: Callable[[str], str | None]
) -> None:
    """Teach structural parity a text structure (registering a name again replaces it)."""
    _TEXT_STRUCTURES[name] = TextStructure(name, differences, describe)


def text_structures() -> list[TextStructure]:
    """Every registered structure, the built-in extensions' included (imported with the check library)."""
    import harness._verdict._checks  # noqa: F401  (registers the built-in extensions on first import)

    return list(_TEXT_STRUCTURES.values())
