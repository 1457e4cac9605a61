"""Fixtures for the reference-services tests: in-process stacks and a real callback receiver."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from reference_services import RunningStack, start_stack
from tests.support.callback_receiver import CallbackReceiver


@pytest.fixture(scope="session")
def make_stack() -> Iterator[Callable[..., RunningStack]]:
    """Start stacks by fault list; each distinct configuration starts once per session."""
    stacks: dict[str, RunningStack] = {}

    def make(*faults: str, **overrides: Any) -> RunningStack:
        key = json.dumps([sorted(faults), overrides], sort_keys=True)
        if key not in stacks:
            stacks[key] = start_stack(faults=faults, settings_overrides=overrides or None)
        return stacks[key]

    yield make
    for stack in stacks.values():
        stack.stop()


@pytest.fixture(scope="session")
def stack(make_stack: Callable[..., RunningStack]) -> RunningStack:
    """A healthy stack (no faults)."""
    return make_stack()


@pytest.fixture(scope="session")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10.0) as c:
        yield c


@pytest.fixture(scope="session")
def receiver_server() -> Iterator[CallbackReceiver]:
    server = CallbackReceiver()
    yield server
    server.close()


@pytest.fixture
def receiver(receiver_server: CallbackReceiver) -> CallbackReceiver:
    """The session's receiver, emptied and reset for this test."""
    receiver_server.drain()
    receiver_server.fail_first = 0
    return receiver_server
