"""pytest glue for generated negative cases: ``service.yaml::negative-<n>::qa|prod|parity``.

A spec with ``negative:`` collects its cases as ordinary case items whose requests are drawn once this
process starts running cases (``harness._run._negative`` says why then; ``HarnessSession.negative_cases`` draws them
in the background); after that they run, report and fail like any case, and a failure ends with the request
as a case to paste into a case file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from harness._errors import CaseFileError, CheckFailed, HarnessError
from harness.plugin._items import PARTS, CaseItem, CaseNode, SpecFile, session_key

if TYPE_CHECKING:
    # The engine (pydantic models, hypothesis) loads with the first spec that asks for negative cases.
    from harness._run._negative import NegativeRequest


class ServiceSpecFile(SpecFile):
    """A service spec: validated at collection; yields its negative cases when it asks for them."""

    def collect(self) -> Iterator[Any]:
        yield from super().collect()
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
            pytest.fail(str(exc), pytrace=False)  # an error (E): nothing was sent
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
                f"{exc}\ngenerated request (seed {session.settings.seed}): {self.request.what}; "
                f"to keep it, paste this case under cases: in a case file of {spec.service}:\n{paste}"
            ) from None


def _line_of_negative(path: Path) -> int:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return 1
    return next((n for n, line in enumerate(lines, 1) if re.match(r"negative\s*:", line)), 1)
