"""One process's harness session: the selected cases, how far ahead to submit them, and the runner.

No pytest here: ``harness.plugin`` creates a session per process and the items ask it for results. The
session holds the spec catalog (``_model._specs``) and the targets (``_run._target``), starts the runner on
first use, and decides how far ahead to submit cases so their network waits overlap.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Iterable
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

from harness._errors import HarnessError
from harness._model._specs import SPEC_FILENAME, SpecCatalog
from harness._run._options import HarnessSettings
from harness._run._target import Targets

if TYPE_CHECKING:
    from harness._model._case import ResolvedCase
    from harness._run._negative import ChildDraw, NegativeRequest
    from harness._run._runner import CaseRunner

__all__ = ["SPEC_FILENAME", "HarnessSession", "Prefetch"]

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
    """Per-process state: the spec catalog, the targets, the selected cases and the runner (started lazily)."""

    def __init__(
        self,
        settings: HarnessSettings,
        *,
        rootpath: Path,
        prefetch: Prefetch = Prefetch.ALL,
        shared_target_file: Path | None = None,
    ) -> None:
        self.settings = settings
        self.catalog = SpecCatalog(rootpath, settings.case_paths)
        self.targets = Targets(settings, shared_file=shared_target_file)
        self.prefetch_scope = prefetch
        self.pinned: set[str] = set()
        """``Prefetch.PINNED``: the keys of the cases (negative ones too) the scheduler pins to this worker."""
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
        self.late_callbacks = 0
        """Callbacks that arrived after their wait ended, in this process (controller: in all workers)."""

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
        target = self.targets.target()
        specs = {spec.service: spec for spec in self.catalog.specs.values()}
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
        spec = self.catalog.spec_at(spec_path)
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
        """Every secret this process knows: the options', the targets' and the specs' ``${NAME}`` values."""
        known = [*self.settings.secrets, *self.targets.secrets()]
        if self.catalog.specs:
            from harness._model._spec import env_secret_values

            known += env_secret_values(self.catalog.specs.values())  # ${NAME} header values and callback secrets
        return tuple(dict.fromkeys(known))

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
        self.targets.close()
