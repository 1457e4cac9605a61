"""pytest glue for qa-harness: options, collection of case files, items, the target and the runner.

Engine modules (``harness._*``) never import pytest; this module is the only place that does.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from harness._case import ResolvedCase, parse_case_file, resolve_cases
from harness._checks import CheckSettings, check_names, get_check
from harness._config import HarnessSettings, resolve_settings
from harness._errors import CaseFileError, CheckFailed, HarnessError, HarnessUsageError
from harness._reporting import ReportingPlugin
from harness._spec import ServiceSpec, parse_service_spec

if TYPE_CHECKING:
    from harness._runner import CaseResult, CaseRunner

SPEC_FILENAME = "service.yaml"
PARTS = ("qa", "prod", "parity")

# ---------------------------------------------------------------- options


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("harness", "qa-harness: QA-vs-prod evaluation of ML/LLM services")
    add = group.addoption
    add(
        "--harness-qa-token",
        dest="harness_qa_token",
        metavar="TOKEN",
        help="Bearer token for the QA endpoints of --base-url (env HARNESS_QA_TOKEN).",
    )
    add(
        "--harness-concurrency",
        dest="harness_concurrency",
        metavar="N",
        help="Cases a process keeps in flight at once (default 8; ini harness_concurrency).",
    )
    add(
        "--harness-timeout",
        dest="harness_timeout",
        metavar="SECONDS",
        help="Bound on each delivery: response, stream or callback (default 60; ini harness_timeout).",
    )
    add(
        "--harness-callback-host",
        dest="harness_callback_host",
        metavar="HOST",
        help="Interface the callback receiver listens on (default 127.0.0.1).",
    )
    add(
        "--harness-callback-url",
        dest="harness_callback_url",
        metavar="URL",
        help="URL a remote service uses to reach the callback receiver, if not its local address.",
    )
    add(
        "--harness-callback-secret",
        dest="harness_callback_secret",
        metavar="whsec_...",
        help="Standard Webhooks secret to verify callbacks from --base-url (env HARNESS_CALLBACK_SECRET).",
    )
    add(
        "--harness-report-dir",
        dest="harness_report_dir",
        metavar="DIR",
        help="Where reports are written (default reports/).",
    )
    add(
        "--harness-repeat",
        dest="harness_repeat",
        metavar="N",
        help="Run every case N times and report pass rates (a case's own 'repeat' wins).",
    )
    add(
        "--harness-judge-url",
        dest="harness_judge_url",
        metavar="URL",
        help="OpenAI-compatible base URL for llm_judge checks (env HARNESS_JUDGE_URL; key in HARNESS_JUDGE_API_KEY).",
    )
    add(
        "--harness-judge-model",
        dest="harness_judge_model",
        metavar="NAME",
        help="Model name for llm_judge checks (env HARNESS_JUDGE_MODEL).",
    )
    add(
        "--harness-save-baseline",
        dest="harness_save_baseline",
        metavar="PATH",
        help="Also write this run's record (run.json) to PATH, as a baseline for --harness-baseline.",
    )
    add(
        "--harness-baseline",
        dest="harness_baseline",
        metavar="PATH",
        help="Compare with a saved run record; fail on regressions (a part that passed fails, slower latency).",
    )
    add(
        "--harness-latency-tolerance",
        dest="harness_latency_tolerance",
        metavar="PCT",
        help="Latency growth per case part that --harness-baseline accepts (default 50%%; under 100 ms never counts).",
    )
    add(
        "--reference-faults",
        dest="reference_faults",
        metavar="F1,F2",
        help="Faults to inject into the in-process reference services (no --base-url).",
    )
    add(
        "--reference-model-latency-ms",
        dest="reference_model_latency_ms",
        metavar="MS",
        help="Time to first token of the in-process reference model, in milliseconds.",
    )
    for name, help_text in (
        ("harness_concurrency", "cases a process keeps in flight"),
        ("harness_timeout", "bound on each delivery, seconds"),
        ("harness_callback_host", "interface of the callback receiver"),
        ("harness_callback_url", "public URL of the callback receiver"),
        ("harness_report_dir", "report directory"),
        ("harness_repeat", "run every case N times"),
        ("harness_latency_tolerance", "latency growth --harness-baseline accepts, e.g. 50%"),
        ("harness_judge_url", "OpenAI-compatible base URL for llm_judge"),
        ("harness_judge_model", "model for llm_judge"),
        ("reference_faults", "faults for the in-process reference services"),
        ("reference_model_latency_ms", "model time to first token, ms"),
        ("harness_local_target", "module:function that starts services when no --base-url is given"),
    ):
        parser.addini(name, help=f"qa-harness: {help_text}.")
    parser.addini("harness_case_paths", type="args", default=["cases"], help="qa-harness: folders holding case files.")


# ---------------------------------------------------------------- configuration

settings_key = pytest.StashKey[HarnessSettings]()
state_key = pytest.StashKey["HarnessState"]()


@pytest.hookimpl(tryfirst=True)  # before allure-pytest and junitxml read their output paths
def pytest_configure(config: pytest.Config) -> None:
    try:
        settings = resolve_settings(config.getoption, config.getini)
    except HarnessUsageError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[settings_key] = settings
    config.stash[state_key] = HarnessState(config, settings)
    config.pluginmanager.register(ReportingPlugin(config, settings), "harness-reporting")
    for part in PARTS:
        config.addinivalue_line("markers", f"{part}: qa-harness items for the {part} side of a case")
    if config.pluginmanager.hasplugin("xdist") and not hasattr(config, "workerinput"):
        config.pluginmanager.register(_XdistScheduling(), "harness-xdist-scheduling")


def pytest_report_header(config: pytest.Config) -> str:
    settings = config.stash[settings_key]
    target = settings.base_url or "in-process reference services"
    faults = f", faults: {','.join(settings.reference_faults)}" if settings.reference_faults else ""
    return f"qa-harness: target {target}{faults}, concurrency {settings.concurrency}"


FILES_STAY_ON_ONE_WORKER = "harness_files_stay_on_one_worker"
LATE_CALLBACKS = "harness_late_callbacks"


class _XdistScheduling:
    """Sends all items of a case file to one worker, so a worker can run that file's cases concurrently."""

    @pytest.hookimpl
    def pytest_configure_node(self, node: Any) -> None:
        # Workers see dist="no" whatever the controller uses: tell them whether a file stays on one worker.
        node.workerinput[FILES_STAY_ON_ONE_WORKER] = node.config.getoption("dist") in ("load", "loadfile")

    @pytest.hookimpl
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        output = getattr(node, "workeroutput", {})
        node.config.stash[state_key].late_callbacks += output.get(LATE_CALLBACKS, 0)

    @pytest.hookimpl  # before xdist's own (trylast) implementation
    def pytest_xdist_make_scheduler(self, config: pytest.Config, log: Any) -> Any:
        if config.getoption("dist") != "load":
            return None  # the user chose a distribution mode: respect it
        from xdist.scheduler import LoadScopeScheduling

        class CaseFileScheduling(LoadScopeScheduling):  # type: ignore[misc]
            def _split_scope(self, nodeid: str) -> str:
                path, _, rest = nodeid.partition("::")
                if path.endswith((".yaml", ".yml")) and rest.rsplit("::", 1)[-1] in PARTS:
                    return path
                return nodeid

        return CaseFileScheduling(config, log)


