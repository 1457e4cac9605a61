"""pytest-xdist glue: keep a case file on one worker, and tell workers so.

Controller and workers exchange plain values through ``workerinput`` / ``workeroutput``; workers always
see ``dist="no"``, so the controller says whether a file stays on one worker.
"""

from __future__ import annotations

from typing import Any

import pytest

from harness._items import PARTS, session_key
from harness._session import Prefetch

FILES_STAY_ON_ONE_WORKER = "harness_files_stay_on_one_worker"
LATE_CALLBACKS = "harness_late_callbacks"


def prefetch_scope(config: pytest.Config) -> Prefetch:
    """How far ahead this process may submit cases (see ``Prefetch``)."""
    workerinput = getattr(config, "workerinput", None)
    if workerinput is None:
        return Prefetch.ALL
    return Prefetch.FILE if workerinput.get(FILES_STAY_ON_ONE_WORKER) else Prefetch.CASE


class CaseFileScheduling:
    """Controller plugin: sends all items of a case file to one worker, and sums workers' late callbacks."""

    @pytest.hookimpl
    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput[FILES_STAY_ON_ONE_WORKER] = node.config.getoption("dist") in ("load", "loadfile")

    @pytest.hookimpl
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        output = getattr(node, "workeroutput", {})
        node.config.stash[session_key].late_callbacks += output.get(LATE_CALLBACKS, 0)

    @pytest.hookimpl  # before xdist's own (trylast) implementation
    def pytest_xdist_make_scheduler(self, config: pytest.Config, log: Any) -> Any:
        if config.getoption("dist") != "load":
            return None  # the user chose a distribution mode: respect it
        from xdist.scheduler import LoadScopeScheduling

        class CaseFileScheduler(LoadScopeScheduling):  # type: ignore[misc]
            def _split_scope(self, nodeid: str) -> str:
                path, _, rest = nodeid.partition("::")
                if path.endswith((".yaml", ".yml")) and rest.rsplit("::", 1)[-1] in PARTS:
                    return path
                return nodeid

        return CaseFileScheduler(config, log)


def send_late_callbacks(config: pytest.Config, count: int) -> None:
    """Worker: hand this worker's late-callback count to the controller."""
    workeroutput = getattr(config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput[LATE_CALLBACKS] = count
