"""pytest glue for reports: allure and JUnit locations, run.json, summary.md, terminal summary, baselines.

The engine is ``harness._report``; this plugin feeds it pytest's reports. Registered by ``harness.plugin``
at configure time, in the controller and in every xdist worker. Workers
only label and attach (allure results are written by the process running the item); the controller
collects every report (records travel on them as plain dicts) and writes the files once at the end.
"""

from __future__ import annotations

import os
import shutil
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from harness._errors import HarnessUsageError
from harness._report.baseline import DriftReport, Regression, compare_answers, compare_with_baseline, load_baseline
from harness._report.lock import ReportDirLock
from harness._report.masking import redact_text
from harness._report.records import one_line
from harness._report.render import DRIFT_DIFF_LINES, render_summary_md, terminal_lines
from harness._report.run import RunCollector, build_run_record, write_json
from harness._run._session import HarnessSession
from harness.plugin._items import item_info_key

ALLURE_SUBDIR = "allure-results"
WORKER_REPORT_DIR = "harness_report_dir"


def _allure_already_reporting() -> bool:
    """True inside a pytest run nested in another that writes allure results (pytester's in-process runs).

    allure-python keeps one process-wide plugin manager; a second listener would corrupt the first one's
    state, so the nested run writes every report except allure results.
    """
    import allure_commons
    from allure_commons.logger import AllureFileLogger

    return any(isinstance(p, AllureFileLogger) for p in allure_commons.plugin_manager.get_plugins())


