"""Delivery problem kinds are declared once: every kind the engine creates is declared, and none is dead."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import harness
from harness._delivery._outcome import Problem
from harness._delivery._problems import PROBLEMS

ENGINE = Path(harness.__file__).parent
# Problem("kind", ...) and Problem(\n "kind", ...), and the name of a broken connection's problem (broken="kind")
CREATED = re.compile(r"""(?:Problem\(\s*|broken(?::\s*str)?\s*=\s*)"([a-z_]+)\"""")


def created_kinds() -> set[str]:
    kinds: set[str] = set()
    for path in ENGINE.rglob("*.py"):
        if path.name != "_problems.py":
            kinds.update(CREATED.findall(path.read_text(encoding="utf-8")))
    return kinds


def test_every_created_problem_kind_is_declared() -> None:
    assert created_kinds() - PROBLEMS.keys() == set()


def test_every_declared_problem_kind_is_created_somewhere() -> None:
    assert PROBLEMS.keys() - created_kinds() == set()


def test_an_undeclared_kind_is_refused_at_once() -> None:
    with pytest.raises(ValueError, match="undeclared delivery problem kind 'callback_nevr_arrived'"):
        Problem("callback_nevr_arrived", "a typo")


def test_each_declared_kind_says_what_it_means() -> None:
    for kind in PROBLEMS.values():
        assert kind.meaning[:1].islower(), kind.kind
        assert not kind.meaning.endswith("."), kind.kind
