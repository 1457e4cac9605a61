"""pytest glue for case files: a collector per file and per case, and an item per case part.

``file.yaml::case-id::qa|prod|parity``: each item asks the session for its case's result (submitting
ahead so waits overlap), publishes its record through ``pytest_harness_record`` and passes, fails with
the failure text, or errors when the output was never judged (the service could not be reached).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from harness._errors import CheckFailed, HarnessError

if TYPE_CHECKING:
    from harness._model._case import ResolvedCase
    from harness._run._results import CaseResult
    from harness._run._session import HarnessSession

PARTS = ("qa", "prod", "parity")

# Typed by annotation only: the session module loads when a run first needs it, not with the plugin.
session_key: pytest.StashKey[HarnessSession] = pytest.StashKey()


class _HarnessCollector(pytest.File):
    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, HarnessError):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))


class SpecFile(_HarnessCollector):
    """A service spec: validated at collection, yields no items."""

    def collect(self) -> Iterator[pytest.Item]:
        self.config.stash[session_key].catalog.spec_at(self.path)
        return iter(())


class CaseFile(_HarnessCollector):
    """A YAML case file: one collector per case."""

    def collect(self) -> Iterator[pytest.Collector]:
        # Lazy: pydantic, YAML and the check registry load with the first case file, not with the plugin.
        from harness._model._case import parse_case_file, resolve_cases

        session = self.config.stash[session_key]
        parsed, doc = parse_case_file(self.path, session.catalog.display(self.path))
        spec = session.catalog.spec_for(self.path, parsed.service, line=doc.line_of(("service",)))
        cases = resolve_cases(parsed, doc, spec.service)
        del parsed, doc  # the resolved cases hold all a run needs; the located document can go
        marks = _MarkCache()
        skip = None
        if spec.base_url == "local:model" and session.settings.base_url:
            # The in-process model is not started for a deployed target: nothing to test, not an error.
            skip = pytest.mark.skip(
                reason=f"{spec.service}: base_url local:model is the in-process reference model, "
                "which is not started with --base-url"
            )
        for case in cases:
            node = CaseNode.from_parent(self, name=case.id, case=case, marks=marks)
            if skip is not None:
                node.add_marker(skip)
            yield node


class _MarkCache(dict[tuple[str, str | None], pytest.MarkDecorator]):
    """One MarkDecorator per mark and reason in a file: ``pytest.mark.<name>`` validates on every lookup."""

    def __missing__(self, key: tuple[str, str | None]) -> pytest.MarkDecorator:
        name, reason = key
        decorator: pytest.MarkDecorator = getattr(pytest.mark, name)
        if reason is not None:
            decorator = decorator(reason=reason)
        self[key] = decorator
        return decorator


class CaseNode(pytest.Collector):
    """One case: its QA, prod and parity items."""

    def __init__(self, *, case: ResolvedCase, marks: _MarkCache | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case
        self.marks = marks = marks if marks is not None else _MarkCache()
        for mark in case.marks:
            if isinstance(mark, str):
                self.add_marker(marks[mark, None])
            else:
                for name, reason in mark.items():
                    self.add_marker(marks[name, reason])

    def collect(self) -> Iterator[pytest.Item]:
        parts: list[str] = list(self.case.case.endpoints)
        if len(parts) == 2:
            parts.append("parity")
        for part in parts:
            yield CaseItem.from_parent(self, name=part, case=self.case, part=part, mark=self.marks[part, None])


class CaseItem(pytest.Item):
    """The QA output, the prod output, or their parity, for one case."""

    def __init__(self, *, case: ResolvedCase, part: str, mark: pytest.MarkDecorator, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case
        self.part = part
        self.add_marker(mark)
        self.result: CaseResult | None = None
        self.record: dict[str, Any] | None = None

    def setup(self) -> None:
        session = self.config.stash[session_key]
        try:
            session.prefetch(self.case)
            self.result = session.get_runner().result(self.case)
            error = self.result.infrastructure_error()
        except HarnessError as exc:
            error = exc
        if error is not None:
            # Failing in setup makes this an error (E), not a failure: the output was never judged.
            # pytrace=False and outside the except block: the message says what and what to do; a
            # traceback or the exception chain would only repeat it.
            pytest.fail(str(error), pytrace=False)

    def runtest(self) -> None:
        assert self.result is not None
        result = self.result
        from harness._report.records import part_record  # lazy, like the runner

        self.record = part_record(result, self.part)
        self.config.hook.pytest_harness_record(item=self, record=self.record)
        if not result.passed(self.part):
            raise CheckFailed(f"{self.part} of case {result.case.id!r} failed:\n{result.failure(self.part)}")
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
