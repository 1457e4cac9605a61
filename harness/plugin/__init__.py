"""qa-harness's pytest plugin: options and hooks, nothing else.

Where things live: options in ``_options`` (one table), the per-process session in ``_session``, the
collectors and items in ``_items``, xdist scheduling in ``_xdist``, reports in ``_report_plugin``. Engine
modules never import pytest (ruff's banned-api rule holds that line).
"""

from __future__ import annotations

import functools
import gc
import sys
import types
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from harness._errors import HarnessUsageError
from harness._run._options import OPTIONS, help_text, resolve_settings
from harness._run._session import SPEC_FILENAME, HarnessSession
from harness.plugin._items import PARTS, CaseFile, CaseItem, NegativeItem, ServiceSpecFile, session_key
from harness.plugin._report import ReportPlugin
from harness.plugin._shards import WholeCasesOnShards, splits_into_shards
from harness.plugin._xdist import (
    CaseFileScheduling,
    auto_workers_header,
    choose_auto_workers,
    pinned_cases,
    prefetch_scope,
    send_late_callbacks,
    shared_target_file,
    start_shared_target,
)

pytest_plugins = ["harness.plugin._fixtures"]  # the fixtures and their marker: harness_target, reference_services, ...

# ---------------------------------------------------------------- options


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("harness", "qa-harness: QA-vs-prod evaluation of ML/LLM services")
    for option in OPTIONS:
        if option.external:
            continue
        if option.flag:
            group.addoption(option.flag, dest=option.dest, metavar=option.metavar, help=help_text(option))
        if option.ini:
            parser.addini(option.dest, type=option.ini_type, help="qa-harness: " + help_text(option))  # type: ignore[arg-type]


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from harness.plugin import _hookspec

    pluginmanager.add_hookspecs(_hookspec)


# ---------------------------------------------------------------- configuration


@pytest.hookimpl(tryfirst=True)  # before allure-pytest and junitxml read their output paths
def pytest_configure(config: pytest.Config) -> None:
    try:
        settings = resolve_settings(config.getoption, config.getini)
    except HarnessUsageError as exc:
        raise pytest.UsageError(str(exc)) from None
    session = HarnessSession(
        settings,
        rootpath=config.rootpath,
        prefetch=prefetch_scope(config),
        shared_target_file=shared_target_file(config),
    )
    config.stash[session_key] = session
    # The first cleanup registered (this hook runs first) is the last to run: after pytest's own end-of-session
    # garbage collection, which then need not rescan every collected node (see pytest_collection).
    config.add_cleanup(functools.partial(_thaw_collection, config))
    config.pluginmanager.register(ReportPlugin(config, session), "harness-reporting")
    for part in PARTS:
        config.addinivalue_line("markers", f"{part}: qa-harness items for the {part} side of a case")
    if splits_into_shards(config):
        # Registered before pytest-split's own plugin (its configure runs after ours), so our trylast
        # collection hook runs just before its: pluggy calls same-rank hooks registered earlier first.
        config.pluginmanager.register(WholeCasesOnShards(), "harness-whole-cases-on-shards")
    if config.pluginmanager.hasplugin("xdist") and not hasattr(config, "workerinput"):
        config.pluginmanager.register(CaseFileScheduling(), "harness-xdist-scheduling")
        start_shared_target(config)


def pytest_report_header(config: pytest.Config) -> list[str]:
    settings = config.stash[session_key].settings
    target = settings.base_url or "in-process reference services"
    faults = f", faults: {','.join(settings.reference_faults)}" if settings.reference_faults else ""
    header = f"qa-harness: target {target}{faults}, concurrency {settings.concurrency}, seed {settings.seed}"
    workers = auto_workers_header(config)
    return [header] if workers is None else [header, workers]


@pytest.hookimpl(wrapper=True, optionalhook=True)  # pytest-xdist's hook, asked before pytest_configure
def pytest_xdist_auto_num_workers(config: pytest.Config) -> Generator[None, int, int]:
    return choose_auto_workers(config, (yield))


# ---------------------------------------------------------------- collection


@pytest.hookimpl(wrapper=True)
def pytest_collection(session: pytest.Session) -> Generator[None, object, object]:
    # Collection builds long-lived objects by the hundred thousand (nodes, marks, cases) and next to no cyclic
    # garbage, so the cyclic collector only rescans them, again and again: a third of collecting 10,000 cases.
    # Garbage collection resumes right after, with what collection built moved out of its way (gc.freeze): those
    # objects live as long as the session, yet every full collection would rescan them all again (during the run,
    # and twice at its end, where pytest collects to report unraisable exceptions). They return to the collector
    # when the config is cleaned up, last of all, unless the process ends there.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return (yield)
    finally:
        gc.freeze()
        session.config.stash[_frozen_key] = True
        if was_enabled:
            gc.enable()


_frozen_key = pytest.StashKey[bool]()


def _thaw_collection(config: pytest.Config) -> None:
    """Give the objects frozen after collection back to the garbage collector (in-process runs would leak them)."""
    # Not when the process ends with the session: the interpreter's last collections would rescan them all only
    # to free memory the process hands back anyway (a second of CPU at 10,000 cases).
    if config.stash.get(_frozen_key, False) and not _process_ends_with_session(config):
        gc.unfreeze()


_PYTEST_ENTRIES = ("main", "_main")
_PYTEST_CONSOLE = ("console_main", "_console_main")


def _process_ends_with_session(config: pytest.Config) -> bool:
    """True for an xdist worker, and for a session run by pytest's own command line rather than ``pytest.main``
    (pytester's in-process runs, a script): the frame that called pytest's entry point says which."""
    if hasattr(config, "workerinput"):
        return True
    frame: types.FrameType | None = sys._getframe()
    while frame is not None and not _in_pytest_config(frame, _PYTEST_ENTRIES):
        frame = frame.f_back
    while frame is not None and _in_pytest_config(frame, _PYTEST_ENTRIES):
        frame = frame.f_back
    return frame is not None and _in_pytest_config(frame, _PYTEST_CONSOLE)


def _in_pytest_config(frame: types.FrameType, names: tuple[str, ...]) -> bool:
    """Whether ``frame`` runs one of ``names`` of ``_pytest.config``."""
    return frame.f_code.co_name in names and frame.f_globals.get("__name__") == "_pytest.config"


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix not in (".yaml", ".yml") or not parent.config.stash[session_key].catalog.holds_cases(file_path):
        return None
    if file_path.name == SPEC_FILENAME:
        return ServiceSpecFile.from_parent(parent, path=file_path)
    return CaseFile.from_parent(parent, path=file_path)


def pytest_collection_finish(session: pytest.Session) -> None:
    harness_session = session.config.stash[session_key]
    for item in session.items:
        if not isinstance(item, CaseItem) or any(item.iter_markers("skip")):
            continue
        if isinstance(item, NegativeItem):
            harness_session.select_negative(item.path, item.case)  # its request is drawn once cases run
        else:
            harness_session.select(item.case)
    pinned = pinned_cases(session.config, session.items)
    if pinned is not None:
        harness_session.pin(pinned)


# ---------------------------------------------------------------- running


def pytest_sessionfinish(session: pytest.Session) -> None:
    harness_session = session.config.stash[session_key]
    harness_session.close()
    send_late_callbacks(session.config, harness_session.late_callbacks)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    late = config.stash[session_key].late_callbacks
    if late and not hasattr(config, "workerinput"):
        terminalreporter.write_line(
            f"qa-harness: {late} callback(s) arrived after their wait ended (late); "
            "raise --harness-timeout if the service is just slow",
            yellow=True,
        )
