"""One process's harness session: service specs, the selected cases, the target and the runner.

No pytest here: ``harness.plugin`` creates a session per process and the items ask it for results. The
session starts the target (``--base-url``, or the in-process services of ``harness_local_target``) and
the runner on first use, and decides how far ahead to submit cases so their network waits overlap.
"""

from __future__ import annotations

import concurrent.futures
import importlib
import inspect
import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness._errors import CaseFileError, HarnessError
from harness._run._options import HarnessSettings

if TYPE_CHECKING:
    from harness._model._case import ResolvedCase
    from harness._model._spec import ServiceSpec
    from harness._run._negative import ChildDraw, NegativeRequest
    from harness._run._runner import CaseRunner, Target

SPEC_FILENAME = "service.yaml"
SHARED_TARGET_WAIT_S = 120.0
NEGATIVE_DRAW_WAIT_S = 300.0

NegativeDraw = tuple[list["NegativeRequest"], list["ResolvedCase"]]


class Prefetch(Enum):
    """How far ahead this process may submit cases without ever running one that another process runs."""

    ALL = "all"
    """A single process runs every selected case: submit them all."""
    PINNED = "pinned"
    """Under the harness's xdist scheduler: every case pinned to this worker, known from the collection before
    the first item (and any case handed over later, say from a worker that crashed, when its item runs)."""
    FILE = "file"
    """Under xdist with case files kept on one worker: submit the current item's whole file."""
    CASE = "case"
    """Any other distribution may split a file across workers: submit just the current case."""


