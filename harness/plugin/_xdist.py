"""pytest-xdist glue: case files pinned to workers up front, and the in-process services shared by all of them.

Controller and workers exchange plain values through ``workerinput`` / ``workeroutput``; workers always
see ``dist="no"``, so the controller says how files are distributed.

Under the default ``-n`` distribution (``load``) the harness's scheduler pins every case to a worker before
the first item runs, by :func:`pin_scopes` over the collection, which every worker also has: so a worker knows
all of its cases from its first item and keeps them all in flight (``Prefetch.PINNED``) without ever running
a case another worker runs. Cases, not files, are pinned, so a file of slow cases is shared by the workers;
a spec's generated negative cases stay together, so only one worker draws them. Other tests are still handed
out as workers free up.

With ``-n auto`` the harness sizes the pool before any worker starts (``harness._run._workers`` says how): a
run whose cases fit in one process's window, or whose workers would cost more start-up than they save, runs in
one process.

Without ``--base-url`` the controller starts the in-process services once, in the background while the workers
boot, and hands their URLs and secrets to every worker through a file named in ``workerinput`` (read at the
worker's first item); it stops them at the end of the session.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from harness._errors import HarnessUsageError
from harness._run._session import SPEC_FILENAME, Prefetch
from harness.plugin._items import PARTS, CaseItem, session_key

FILES_STAY_ON_ONE_WORKER = "harness_files_stay_on_one_worker"
CASES_PINNED = "harness_cases_pinned"
SHARED_TARGET_FILE = "harness_shared_target_file"
LATE_CALLBACKS = "harness_late_callbacks"


def case_file_scope(nodeid: str) -> str | None:
    """The case file of a harness item's node id (``file.yaml::case::part``); None for any other test."""
    path, _, rest = nodeid.partition("::")
    if path.endswith((".yaml", ".yml")) and rest.rsplit("::", 1)[-1] in PARTS:
        return path
    return None


def pin_scope(nodeid: str) -> str | None:
    """What is pinned to one worker: a case (``file.yaml::case``), or a whole spec file's negative cases (drawn
    together, once per process); None for any other test."""
    path = case_file_scope(nodeid)
    if path is None or path.rpartition("/")[2] == SPEC_FILENAME:
        return path
    return nodeid.rpartition("::")[0]


def pin_scopes(nodeids: Iterable[str], workers: int) -> dict[str, int]:
    """Pin scope -> worker slot: heaviest first to the least-loaded slot (ties: the lower slot).

    A scope weighs its item count, a tenth of that for generated negative cases (answered with an error before
    any model runs); in tenths, so ties are exact. Deterministic in the collection alone, so the controller and
    each worker agree.
    """
    weights: dict[str, int] = {}
    for nodeid in nodeids:
        scope = pin_scope(nodeid)
        if scope is not None:
            weights[scope] = weights.get(scope, 0) + (1 if scope.endswith(SPEC_FILENAME) else 10)
    load = [0] * max(1, workers)
    pins: dict[str, int] = {}
    for scope, weight in sorted(weights.items(), key=lambda item: (-item[1], item[0])):
        slot = min(range(len(load)), key=lambda i: (load[i], i))
        pins[scope] = slot
        load[slot] += weight
    return pins


def worker_slot(workerid: str) -> int | None:
    """``gw3`` -> 3; None for ids xdist did not number (custom ``--tx`` ids), which get no pinned files."""
    number = workerid.removeprefix("gw")
    return int(number) if number.isdigit() else None


# ---------------------------------------------------------------- worker side


def prefetch_scope(config: pytest.Config) -> Prefetch:
    """How far ahead this process may submit cases (see ``Prefetch``)."""
    workerinput = getattr(config, "workerinput", None)
    if workerinput is None:
        return Prefetch.ALL
    if workerinput.get(CASES_PINNED):
        return Prefetch.PINNED
    return Prefetch.FILE if workerinput.get(FILES_STAY_ON_ONE_WORKER) else Prefetch.CASE


def shared_target_file(config: pytest.Config) -> Path | None:
    """Worker: where the controller writes the URLs and secrets of the services it starts for every worker."""
    workerinput = getattr(config, "workerinput", None)
    given = None if workerinput is None else workerinput.get(SHARED_TARGET_FILE)
    return Path(given) if given else None


def start_shared_target(config: pytest.Config) -> None:
    """Controller: start the in-process services for all workers, in the background, if this run needs them."""
    session = config.stash[session_key]
    # xdist registers its controller plugin only after our configure; its options already say what it will do.
    distributing = getattr(config.option, "dist", "no") != "no" and bool(getattr(config.option, "tx", None))
    if distributing and not session.settings.base_url and not config.option.collectonly and _runs_case_files(config):
        session.targets.share_in_background()