# ---------------------------------------------------------------- session state


class HarnessState:
    """Per-process state: specs, the selected cases, the target and the runner (started lazily)."""

    def __init__(self, config: pytest.Config, settings: HarnessSettings) -> None:
        self.config = config
        self.settings = settings
        self.specs: dict[Path, ServiceSpec] = {}
        self.selected: dict[str, list[ResolvedCase]] = {}
        self.prefetched: set[str] = set()
        self.runner: CaseRunner | None = None
        self.startup_error: HarnessError | None = None
        self._stop_target: Any = None
        self.record_listeners: list[Any] = []
        self.late_callbacks = 0
        """Callbacks that arrived after their wait ended, in this process (controller: in all workers)."""

    def spec_at(self, path: Path, display: str) -> ServiceSpec:
        """The service spec in ``path`` (cached)."""
        if path not in self.specs:
            self.specs[path] = parse_service_spec(path, display)
        return self.specs[path]

    def get_runner(self) -> CaseRunner:
        """The runner, starting the target on first use; a start-up failure is raised for every item."""
        if self.startup_error is not None:
            raise self.startup_error
        if self.runner is None:
            try:
                self.runner = self._start()
            except HarnessError as exc:
                self.startup_error = exc
                raise
        return self.runner

    def _start(self) -> CaseRunner:
        from harness._runner import CaseRunner, Target  # lazy: collection-only runs never need it

        settings = self.settings
        judge_url = settings.judge_url
        if settings.base_url:
            target = Target(settings.base_url, settings.qa_token, settings.callback_secret)
        else:
            stack = _start_local_target(settings)
            self._stop_target = stack.stop
            target = Target(stack.base_url, stack.qa_token, stack.callback_secret)
            judge_url = judge_url or getattr(stack, "model_base_url", None)
        specs = {spec.service: spec for spec in self.specs.values()}
        return CaseRunner(
            target,
            specs,
            concurrency=settings.concurrency,
            timeout_s=settings.timeout_s,
            repeat=settings.repeat,
            callback_host=settings.callback_host,
            callback_url=settings.callback_url,
            check_settings=CheckSettings(
                judge_base_url=judge_url,
                judge_api_key=settings.judge_api_key or "not-needed",
                judge_model=settings.judge_model or "reference-model",
            ),
        )

    def prefetch(self, case: ResolvedCase) -> None:
        """Submit the cases this process will run next so their network waits overlap."""
        runner = self.get_runner()
        # In a single process every selected case runs here: prefetch them all, this file first. Under xdist
        # a file stays on one worker only with our scheduler (dist "load") or "loadfile": prefetch that file.
        # Any other distribution may split a file across workers: run just this case, never one twice.
        workerinput = getattr(self.config, "workerinput", None)
        if workerinput is None:
            scope = [case.file, *self.selected]
        elif workerinput.get(FILES_STAY_ON_ONE_WORKER):
            scope = [case.file]
        else:
            scope = []
        for file in scope:
            if file not in self.prefetched:
                self.prefetched.add(file)
                runner.submit_all(self.selected.get(file, []))
        runner.submit(case)

    def on_record(self, item: CaseItem, record: dict[str, Any]) -> None:
        """An item's record is ready: reporters attach it (allure) while the item is still running."""
        for listener in self.record_listeners:
            listener(item, record)

    def close(self) -> None:
        """Stop the runner and anything started in-process."""
        if self.runner is not None:
            self.runner.close()
            self.runner = None
        if self._stop_target is not None:
            self._stop_target()
            self._stop_target = None


