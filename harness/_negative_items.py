"""pytest glue for generated negative cases: ``service.yaml::negative-<n>::qa|prod|parity``.

A spec with ``negative:`` collects its cases as ordinary case items whose request is drawn when the first
of them runs in this process (``harness._negative`` says why then); after that they run, report and fail
like any case, and a failure ends with the request as a case to paste into a case file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from harness._errors import CaseFileError, CheckFailed, HarnessError
from harness._items import PARTS, CaseItem, CaseNode, SpecFile, session_key
from harness._session import Prefetch

if TYPE_CHECKING:
    # The engine (pydantic models, hypothesis) loads with the first spec that asks for negative cases.
    from harness._case import ResolvedCase
    from harness._negative import NegativeRequest

_Drawn = tuple[list["NegativeRequest"], list["ResolvedCase"]] | HarnessError
drawn_key = pytest.StashKey[dict[Path, _Drawn]]()


class ServiceSpecFile(SpecFile):
    """A service spec: validated at collection; yields its negative cases when it asks for them."""

    def collect(self) -> Iterator[Any]:
        yield from super().collect()
        session = self.config.stash[session_key]
        spec = session.spec_at(self.path)
        if spec.negative is None:
            return
        from harness._negative import template_cases

        display = session.display(self.path)
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
            self.request, self.case = _drawn_case(self.config, self.path, self.case)
        except HarnessError as exc:
            pytest.fail(str(exc), pytrace=False)  # an error (E): nothing was sent
        super().setup()

    def runtest(self) -> None:
        try:
            super().runtest()
        except CheckFailed as exc:
            assert self.request is not None
            session = self.config.stash[session_key]
            spec = session.spec_at(self.path)
            id_field = spec.conversation.id_field if spec.conversation else None
            paste = self.request.case_yaml(id_field)
            raise CheckFailed(
                f"{exc}\ngenerated request (seed {session.settings.seed}): {self.request.what}; "
                f"to keep it, paste this case under cases: in a case file of {spec.service}:\n{paste}"
            ) from None


def _drawn_case(config: pytest.Config, path: Path, template: ResolvedCase) -> tuple[NegativeRequest, ResolvedCase]:
    """The request and case of ``template``; the first call per spec draws them all and submits them."""
    from harness._negative import generate, request_schema, template_cases, with_request

    cache = config.stash.setdefault(drawn_key, {})
    if path not in cache:
        session = config.stash[session_key]
        try:
            runner = session.get_runner()
            spec = session.spec_at(path)
            schema = request_schema(spec, path, runner.target.base_url, session.settings.timeout_s)
            assert spec.negative is not None
            requests = generate(schema, spec.negative.count, session.settings.seed)
            templates = template_cases(spec, template.file, template.line)
            cases = [with_request(t, r) for t, r in zip(templates, requests, strict=True)]
            cache[path] = (requests, cases)
            if session.prefetch_scope is not Prefetch.CASE:  # this process runs the whole spec file's cases
                runner.submit_all(cases)
        except HarnessError as exc:
            cache[path] = exc
    drawn = cache[path]
    if isinstance(drawn, HarnessError):
        raise drawn
    index = int(template.id.rpartition("-")[2])
    return drawn[0][index], drawn[1][index]


def _line_of_negative(path: Path) -> int:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return 1
    return next((n for n, line in enumerate(lines, 1) if re.match(r"negative\s*:", line)), 1)