def pinned_cases(config: pytest.Config, items: Iterable[pytest.Item]) -> set[str] | None:
    """Worker: the keys (``ResolvedCase.key``) of the cases the controller's scheduler pins to this worker."""
    workerinput = getattr(config, "workerinput", None)
    if workerinput is None or not workerinput.get(CASES_PINNED):
        return None
    slot = worker_slot(workerinput["workerid"])
    if slot is None:
        return set()
    items = list(items)
    pins = pin_scopes((item.nodeid for item in items), workerinput["workercount"])
    return {
        item.case.key for item in items if isinstance(item, CaseItem) and pins.get(pin_scope(item.nodeid) or "") == slot
    }


def send_late_callbacks(config: pytest.Config, count: int) -> None:
    """Worker: hand this worker's late-callback count to the controller."""
    workeroutput = getattr(config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput[LATE_CALLBACKS] = count


# ---------------------------------------------------------------- controller side

AutoWorkers = tuple[int, int, float]
"""``-n auto``: the workers chosen, xdist's own count, and the weighted cases counted."""
auto_workers_key: pytest.StashKey[AutoWorkers] = pytest.StashKey()


def choose_auto_workers(config: pytest.Config, available: int) -> int:
    """``-n auto``: as many workers as can pay for their start-up on this run's case files (0: one process)."""
    from harness._model._specs import SpecCatalog
    from harness._run._options import resolve_settings
    from harness._run._workers import auto_workers, count_workload

    try:
        settings = resolve_settings(config.getoption, config.getini)
    except HarnessUsageError:
        return available  # pytest_configure reports it
    workload = count_workload(
        SpecCatalog(config.rootpath, settings.case_paths),
        config.args,
        config.invocation_params.dir,
        python_files=config.getini("python_files"),
        norecursedirs=config.getini("norecursedirs"),
    )
    latency_s = None if settings.base_url else settings.reference_model_latency_ms / 1000
    chosen = auto_workers(workload, available, concurrency=settings.concurrency, latency_s=latency_s)
    config.stash[auto_workers_key] = (chosen, available, workload.weight)
    return chosen


def auto_workers_header(config: pytest.Config) -> str | None:
    """The report header's word on a ``-n auto`` the harness narrowed; None when it kept xdist's count."""
    decided = config.stash.get(auto_workers_key, None)
    if decided is None or decided[0] == decided[1]:
        return None
    chosen, available, cases = decided
    run = "one process" if chosen == 0 else f"{chosen} workers"
    return (
        f"qa-harness: -n auto runs {run}, not {available} workers: about {cases:.0f} cases, "
        "too few to pay for starting more (pass -n N to choose)"
    )


def _runs_case_files(config: pytest.Config) -> bool:
    """Whether the run's paths can hold case files: ``pytest tests -n 2`` should not start the services."""
    return config.stash[session_key].catalog.may_run_cases(config.args, config.invocation_params.dir)


class CaseFileScheduling:
    """Controller plugin: shares the services, pins case files to workers, sums workers' late callbacks."""

    @pytest.hookimpl
    def pytest_configure_node(self, node: Any) -> None:
        config = node.config
        dist = config.getoption("dist")
        node.workerinput[FILES_STAY_ON_ONE_WORKER] = dist in ("load", "loadfile")
        node.workerinput[CASES_PINNED] = dist == "load"
        handoff = config.stash[session_key].targets.shared_file
        if handoff is not None:
            node.workerinput[SHARED_TARGET_FILE] = str(handoff)

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
            """LoadScope with a case (or a spec's negative cases) as one scope, sent up front to its pinned worker."""

            _unsent_pins: dict[Any, list[str]] | None = None
            pinned_work: dict[str, dict[str, bool]]

            def _split_scope(self, nodeid: str) -> str:
                return pin_scope(nodeid) or nodeid

            def _assign_work_unit(self, node: Any) -> None:
                if self._unsent_pins is None:
                    self._unsent_pins = self._take_pinned_scopes(node.workerinput["workercount"])
                scopes = self._unsent_pins.pop(node, None)
                if not scopes:
                    super()._assign_work_unit(node)
                    return
                assigned = self.assigned_work.setdefault(node, {})
                # A position map, not collection.index per item: that scan made handing out 30,000 items quadratic.
                position = {nodeid: index for index, nodeid in enumerate(self.registered_collections[node])}
                indexes = []
                for scope in scopes:
                    assigned[scope] = work_unit = self.pinned_work[scope]
                    indexes += [position[nodeid] for nodeid, done in work_unit.items() if not done]
                node.send_runtest_some(sorted(indexes))  # in collection order, as one process runs them

            def _take_pinned_scopes(self, workers: int) -> dict[Any, list[str]]:
                """Move pinned scopes out of the shared queue; a slot without a live worker keeps its scopes in
                the queue, for whichever worker asks (that worker submits each case as its items come)."""
                live = {worker_slot(n.gateway.id): n for n in self.nodes if not n.shutting_down}
                pins = pin_scopes(self.collection, workers)
                self.pinned_work = {}
                taken: dict[Any, list[str]] = {}
                for scope, slot in pins.items():
                    node = live.get(slot)
                    if node is not None and scope in self.workqueue:
                        self.pinned_work[scope] = self.workqueue.pop(scope)
                        taken.setdefault(node, []).append(scope)
                return taken

        return CaseFileScheduler(config, log)
