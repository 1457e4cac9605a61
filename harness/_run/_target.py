"""What a run tests: ``--base-url``, the services the xdist controller started for every worker, or the in-process
reference services of ``harness_local_target`` — started on first use, handed to workers, stopped at the end."""

from __future__ import annotations

import importlib
import inspect
import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness._errors import HarnessError
from harness._run._options import HarnessSettings

SHARED_TARGET_WAIT_S = 120.0


@dataclass(frozen=True)
class Target:
    """Where the services under test live and the secrets they expect."""

    base_url: str
    qa_token: str | None = None
    callback_secret: str | None = None
    model_url: str | None = None
    """The in-process services' OpenAI-compatible model (``/v1``); None for a ``--base-url`` target."""

    @property
    def secrets(self) -> tuple[str, ...]:
        """The secrets to mask wherever this target's traffic is shown."""
        return tuple(s for s in (self.qa_token, self.callback_secret) if s)


class Targets:
    """One process's targets: the run's own (started on first use) and extra reference stacks with other faults."""

    def __init__(self, settings: HarnessSettings, *, shared_file: Path | None = None) -> None:
        self.settings = settings
        self.shared: Mapping[str, str] | None = None
        """The services the xdist controller started for every worker (see :meth:`share`)."""
        self.shared_file = shared_file
        """xdist worker: where the controller writes ``shared`` once the services are up."""
        self._sharing: threading.Thread | None = None
        self._target: Target | None = None
        self._error: HarnessError | None = None
        self._stop: Any = None
        self._reference: dict[tuple[str, ...], tuple[Target, Any]] = {}

    # ---------------------------------------------------------------- the xdist controller's hand-off

    def share(self) -> Mapping[str, str] | None:
        """xdist controller: start the in-process services once for every worker; their URLs and secrets.

        None with ``--base-url`` (workers use it). A start-up failure is handed on as ``{"error": ...}``, and
        every worker reports it on every item, as a worker that had failed to start them would.
        """
        if self.settings.base_url:
            return None
        if self.shared is None:
            try:
                stack = _start_local_target(self.settings, **_own_secrets(self.settings))
            except HarnessError as exc:
                self.shared = {"error": str(exc)}
            else:
                self._stop = stack.stop
                self.shared = {
                    "base_url": stack.base_url,
                    "model_base_url": getattr(stack, "model_base_url", None) or "",
                    "qa_token": stack.qa_token or "",
                    "callback_secret": stack.callback_secret or "",
                }
        return self.shared

    def share_in_background(self) -> Path:
        """xdist controller: start the services in a thread; return the file their URLs and secrets go to.

        Workers boot and collect meanwhile (a second or two each) and read the file at their first item, so
        starting the services is off the critical path instead of before the first worker is even spawned.
        """
        handoff = Path(tempfile.mkdtemp(prefix="harness-services-"), "target.json")

        def start() -> None:
            shared = self.share() or {"error": "no in-process services with --base-url"}
            handoff.with_suffix(".tmp").write_text(json.dumps(dict(shared)), encoding="utf-8")
            os.replace(handoff.with_suffix(".tmp"), handoff)  # atomic: a worker never reads half a file

        self.shared_file = handoff
        self._sharing = threading.Thread(target=start, name="harness-start-services", daemon=True)
        self._sharing.start()
        return handoff

    def _await_shared(self, handoff: Path) -> Mapping[str, str]:
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

    # ---------------------------------------------------------------- targets, for the runner and fixtures

    def target(self) -> Target:
        """What this run tests, started on first use: ``--base-url`` with the option secrets, the services the
        xdist controller started for every worker, or the in-process services of ``harness_local_target``.
        A start-up failure is raised on every call."""
        if self._error is not None:
            raise self._error
        if self._target is None:
            settings = self.settings
            try:
                if settings.base_url:
                    self._target = Target(settings.base_url, settings.qa_token, settings.callback_secret)
                else:
                    if self.shared is None and self.shared_file is not None:
                        self.shared = self._await_shared(self.shared_file)
                    shared = self.shared
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
                        self._stop = stack.stop
                        self._target = _stack_target(stack)
            except HarnessError as exc:
                self._error = exc
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

    def secrets(self) -> tuple[str, ...]:
        """The secrets of every target started or handed over in this process."""
        known: list[str] = []
        if self.shared is not None:
            known += [s for s in (self.shared.get("qa_token"), self.shared.get("callback_secret")) if s]
        targets = [self._target] + [target for target, _ in self._reference.values()]
        known += [secret for target in targets if target is not None for secret in target.secrets]
        return tuple(known)

    def close(self) -> None:
        """Stop whatever was started in this process (a start-up still under way ends first)."""
        if self._sharing is not None:
            self._sharing.join()  # bounded by the stack's own start-up timeout
            self._sharing = None
            if self.shared_file is not None:
                shutil.rmtree(self.shared_file.parent, ignore_errors=True)
        if self._stop is not None:
            self._stop()
            self._stop = None
        for _, stop in self._reference.values():
            stop()
        self._reference.clear()


def _own_secrets(settings: HarnessSettings) -> dict[str, str | None]:
    """The QA token and callback secret the user gave: the in-process services use them, not generated ones."""
    return {"qa_token": settings.qa_token, "callback_secret": settings.callback_secret}


def _stack_target(stack: Any) -> Target:
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