def _start_local_target(settings: HarnessSettings) -> Any:
    module_name, _, function_name = settings.local_target.partition(":")
    try:
        start = getattr(importlib.import_module(module_name), function_name)
    except (ImportError, AttributeError) as exc:
        raise HarnessError(
            f"cannot load the local target {settings.local_target!r} ({exc}); "
            "pass --base-url to test a running service, or fix the harness_local_target ini value"
        ) from None
    try:
        return start(faults=settings.reference_faults, model_latency_ms=settings.reference_model_latency_ms)
    except ValueError as exc:
        raise HarnessError(f"cannot start the reference services: {exc}") from None
    except (OSError, RuntimeError) as exc:
        raise HarnessError(f"the reference services did not start: {exc}") from None


def pytest_collection_finish(session: pytest.Session) -> None:
    state = session.config.stash[state_key]
    for item in session.items:
        if isinstance(item, CaseItem) and not any(item.iter_markers("skip")):
            cases = state.selected.setdefault(item.case.file, [])
            if item.case not in cases:
                cases.append(item.case)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    # A plain dict on the report travels from xdist workers to the controller with it.
    record = getattr(item, "record", None)
    if record is not None and report.when == "call":
        report.harness_record = record
    return report


def pytest_sessionfinish(session: pytest.Session) -> None:
    state = session.config.stash[state_key]
    if state.runner is not None:
        state.late_callbacks += len(state.runner.late_callbacks)
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput[LATE_CALLBACKS] = state.late_callbacks
    state.close()


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    late = config.stash[state_key].late_callbacks
    if late and not hasattr(config, "workerinput"):
        terminalreporter.write_line(
            f"qa-harness: {late} callback(s) arrived after their wait ended (late); "
            "raise --harness-timeout if the service is just slow",
            yellow=True,
        )


# ---------------------------------------------------------------- collection


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix not in (".yaml", ".yml"):
        return None
    config = parent.config
    roots = [Path(config.rootpath, p).resolve() for p in config.stash[settings_key].case_paths]
    if not any(file_path.resolve().is_relative_to(root) for root in roots):
        return None
    if file_path.name == SPEC_FILENAME:
        return SpecFile.from_parent(parent, path=file_path)
    return CaseFile.from_parent(parent, path=file_path)