def _check_writable(folder: Path) -> None:
    """The report dir can be created and written, or a usage error says so before anything runs."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".harness-write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise pytest.UsageError(
            f"--harness-report-dir {folder}: cannot write there ({exc.strerror or exc}); "
            "choose a writable folder, e.g. --harness-report-dir reports"
        ) from None


class ReportPlugin:
    """Report hooks; state lives on the instance, one per process."""

    def __init__(self, config: pytest.Config, session: HarnessSession) -> None:
        self.config = config
        self.session = session
        self.settings = session.settings
        self.is_worker = hasattr(config, "workerinput")
        self.report_dir = self._report_dir()
        self.collector = RunCollector()
        self.started = time.monotonic()
        self.run: dict[str, Any] | None = None
        self.regressions: list[Regression] | None = None
        self.drift: DriftReport | None = None
        self.baseline: dict[str, Any] | None = None
        self.allure_recorder: Any = None
        self.allure_masker: Any = None
        self.collection_errors: list[dict[str, str]] = []
        self.lock: ReportDirLock | None = None
        self._previous_sigterm: Any = None
        if not self.is_worker and not config.option.collectonly:
            _check_writable(self.report_dir)
            self.lock = ReportDirLock(self.report_dir)
            try:
                self.lock.acquire()
            except HarnessUsageError as exc:
                raise pytest.UsageError(str(exc)) from None
        if self.settings.baseline and not self.is_worker:
            try:
                self.baseline = load_baseline(self.settings.baseline)
            except HarnessUsageError as exc:
                raise pytest.UsageError(str(exc)) from None

    def _report_dir(self) -> Path:
        if self.is_worker:
            given = self.config.workerinput.get(WORKER_REPORT_DIR)  # type: ignore[attr-defined]
            if given:
                return Path(given)
        return (self.config.invocation_params.dir / self.settings.report_dir).resolve()

    # ---------------------------------------------------------------- configure

    def pytest_configure(self, config: pytest.Config) -> None:
        # Called as soon as plugin.py registers us, which is before allure-pytest and junitxml configure.
        collect_only = config.option.collectonly
        if not config.option.allure_report_dir and not _allure_already_reporting():
            results = self.report_dir / ALLURE_SUBDIR
            config.option.allure_report_dir = str(results)
            if not self.is_worker and not collect_only and results.is_dir():
                shutil.rmtree(results)  # once, here: workers (and --clean-alluredir) would race
        if not config.option.xmlpath and not collect_only:
            config.option.xmlpath = str(self.report_dir / "junit.xml")
        if self.session.catalog.may_run_cases(config.args, config.invocation_params.dir):
            # Only runs that can hold cases change how SIGTERM ends them; other test runs keep the default.
            self._handle_sigterm()
        if config.option.allure_report_dir:
            import allure_commons

            from harness._report.allure import AllureRecorder, AllureResultMasker

            self.allure_recorder = AllureRecorder(self.settings.secrets)
            self.allure_masker = AllureResultMasker(self._mask)
            allure_commons.plugin_manager.register(self.allure_masker)

    @pytest.hookimpl(wrapper=True)
    def pytest_report_header(self, config: pytest.Config) -> Any:
        # Every plugin's header lines (pytest-base-url prints the URL, password and all) with secrets masked.
        lines = yield
        return [[self._mask(line) for line in x] if isinstance(x, list) else self._mask(str(x)) for x in lines]

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        if self.allure_masker is not None:
            import allure_commons

            allure_commons.plugin_manager.unregister(self.allure_masker)
        if self._previous_sigterm is not None:
            signal.signal(signal.SIGTERM, self._previous_sigterm)
        if self.lock is not None:
            self.lock.release()

    def _handle_sigterm(self) -> None:
        """SIGTERM (a CI job cancelled, a container stopped) ends the run like Ctrl-C: reports still written."""
        if self.is_worker or threading.current_thread() is not threading.main_thread():
            return
        if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
            return  # someone else handles it: leave theirs alone

        def interrupt(signum: int, frame: Any) -> None:
            raise KeyboardInterrupt(f"terminated by signal {signum}")

        self._previous_sigterm = signal.signal(signal.SIGTERM, interrupt)

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        """xdist (controller): workers write allure results where the controller decided."""
        node.workerinput[WORKER_REPORT_DIR] = str(self.report_dir)

    # ---------------------------------------------------------------- per item (the running process)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        info = item.stash.get(item_info_key, None)
        if self.allure_recorder is not None and info is not None:
            self.allure_recorder.label_item(info.header, info.checks)

    def pytest_harness_record(
        self, item: pytest.Item, record: dict[str, Any], sides: dict[str, dict[str, Any]] | None
    ) -> None:
        recorder = self.allure_recorder
        if recorder is None:
            return
        recorder.add_secrets(self.session.secrets())
        recorder.attach_record(record, sides)

    @pytest.hookimpl(wrapper=True, trylast=True)  # innermost: mask before junitxml, allure or the terminal read it
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
        report = yield
        info = item.stash.get(item_info_key, None)
        if info is not None:
            # Plain dicts on the report travel from xdist workers to the controller with it. The header on every
            # phase, so items that errored in setup (no record) still name their case and service.
            report.harness_item = info.header
            if info.record is not None and report.when == "call":
                report.harness_record = info.record
        if report.failed:
            # A service that echoes a token back puts it in the failure text: mask it wherever it goes next.
            text = report.longreprtext
            masked = self._mask(text)
            if masked != text:
                report.longrepr = masked
        # Captured output and logs (a check that prints what the service said): the terminal, junit's
        # system-out and allure's stdout/log attachments all read these sections.
        report.sections = [(title, self._mask(content)) for title, content in report.sections]
        return report

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed and not self.is_worker:
            message = self._mask(report.longreprtext.strip())
            self.collection_errors.append({"nodeid": report.nodeid, "message": message})

    # ---------------------------------------------------------------- controller: collecting and writing

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if self.is_worker:
            return
        category = self.config.hook.pytest_report_teststatus(report=report, config=self.config)[0]
        message = ""
        if report.failed:
            # Items with a record carry their reason in it; this is for the rest (e.g. errors in setup).
            message = one_line(report.longreprtext)
        elif report.skipped and isinstance(report.longrepr, tuple):
            message = str(report.longrepr[2]).removeprefix("Skipped: ")
        self.collector.add(
            report.nodeid,
            category if isinstance(category, str) else str(category),
            duration_s=report.duration,
            message=self._mask(message),
            info=getattr(report, "harness_item", None),
            record=getattr(report, "harness_record", None),
        )

    def _mask(self, text: str) -> str:
        return redact_text(text, self.session.secrets())

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int | pytest.ExitCode) -> None:
        if self.is_worker or self.config.option.collectonly:
            return
        settings = self.settings
        run = build_run_record(
            self.collector,
            target=self._mask(settings.base_url or "in-process reference services"),
            faults=settings.reference_faults,
            duration_s=time.monotonic() - self.started,
        )
        self.run = run
        if self.baseline is not None:
            tolerance = settings.latency_tolerance
            self.regressions = compare_with_baseline(run, self.baseline, latency_tolerance=tolerance)
            run["baseline"] = {
                "path": str(settings.baseline),
                "latency_tolerance": tolerance,
                "regressions": [r.__dict__ for r in self.regressions],
            }
            self.drift = compare_answers(run, self.baseline, self._embed)
            run["baseline"]["drift"] = self.drift.as_dict()
            limit = settings.max_drift
            too_much = limit is not None and limit.exceeded(len(self.drift.drifted), self.drift.compared)
            if (self.regressions or too_much) and session.exitstatus == pytest.ExitCode.OK:
                session.exitstatus = pytest.ExitCode.TESTS_FAILED
        status = pytest.ExitCode(session.exitstatus)
        run["exit_status"] = {"code": int(status), "name": status.name.lower()}
        run["collection_errors"] = self.collection_errors
        write_json(self.report_dir / "run.json", run, self._mask)
        summary = self.report_dir / "summary.md"
        summary.write_text(self._mask(render_summary_md(run, self.regressions, self.drift)), encoding="utf-8")
        if settings.save_baseline:
            write_json(Path(self.config.invocation_params.dir, settings.save_baseline), run, self._mask)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.is_worker or self.run is None or not (self.run["cases"] or self.collection_errors):
            return
        tr = terminalreporter
        tr.write_sep("=", "qa-harness summary")
        for line in terminal_lines(self.run):
            tr.write_line(self._mask(line))
        tr.write_line(f"reports: {self.report_dir}")
        if self.regressions is not None:
            if self.regressions:
                tr.write_sep("=", f"qa-harness: {len(self.regressions)} regression(s) against the baseline", red=True)
                for regression in self.regressions:
                    tr.write_line(self._mask(regression.line()))
            else:
                tr.write_line(f"no regressions against the baseline {self.settings.baseline}")
        if self.drift is not None:
            self._write_drift(tr, self.drift)

    def _embed(self, texts: list[str]) -> Any:
        """The run's embedder (else the local model) over ``texts``: how ``semantic`` answers drift is judged."""
        import asyncio

        from harness._verdict._checks import CheckSettings
        from harness._verdict._embeddings import Embedder

        settings = CheckSettings(
            embeddings_base_url=self.settings.embeddings_url,
            embeddings_api_key=self.settings.embeddings_api_key,
            embeddings_model=self.settings.embeddings_model,
        )
        return asyncio.run(Embedder.from_settings(settings).similarity(texts))

    def _write_drift(self, tr: Any, drift: DriftReport) -> None:
        """Answers that changed beyond noise, each with the start of its diff; the limit's verdict."""
        limit = self.settings.max_drift
        failing = limit is not None and limit.exceeded(len(drift.drifted), drift.compared)
        if drift.drifted:
            tr.write_sep("=", f"qa-harness: {drift.headline()} against the baseline", red=failing, yellow=not failing)
            for item in drift.drifted:
                tr.write_line(self._mask(item.line()))
                for line in (item.text_diff or item.json_diff).splitlines()[:DRIFT_DIFF_LINES]:
                    tr.write_line("    " + self._mask(line))
        else:
            tr.write_line(f"answers against the baseline: {drift.headline()}")
        if failing:
            tr.write_line(f"--harness-max-drift exceeded: {drift.headline()}", red=True)
