"""One process's harness session: service specs, the selected cases, the target and the runner.

No pytest here: ``harness.plugin`` creates a session per process and the items ask it for results. The
session starts the target (``--base-url``, or the in-process services of ``harness_local_target``) and
the runner on first use, and decides how far ahead to submit cases so their network waits overlap.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Sequence
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness._case import ResolvedCase
from harness._checks import CheckSettings
from harness._errors import CaseFileError, HarnessError
from harness._options import HarnessSettings
from harness._spec import ServiceSpec, parse_service_spec

if TYPE_CHECKING:
    from harness._runner import CaseRunner, Target

SPEC_FILENAME = "service.yaml"


class Prefetch(Enum):
    """How far ahead this process may submit cases without ever running one that another process runs."""

    ALL = "all"
    """A single process runs every selected case: submit them all."""
    FILE = "file"
    """Under xdist with case files kept on one worker: submit the current item's whole file."""
    CASE = "case"
    """Any other distribution may split a file across workers: submit just the current case."""


class HarnessSession:
    """Per-process state: specs, the selected cases, the target and the runner (started lazily)."""

    def __init__(self, settings: HarnessSettings, *, rootpath: Path, prefetch: Prefetch = Prefetch.ALL) -> None:
        self.settings = settings
        self.rootpath = rootpath
        self.prefetch_scope = prefetch
        self.case_roots = [Path(rootpath, p).resolve() for p in settings.case_paths]
        self.specs: dict[Path, ServiceSpec] = {}
        self.selected: dict[str, list[ResolvedCase]] = {}
        self._selected_keys: set[str] = set()
        self._prefetched: set[str] = set()
        self.runner: CaseRunner | None = None
        self.startup_error: HarnessError | None = None
        self._stop_target: Any = None
        self._target: Target | None = None
        self._reference: dict[tuple[str, ...], tuple[Target, Any]] = {}
        self.late_callbacks = 0
        """Callbacks that arrived after their wait ended, in this process (controller: in all workers)."""

    # ---------------------------------------------------------------- collection

    def display(self, path: Path) -> str:
        """``path`` as messages show it: relative to the rootdir where possible."""
        try:
            return str(path.relative_to(self.rootpath))
        except ValueError:
            return str(path)

    def holds_cases(self, path: Path) -> bool:
        """Whether ``path`` lies under one of the case folders (ini ``harness_case_paths``)."""
        resolved = path.resolve()
        return any(resolved.is_relative_to(root) for root in self.case_roots)

    def spec_at(self, path: Path) -> ServiceSpec:
        """The service spec in ``path`` (parsed once)."""
        if path not in self.specs:
            self.specs[path] = parse_service_spec(path, self.display(path))
        return self.specs[path]

    def spec_for(self, case_file: Path, wanted: str | None, *, line: int | None = None) -> ServiceSpec:
        """The spec a case file uses: ``service:`` by name, else the nearest ``service.yaml`` above it."""
        folder = case_file.resolve().parent
        candidates: list[Path] = []
        while True:
            if (folder / SPEC_FILENAME).is_file():
                candidates.append(folder / SPEC_FILENAME)
            if folder in self.case_roots or folder == folder.parent:
                break
            folder = folder.parent
        if wanted:
            for root in self.case_roots:
                candidates += sorted(root.rglob(SPEC_FILENAME))
        specs = [self.spec_at(p) for p in dict.fromkeys(candidates)]
        for spec in specs:
            if wanted in (None, spec.service):
                return spec
        known = sorted({s.service for s in specs})
        raise CaseFileError(
            self.display(case_file),
            line,
            f"no service spec for {wanted or 'this case file'}" + (f" (known: {', '.join(known)})" if known else ""),
            f"add a {SPEC_FILENAME} beside the case file, or name a known service with 'service:'",
        )

    def select(self, case: ResolvedCase) -> None:
        """Mark a case as going to run in this process (collection finished, not deselected or skipped)."""
        if case.key not in self._selected_keys:
            self._selected_keys.add(case.key)
            self.selected.setdefault(case.file, []).append(case)

    # ---------------------------------------------------------------- running

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
        from harness._runner import CaseRunner  # lazy: collection-only runs never need it

        settings = self.settings
        target = self.target()
        specs = {spec.service: spec for spec in self.specs.values()}
        judge_url = settings.judge_url or target.model_url
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
                # semantic parity: the run's embedder, else the in-process model's; none for --base-url alone
                embeddings_base_url=settings.embeddings_url or target.model_url,
                embeddings_api_key=settings.embeddings_api_key,
                embeddings_model=settings.embeddings_model,
            ),
        )

    def prefetch(self, case: ResolvedCase) -> None:
        """Submit ``case`` and, as far as ``prefetch_scope`` allows, the cases this process runs next."""
        runner = self.get_runner()
        if self.prefetch_scope is Prefetch.ALL:
            scope = [case.file, *self.selected]  # this file first
        elif self.prefetch_scope is Prefetch.FILE:
            scope = [case.file]
        else:
            scope = []
        for file in scope:
            if file not in self._prefetched:
                self._prefetched.add(file)
                runner.submit_all(self.selected.get(file, []))
        runner.submit(case)

    def secrets(self) -> tuple[str, ...]:
        """Every secret this process knows: the options' and those of services started in-process."""
        known = list(self.settings.secrets)
        targets = [self._target] + [target for target, _ in self._reference.values()]
        known += [secret for target in targets if target is not None for secret in target.secrets]
        return tuple(dict.fromkeys(known))

    # ---------------------------------------------------------------- the target, for the runner and fixtures

    def target(self) -> Target:
        """What this run tests, started on first use: ``--base-url`` with the option secrets, or the
        in-process services of ``harness_local_target``. A start-up failure is raised on every call."""
        if self.startup_error is not None:
            raise self.startup_error
        if self._target is None:
            from harness._runner import Target

            settings = self.settings
            try:
                if settings.base_url:
                    self._target = Target(settings.base_url, settings.qa_token, settings.callback_secret)
                else:
                    stack = _start_local_target(settings)
                    self._stop_target = stack.stop
                    self._target = _stack_target(stack)
            except HarnessError as exc:
                self.startup_error = exc
                raise
        return self._target

    def reference_services(self, faults: Sequence[str] | None = None) -> Target:
        """The in-process reference services with ``faults`` (None: the run's ``--reference-faults``).

        The run's own services when they are the ones asked for; otherwise one stack per distinct fault set,
        started on first use and stopped by ``close``. Extra stacks share the run's QA token and callback
        secret where the local target accepts them, so this process's callback receiver verifies their
        callbacks too.
        """
        settings = self.settings
        wanted = tuple(sorted(set(settings.reference_faults if faults is None else faults)))
        if not settings.base_url and wanted == tuple(sorted(set(settings.reference_faults))):
            return self.target()
        if wanted not in self._reference:
            run = self.target()
            stack = _start_local_target(settings, wanted, qa_token=run.qa_token, callback_secret=run.callback_secret)
            self._reference[wanted] = (_stack_target(stack), stack.stop)
        return self._reference[wanted][0]

    def close(self) -> None:
        """Count late callbacks, stop the runner and anything started in-process."""
        if self.runner is not None:
            self.late_callbacks += len(self.runner.late_callbacks)
            self.runner.close()
            self.runner = None
        if self._stop_target is not None:
            self._stop_target()
            self._stop_target = None
        for _, stop in self._reference.values():
            stop()
        self._reference.clear()


def _stack_target(stack: Any) -> Target:
    from harness._runner import Target

    model_url = getattr(stack, "model_base_url", None)
    return Target(stack.base_url, stack.qa_token, stack.callback_secret, model_url)


def _start_local_target(
    settings: HarnessSettings, faults: Sequence[str] | None = None, **shared_secrets: str | None
) -> Any:
    module_name, _, function_name = settings.local_target.partition(":")
    try:
        start = getattr(importlib.import_module(module_name), function_name)
    except (ImportError, AttributeError) as exc:
        raise HarnessError(
            f"cannot load the local target {settings.local_target!r} ({exc}); "
            "pass --base-url to test a running service, or fix the harness_local_target ini value"
        ) from None
    accepted = inspect.signature(start).parameters
    extra = {name: value for name, value in shared_secrets.items() if value and name in accepted}
    faults = settings.reference_faults if faults is None else faults
    try:
        return start(faults=faults, model_latency_ms=settings.reference_model_latency_ms, **extra)
    except ValueError as exc:
        raise HarnessError(f"cannot start the reference services: {exc}") from None
    except (OSError, RuntimeError) as exc:
        raise HarnessError(f"the reference services did not start: {exc}") from None