class _HarnessCollector(pytest.File):
    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, HarnessError):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def _display(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.config.rootpath))
        except ValueError:
            return str(path)


class SpecFile(_HarnessCollector):
    """A service spec: validated at collection, yields no items."""

    def collect(self) -> Iterator[pytest.Item]:
        self.config.stash[state_key].spec_at(self.path, self._display(self.path))
        return iter(())


class CaseFile(_HarnessCollector):
    """A YAML case file: one collector per case."""

    def collect(self) -> Iterator[pytest.Collector]:
        state = self.config.stash[state_key]
        display = self._display(self.path)
        parsed, doc = parse_case_file(self.path, display)
        spec = self._find_spec(state, parsed.service, display)
        cases = resolve_cases(parsed, doc, spec.service, check_names(), lambda name: get_check(name).scope)
        for case in cases:
            yield CaseNode.from_parent(self, name=case.id, case=case)

    def _find_spec(self, state: HarnessState, wanted: str | None, display: str) -> ServiceSpec:
        roots = [Path(self.config.rootpath, p).resolve() for p in state.settings.case_paths]
        folder = self.path.resolve().parent
        candidates: list[Path] = []
        while True:
            if (folder / SPEC_FILENAME).is_file():
                candidates.append(folder / SPEC_FILENAME)
            if folder in roots or folder == folder.parent:
                break
            folder = folder.parent
        if wanted:
            for root in roots:
                candidates += sorted(root.rglob(SPEC_FILENAME))
        specs = [state.spec_at(p, self._display(p)) for p in dict.fromkeys(candidates)]
        for spec in specs:
            if wanted in (None, spec.service):
                return spec
        known = sorted({s.service for s in specs})
        raise CaseFileError(
            display,
            None,
            f"no service spec for {wanted or 'this case file'}" + (f" (known: {', '.join(known)})" if known else ""),
            f"add a {SPEC_FILENAME} beside the case file, or name a known service with 'service:'",
        )


class CaseNode(pytest.Collector):
    """One case: its QA, prod and parity items."""

    def __init__(self, *, case: ResolvedCase, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case
        for mark in case.marks:
            if isinstance(mark, str):
                self.add_marker(mark)
            else:
                for name, reason in mark.items():
                    self.add_marker(getattr(pytest.mark, name)(reason=reason))

    def collect(self) -> Iterator[pytest.Item]:
        parts: list[str] = list(self.case.case.endpoints)
        if len(parts) == 2:
            parts.append("parity")
        for part in parts:
            yield CaseItem.from_parent(self, name=part, case=self.case, part=part)


class CaseItem(pytest.Item):
    """The QA output, the prod output, or their parity, for one case."""

    def __init__(self, *, case: ResolvedCase, part: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case
        self.part = part
        self.add_marker(part)
        self.result: CaseResult | None = None
        self.record: dict[str, Any] | None = None

    def setup(self) -> None:
        state = self.config.stash[state_key]
        try:
            state.prefetch(self.case)
            self.result = state.get_runner().result(self.case)
            error = self.result.infrastructure_error()
            if error is not None:
                raise error
        except HarnessError as exc:
            # Failing in setup makes this an error (E), not a failure: the output was never judged.
            # pytrace=False: the message says what and what to do; a traceback would only bury it.
            pytest.fail(str(exc), pytrace=False)

    def runtest(self) -> None:
        assert self.result is not None
        result = self.result
        from harness._run_record import part_record  # lazy, like the runner

        self.record = part_record(result, self.part)
        self.config.stash[state_key].on_record(self, self.record)
        if not result.passed(self.part):
            failure = result.first_failure(self.part)
            if len(result.runs) > 1:
                rate = result.pass_rate(self.part)
                failure = (
                    f"pass rate {rate:.0%} over {len(result.runs)} runs, below min_pass_rate "
                    f"{result.case.min_pass_rate:.0%}\n{failure}"
                )
            raise CheckFailed(f"{self.part} of case {result.case.id!r} failed:\n{failure}")
        skipped = result.skipped_checks(self.part)
        if skipped:
            # Everything that could run passed; what could not is a skip with its reason, not a pass.
            pytest.skip("; ".join(skipped))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, HarnessError | CheckFailed):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, self.case.line - 1, f"{self.case.id}::{self.part}"