class HarnessSession:
    """Per-process state: specs, the selected cases, the target and the runner (started lazily)."""

    def __init__(
        self,
        settings: HarnessSettings,
        *,
        rootpath: Path,
        prefetch: Prefetch = Prefetch.ALL,
        shared_target_file: Path | None = None,
    ) -> None:
        self.settings = settings
        self.rootpath = rootpath
        self.prefetch_scope = prefetch
        self.shared_target: Mapping[str, str] | None = None
        """The services the xdist controller started for every worker (see :meth:`share_target`)."""
        self.shared_target_file = shared_target_file
        """xdist worker: where the controller writes ``shared_target`` once the services are up."""
        self._sharing: threading.Thread | None = None
        self.pinned: set[str] = set()
        """``Prefetch.PINNED``: the keys of the cases (negative ones too) the scheduler pins to this worker."""
        self.case_roots = [Path(rootpath, p).resolve() for p in settings.case_paths]
        self.specs: dict[Path, ServiceSpec] = {}
        self.selected: dict[str, list[ResolvedCase]] = {}
        self._selected_keys: set[str] = set()
        self._prefetched: set[str] = set()
        self._started_prefetch = False
        self.negative: dict[Path, ResolvedCase] = {}
        """Spec path -> one of its selected negative case templates (they share file and line)."""
        self._negative_draws: dict[Path, concurrent.futures.Future[NegativeDraw]] = {}
        self._drawing: concurrent.futures.ThreadPoolExecutor | None = None
        self._child_draw: ChildDraw | None = None
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

    def may_run_cases(self, args: Sequence[str], invocation_dir: Path) -> bool:
        """Whether a run on these path arguments can hold case files (``pytest tests`` cannot)."""
        for arg in args:
            path = Path(invocation_dir, arg.partition("::")[0]).resolve()
            if any(path.is_relative_to(root) or root.is_relative_to(path) for root in self.case_roots):
                return True
        return False

    def spec_at(self, path: Path) -> ServiceSpec:
        """The service spec in ``path`` (parsed once)."""
        if path not in self.specs:
            from harness._model._spec import parse_service_spec  # lazy: pydantic loads with the first spec

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

    def select_negative(self, spec_path: Path, template: ResolvedCase) -> None:
        """Mark a negative case of the spec at ``spec_path`` as going to run in this process (its request is
        drawn once this process starts running cases)."""
        self.negative.setdefault(spec_path, template)

    def pin(self, case_keys: set[str]) -> None:
        """Name the cases this worker runs, all of them (``Prefetch.PINNED``)."""
        self.pinned = case_keys

    # ---------------------------------------------------------------- running

    def share_target(self) -> Mapping[str, str] | None:
        """xdist controller: start the in-process services once for every worker; their URLs and secrets.

        None with ``--base-url`` (workers use it). A start-up failure is handed on as ``{"error": ...}``, and
        every worker reports it on every item, as a worker that had failed to start them would.
        """
        if self.settings.base_url:
            return None
        if self.shared_target is None:
            try:
                stack = _start_local_target(self.settings, **_own_secrets(self.settings))
            except HarnessError as exc:
                self.shared_target = {"error": str(exc)}
            else:
                self._stop_target = stack.stop
                self.shared_target = {
                    "base_url": stack.base_url,
                    "model_base_url": getattr(stack, "model_base_url", None) or "",
                    "qa_token": stack.qa_token or "",
                    "callback_secret": stack.callback_secret or "",
                }
        return self.shared_target

    def share_target_in_background(self) -> Path:
        """xdist controller: start the services in a thread; return the file their URLs and secrets go to.

        Workers boot and collect meanwhile (a second or two each) and read the file at their first item, so
        starting the services is off the critical path instead of before the first worker is even spawned.
        """
        handoff = Path(tempfile.mkdtemp(prefix="harness-services-"), "target.json")

        def start() -> None:
            shared = self.share_target() or {"error": "no in-process services with --base-url"}
            handoff.with_suffix(".tmp").write_text(json.dumps(dict(shared)), encoding="utf-8")
            os.replace(handoff.with_suffix(".tmp"), handoff)  # atomic: a worker never reads half a file

        self.shared_target_file = handoff
        self._sharing = threading.Thread(target=start, name="harness-start-services", daemon=True)
        self._sharing.start()
        return handoff

    def _await_shared_target(self, handoff: Path) -> Mapping[str, str]:
        deadline = time.monotonic() + SHARED_TARGET_WAIT_S
        while not handoff.is_file():
            if time.monotonic() > deadline:
                raise HarnessError(
                    f"the xdist controller did not start the reference services within {SHARED_TARGET_WAIT_S:.0f} s; "
                    "run without -n to see why, or pass --base-url"
                )
            time.sleep(0.02)
        shared: dict[str, str] = json.loads(handoff.read_text(encoding="utf-8"))
        return shared

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
        from harness._run._runner import CaseRunner  # lazy: collection-only runs never need it
        from harness._verdict._checks import CheckSettings

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
            max_response_bytes=settings.max_response_bytes,
            check_settings=CheckSettings(
                judge_base_url=judge_url,
                judge_api_key=settings.judge_api_key or "not-needed",
                judge_model=settings.judge_model or "reference-model",
                # semantic parity: the run's embedder, else the in-process model's; the local model for --base-url
                embeddings_base_url=settings.embeddings_url or target.model_url,
                embeddings_api_key=settings.embeddings_api_key,
                embeddings_model=settings.embeddings_model,
            ),
        )

    def prefetch(self, case: ResolvedCase | None = None) -> None:
        """Submit ``case`` and, as far as ``prefetch_scope`` allows, the cases this process runs next.

        The first call submits all of them at once, longest expected first (:func:`expected_cost`), so the
        slowest cases are not left to start last, and starts drawing the negative cases in the background.
        """
        from harness._model._case import expected_cost

        runner = self.get_runner()
        if not self._started_prefetch:
            self._started_prefetch = True
            ahead = self._ahead(c for cases in self.selected.values() for c in cases)
            runner.submit_all(sorted(ahead, key=expected_cost, reverse=True))
            runner.warm_up([*ahead, *self.negative.values()])
            for spec_path, template in self.negative.items():
                if self._ahead([template]):
                    self._draw_negative(spec_path)
        if case is None:
            return
        if self.prefetch_scope is Prefetch.FILE and case.file not in self._prefetched:
            self._prefetched.add(case.file)
            runner.submit_all(sorted(self.selected.get(case.file, []), key=expected_cost, reverse=True))
        runner.submit(case)

    def negative_cases(self, spec_path: Path, template: ResolvedCase) -> NegativeDraw:
        """The drawn requests and cases of the spec's negative cases (``template`` is one of them), drawn once per
        process and submitted unless another process may run some of them; a failure to draw is raised for each."""
        self.negative.setdefault(spec_path, template)
        self.prefetch()
        # Bounded by the child's own timeout (and the schema fetch's), so this waits for no longer than those.
        return self._draw_negative(spec_path).result()

    def _draw_negative(self, spec_path: Path) -> concurrent.futures.Future[NegativeDraw]:
        # A thread waits on the draws (each in a child process, one at a time) while the cases already submitted
        # are in flight: drawing would otherwise hold up this process's first item.
        if spec_path not in self._negative_draws:
            if self._drawing is None:
                from harness._run._negative import ChildDraw

                self._child_draw = ChildDraw()
                self._drawing = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="harness-negative")
            self._negative_draws[spec_path] = self._drawing.submit(self._draw_and_submit, spec_path)
        return self._negative_draws[spec_path]

    def _draw_and_submit(self, spec_path: Path) -> NegativeDraw:
        from harness._run._negative import request_schema, template_cases, with_request

        runner = self.get_runner()
        spec = self.spec_at(spec_path)
        assert spec.negative is not None
        template = self.negative[spec_path]
        schema = request_schema(spec, spec_path, runner.target.base_url, self.settings.timeout_s)
        assert self._child_draw is not None
        requests = self._child_draw.run(schema, spec.negative.count, self.settings.seed, NEGATIVE_DRAW_WAIT_S)
        templates = template_cases(spec, template.file, template.line)
        cases = [with_request(t, r) for t, r in zip(templates, requests, strict=True)]
        # Under loadfile the spec file, so all its negative cases, stays on this worker.
        runner.submit_all(cases if self.prefetch_scope is Prefetch.FILE else self._ahead(cases))
        return requests, cases

    def _ahead(self, cases: Iterable[ResolvedCase]) -> list[ResolvedCase]:
        """Those of ``cases`` this process may submit before their items run: all of them in a single process,
        the pinned ones under the harness's xdist scheduler, none otherwise (each is submitted by its item)."""
        if self.prefetch_scope is Prefetch.ALL:
            return list(cases)
        if self.prefetch_scope is Prefetch.PINNED:
            return [case for case in cases if case.key in self.pinned]
        return []

    def secrets(self) -> tuple[str, ...]:
        """Every secret this process knows: the options' and those of services started in-process."""
        known = list(self.settings.secrets)
        if self.shared_target is not None:
            known += [s for s in (self.shared_target.get("qa_token"), self.shared_target.get("callback_secret")) if s]
        targets = [self._target] + [target for target, _ in self._reference.values()]
        known += [secret for target in targets if target is not None for secret in target.secrets]
        if self.specs:
            from harness._model._spec import env_secret_values

            known += env_secret_values(self.specs.values())  # ${NAME} header values and callback secrets
        return tuple(dict.fromkeys(known))

    # ---------------------------------------------------------------- the target, for the runner and fixtures

    def target(self) -> Target:
        """What this run tests, started on first use: ``--base-url`` with the option secrets, the services the
        xdist controller started for every worker, or the in-process services of ``harness_local_target``.
        A start-up failure is raised on every call."""
        if self.startup_error is not None:
            raise self.startup_error
        if self._target is None:
            from harness._run._runner import Target

            settings = self.settings
            try:
                if settings.base_url:
                    self._target = Target(settings.base_url, settings.qa_token, settings.callback_secret)
                else:
                    if self.shared_target is None and self.shared_target_file is not None:
                        self.shared_target = self._await_shared_target(self.shared_target_file)
                    shared = self.shared_target
                    if shared is not None:
                        # Started by the xdist controller: as with --base-url, but still reported as in-process.
                        if "error" in shared:
                            raise HarnessError(shared["error"])
                        self._target = Target(
                            shared["base_url"],
                            shared["qa_token"] or None,
                            shared["callback_secret"] or None,
                            shared["model_base_url"] or None,
                        )
                    else:
                        stack = _start_local_target(settings, **_own_secrets(settings))
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
        if self._drawing is not None and self._child_draw is not None:
            self._child_draw.kill()
            self._drawing.shutdown(wait=True, cancel_futures=True)  # before the runner its thread submits to stops
            self._drawing = None
        if self.runner is not None:
            self.late_callbacks += len(self.runner.late_callbacks)
            self.runner.close()
            self.runner = None
        if self._sharing is not None:
            self._sharing.join()  # a start-up still under way ends (bounded by the stack's own timeout) first
            self._sharing = None
            if self.shared_target_file is not None:
                shutil.rmtree(self.shared_target_file.parent, ignore_errors=True)
        if self._stop_target is not None:
            self._stop_target()
            self._stop_target = None
        for _, stop in self._reference.values():
            stop()
        self._reference.clear()


def _own_secrets(settings: HarnessSettings) -> dict[str, str | None]:
    """The QA token and callback secret the user gave: the in-process services use them, not generated ones."""
    return {"qa_token": settings.qa_token, "callback_secret": settings.callback_secret}


def _stack_target(stack: Any) -> Target:
    from harness._run._runner import Target

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
