"""pytest glue for case files and service specs: a collector per file and per case, an item per case part.

``file.yaml::case-id::qa|prod|parity``: each item asks the session for its case's result (submitting
ahead so waits overlap), publishes its record through ``pytest_harness_record`` and passes, fails with
the failure text, or errors when the output was never judged (the service could not be reached).
``service.yaml::negative-<n>::qa|prod|parity``: a spec's generated negative cases, items like any other.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from harness._errors import CaseFileError, CheckFailed, HarnessError

if TYPE_CHECKING:
    from harness._model._case import ResolvedCase
    from harness._run._negative import NegativeRequest
    from harness._run._results import CaseResult
    from harness._run._session import HarnessSession

PARTS = ("qa", "prod", "parity")

# Typed by annotation only: the session module loads when a run first needs it, not with the plugin.
session_key: pytest.StashKey[HarnessSession] = pytest.StashKey()


@dataclass
class ItemInfo:
    """What reporters know of a harness item, on its stash (``item_info_key``): they read nothing else of it."""

    case: ResolvedCase
    part: str
    record: dict[str, Any] | None = None
    """The part's record, once the item ran (``pytest_harness_record`` carries it too)."""

    @cached_property
    def header(self) -> dict[str, Any]:
        """The case-header keys (``records.CASE_HEADER_KEYS``), so even an error in setup names its case."""
        from harness._report.records import case_header  # light: the records module imports no engine

        return case_header(self.case, self.part)

    @property
    def checks(self) -> tuple[str, ...]:
        """The case's check names."""
        return tuple(name for name, _ in self.case.checks)


item_info_key: pytest.StashKey[ItemInfo] = pytest.StashKey()


class _HarnessCollector(pytest.File):
    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, HarnessError):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))


class CaseFile(_HarnessCollector):
    """A YAML case file: one collector per case."""

    def collect(self) -> Iterator[pytest.Collector]:
        # Lazy: pydantic, YAML and the check registry load with the first case file, not with the plugin.
        from harness._model._case import parse_case_file, resolve_cases

        session = self.config.stash[session_key]
        parsed, doc = parse_case_file(self.path, session.catalog.display(self.path))
        try:
            spec = session.catalog.spec_for(self.path, parsed.service, line=doc.line_of(("service",)))
        except CaseFileError as exc:
            if exc.path == doc.path or not self._collects(exc.path):
                raise
            # The spec's own node reports its error in full: say it once, and point at it from here.
            raise CaseFileError(
                doc.path, doc.line_of(("service",)) or 1, f"not collected: its service spec is invalid ({exc.path})"
            ) from None
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

    def _collects(self, display: str) -> bool:
        """True if this run collects the file shown as ``display`` on its own (it lies under an argument)."""
        path = (self.config.rootpath / display).resolve()
        base = self.config.invocation_params.dir
        return any(path.is_relative_to((base / arg.split("::")[0]).resolve()) for arg in self.config.args)


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
        self.stash[item_info_key] = ItemInfo(case, part)  # built lazily: collection of 30,000 items pays nothing

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
            pytest.fail(self._masked(str(error)), pytrace=False)

    def runtest(self) -> None:
        assert self.result is not None
        result = self.result
        from harness._report.records import part_record  # lazy, like the runner

        info = self.stash[item_info_key]
        info.record = part_record(result, self.part)
        # A parity item's reporters show both sides too: built once per case (part_record keeps them).
        sides = {name: part_record(result, name) for name in result.runs[0].sides} if self.part == "parity" else None
        self.config.hook.pytest_harness_record(item=self, record=info.record, sides=sides)
        if not result.passed(self.part):
            failure = f"{self.part} of case {result.case.id!r} failed:\n{result.failure(self.part)}"
            raise CheckFailed(self._masked(failure))
        skipped = result.skipped_checks(self.part)
        if skipped:
            # Everything that could run passed; what could not is a skip with its reason, not a pass.
            pytest.skip(self._masked("; ".join(skipped)))

    def _masked(self, text: str) -> str:
        """``text`` with the run's secrets masked, before it becomes an exception that every writer reads."""
        # allure-pytest stores the exception's own text (statusDetails.message), not the masked report:
        # masking here, where the text is made, leaves no writer to miss it.
        from harness._report.masking import redact_text

        return redact_text(text, self.config.stash[session_key].secrets())

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, HarnessError | CheckFailed):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, self.case.line - 1, f"{self.case.id}::{self.part}"


# ---------------------------------------------------------------- service.yaml: generated negative cases


class ServiceSpecFile(_HarnessCollector):
    """A service spec: validated at collection; yields its generated negative cases when it asks for them.

    Their requests are drawn once this process starts running cases (``harness._run._negative`` says why then;
    ``HarnessSession.negative_cases`` draws them in the background); after that they run, report and fail like
    any case, and a failure ends with the request as a case to paste into a case file.
    """

    def collect(self) -> Iterator[Any]:
        session = self.config.stash[session_key]
        spec = session.catalog.spec_at(self.path)
        if spec.negative is None:
            return
        from harness._run._negative import template_cases

        display = session.catalog.display(self.path)
        line = _line_of_negative(self.path)
        if spec.negative.source != "openapi" and not (self.path.parent / spec.negative.source).is_file():
            raise CaseFileError(
                display,
                line,
                f"negative-case schema file {spec.negative.source!r} not found",
                "give a JSON Schema file of the request body, relative to this spec, or schema: openapi",
            )
        for case in template_cases(spec, display, line):
            yield NegativeNode.from_parent(self, name=case.id, case=case)


class NegativeNode(CaseNode):
    """One generated negative case: its QA, prod and parity items."""

    def collect(self) -> Iterator[pytest.Item]:
        for part in PARTS:
            yield NegativeItem.from_parent(self, name=part, case=self.case, part=part, mark=self.marks[part, None])


class NegativeItem(CaseItem):
    """A case item whose request is drawn from the service's request schema when it first runs."""

    request: NegativeRequest | None = None

    def setup(self) -> None:
        try:
            requests, cases = self.config.stash[session_key].negative_cases(self.path, self.case)
            index = int(self.case.id.rpartition("-")[2])
            self.request, self.case = requests[index], cases[index]
        except HarnessError as exc:
            pytest.fail(self._masked(str(exc)), pytrace=False)  # an error (E): nothing was sent
        super().setup()

    def runtest(self) -> None:
        try:
            super().runtest()
        except CheckFailed as exc:
            assert self.request is not None
            session = self.config.stash[session_key]
            spec = session.catalog.spec_at(self.path)
            id_field = spec.conversation.id_field if spec.conversation else None
            paste = self.request.case_yaml(id_field)
            raise CheckFailed(
                self._masked(
                    f"{exc}\ngenerated request (seed {session.settings.seed}): {self.request.what}; "
                    f"to keep it, paste this case under cases: in a case file of {spec.service}:\n{paste}"
                )
            ) from None


def _line_of_negative(path: Path) -> int:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return 1
    return next((n for n, line in enumerate(lines, 1) if re.match(r"negative\s*:", line)), 1)
