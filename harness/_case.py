"""Case files: the models (pydantic, ``extra="forbid"``) and their loading with file:line errors."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from harness._errors import CaseFileError
from harness._validation import StrictModel, validation_error
from harness._yaml import LocatedDocument, read_located

ParityLevel = Literal["exact", "normalized", "structural", "semantic", "lexical", "none"]
PARITY_LEVELS: tuple[str, ...] = get_args(ParityLevel)
EndpointName = Literal["qa", "prod"]
CheckSpec = Annotated[
    str | dict[str, Any],
    Field(description="A check name, or a one-key mapping {name: argument}."),
]


class ParitySpec(StrictModel):
    """How QA and prod outputs must agree."""

    level: ParityLevel = Field(
        "structural", description="exact, normalized, structural, semantic (embeddings), lexical or none."
    )
    threshold: float = Field(0.8, ge=0, le=1, description="semantic and lexical: minimum similarity.")
    ignore: list[str] = Field(default_factory=list, description="JSON paths the body comparison ignores.")
    noise_samples: int = Field(
        0,
        ge=0,
        le=20,
        description="Noise-aware parity: call each endpoint this many times (>= 2) and judge the QA-vs-prod "
        "difference against each endpoint's variation with itself.",
    )
    margin: float = Field(0.05, ge=0, le=1, description="Noise-aware: allowed shortfall below self-similarity.")


class Turn(StrictModel):
    """One message of a multi-turn conversation."""

    input: dict[str, Any] = Field(description="Fields merged over the case's input for this turn.")
    checks: list[CheckSpec] = Field(default_factory=list, description="Checks on this turn's output.")


Mark = str | dict[Literal["skip", "xfail"], str]


class Defaults(StrictModel):
    """Values every case of the file starts from."""

    checks: list[CheckSpec] = Field(default_factory=list)
    parity: ParityLevel | ParitySpec | None = None
    timeout_s: float | None = Field(None, gt=0)
    repeat: int | None = Field(None, ge=1, le=100)
    min_pass_rate: float | None = Field(None, ge=0, le=1)
    marks: list[Mark] = Field(default_factory=list)
    headers: dict[str, str | None] = Field(default_factory=dict)


class Case(StrictModel):
    """One input and what its outputs must satisfy, run against both endpoints."""

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", description="Unique in the file; used in test ids.")
    description: str = ""
    input: dict[str, Any] | None = Field(None, description="The JSON request body.")
    raw_body: str | None = Field(None, description="A raw request body sent as-is (e.g. malformed JSON).")
    headers: dict[str, str | None] = Field(
        default_factory=dict, description="Extra request headers; null removes one the harness would send."
    )
    auth: Literal["default", "none", "invalid"] = Field(
        "default", description="QA token: default sends it, none omits it, invalid sends a wrong one."
    )
    endpoints: list[EndpointName] = Field(
        default_factory=lambda: list[EndpointName](["qa", "prod"]), min_length=1, description="Which endpoints to call."
    )
    turns: list[Turn] | None = Field(None, min_length=1, description="Multi-turn conversation, in order.")
    checks: list[CheckSpec] = Field(default_factory=list, description="Checks on every endpoint's output.")
    parity: ParityLevel | ParitySpec | None = None
    repeat: int | None = Field(None, ge=1, le=100, description="Run the case this many times.")
    min_pass_rate: float | None = Field(None, ge=0, le=1, description="Share of repeats that must pass.")
    timeout_s: float | None = Field(None, gt=0, description="Bound on each delivery, in seconds.")
    marks: list[Mark] = Field(default_factory=list, description="pytest marks: names, or {skip: why}, {xfail: why}.")

    @field_validator("checks")
    @classmethod
    def _one_key_checks(cls, checks: list[str | dict[str, Any]]) -> list[str | dict[str, Any]]:
        for spec in checks:
            if isinstance(spec, dict) and len(spec) != 1:
                raise ValueError(f"a check is a name or a one-key mapping, got keys {sorted(spec)}")
        return checks


class CaseFile(StrictModel):
    """A YAML file of cases for one service."""

    service: str | None = Field(None, description="Service spec name; default: the spec in the same folder.")
    defaults: Defaults = Field(default_factory=Defaults)
    cases: list[Case] = Field(min_length=1)


# ---------------------------------------------------------------- resolved cases


class ResolvedCase(BaseModel):
    """A case with the file's defaults applied, ready to run."""

    model_config = ConfigDict(frozen=True)

    file: str
    line: int
    service: str
    case: Case
    checks: tuple[tuple[str, Any], ...]
    turns: tuple[tuple[dict[str, Any] | None, tuple[tuple[str, Any], ...]], ...]
    """(input merged over the case input, checks of that turn) per turn; one turn for single-turn cases."""
    parity: ParitySpec
    repeat: int
    min_pass_rate: float
    timeout_s: float | None
    marks: tuple[Mark, ...]
    headers: dict[str, str | None]

    @property
    def id(self) -> str:
        """The case id."""
        return self.case.id

    @property
    def key(self) -> str:
        """Unique across the run: file and case id."""
        return f"{self.file}::{self.case.id}"


def normalise_check(spec: str | dict[str, Any]) -> tuple[str, Any]:
    """``"name"`` or ``{"name": arg}`` as ``(name, arg)``."""
    if isinstance(spec, str):
        return spec, None
    ((name, arg),) = spec.items()
    return name, arg


def _first(*values: float | None) -> float:
    """The first value that is not None (0.0 counts)."""
    return next(v for v in values if v is not None)


def _as_parity(value: ParityLevel | ParitySpec | None) -> ParitySpec | None:
    if value is None or isinstance(value, ParitySpec):
        return value
    return ParitySpec(level=value)


# ---------------------------------------------------------------- loading

_SUBMODELS: dict[str, type[BaseModel]] = {
    "defaults": Defaults,
    "cases": Case,
    "turns": Turn,
    "parity": ParitySpec,
}


def parse_case_file(path: Path, display: str) -> tuple[CaseFile, LocatedDocument]:
    """Read and validate one case file; every problem is a ``CaseFileError`` naming file:line."""
    doc = read_located(path, display)
    if not isinstance(doc.data, dict):
        raise CaseFileError(display, 1, "a case file is a mapping with a 'cases:' list", "start the file with 'cases:'")
    try:
        parsed = CaseFile.model_validate(doc.data)
    except ValidationError as exc:
        raise validation_error(exc, doc, "case file", CaseFile, _SUBMODELS) from None
    return parsed, doc


def _checks_of(
    doc: LocatedDocument,
    case_id: str,
    known: list[str],
    specs: list[Any],
    loc: tuple[Any, ...],
    arg_errors: Callable[[str, Any], list[str]],
) -> tuple[tuple[str, Any], ...]:
    """Normalised checks, each name known to the registry and each argument fitting its schema."""
    out = []
    for position, spec in enumerate(specs):
        name, arg = normalise_check(spec)
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"did you mean {close[0]!r}?" if close else "register it with @harness.check"
            raise CaseFileError(
                doc.path,
                doc.line_of((*loc, position)),
                f"unknown check {name!r} in case {case_id!r}",
                f"{hint} (known checks: {', '.join(known)})",
            )
        problems = arg_errors(name, arg)
        if problems:
            raise CaseFileError(
                doc.path,
                doc.line_of((*loc, position)),
                f"check {name!r} in case {case_id!r}: bad argument {arg!r}: {'; '.join(problems[:3])}",
                f"see the argument column of {name!r} in the README's checks table",
            )
        out.append((name, arg))
    return tuple(out)


def _merge_checks(
    defaults: tuple[tuple[str, Any], ...], own: tuple[tuple[str, Any], ...]
) -> tuple[tuple[str, Any], ...]:
    """The file's default checks, each replaced by the case's own check of the same name, then the case's others.

    ``{status: 401}`` in a case replaces a default ``{status: 422}`` instead of adding a contradiction.
    """
    own_names = {name for name, _ in own}
    return tuple(check for check in defaults if check[0] not in own_names) + own


def resolve_cases(
    parsed: CaseFile,
    doc: LocatedDocument,
    service: str,
    known_checks: Iterable[str],
    check_scope: Callable[[str], str],
    arg_errors: Callable[[str, Any], list[str]] = lambda name, arg: [],
) -> list[ResolvedCase]:
    """Apply defaults, check names, arguments and ids; ``CaseFileError`` on duplicates, unknown checks, bad arguments.

    ``arg_errors(name, arg)`` says why an argument does not fit its check (empty when it does).
    """
    known = sorted(known_checks)
    seen: dict[str, int] = {}
    resolved: list[ResolvedCase] = []
    defaults = parsed.defaults
    for index, case in enumerate(parsed.cases):
        line = doc.line_of(("cases", index)) or 1
        if case.id in seen:
            raise CaseFileError(
                doc.path,
                doc.line_of(("cases", index, "id")),
                f"duplicate case id {case.id!r} (first at line {seen[case.id]})",
                "give every case in the file a unique id",
            )
        seen[case.id] = line
        if case.input is not None and case.raw_body is not None:
            raise CaseFileError(doc.path, line, f"case {case.id!r} has both 'input' and 'raw_body'", "keep one of them")

        default_checks = _checks_of(doc, case.id, known, defaults.checks, ("defaults", "checks"), arg_errors)
        own_checks = _checks_of(doc, case.id, known, case.checks, ("cases", index, "checks"), arg_errors)
        if len(case.endpoints) < 2:
            # A file's default pair checks do not apply to a case that calls one endpoint: nothing to pair.
            default_checks = tuple(c for c in default_checks if check_scope(c[0]) != "pair")
        case_checks = _merge_checks(default_checks, own_checks)
        turns: tuple[tuple[dict[str, Any] | None, tuple[tuple[str, Any], ...]], ...]
        if case.turns:
            turns = tuple(
                (
                    turn.input,
                    _checks_of(doc, case.id, known, turn.checks, ("cases", index, "turns", t, "checks"), arg_errors),
                )
                for t, turn in enumerate(case.turns)
            )
        else:
            turns = ((None, ()),)
        pair_checks = [n for n, _ in case_checks if check_scope(n) == "pair"]
        if pair_checks and len(case.endpoints) < 2:
            raise CaseFileError(
                doc.path,
                line,
                f"case {case.id!r} uses pair check(s) {pair_checks} but calls only {case.endpoints}",
                "pair checks compare QA and prod: call both endpoints or drop them",
            )
        parity = _as_parity(case.parity) or _as_parity(defaults.parity) or ParitySpec()
        resolved.append(
            ResolvedCase(
                file=doc.path,
                line=line,
                service=service,
                case=case,
                checks=case_checks,
                turns=turns,
                parity=parity,
                repeat=case.repeat or defaults.repeat or 1,
                min_pass_rate=_first(case.min_pass_rate, defaults.min_pass_rate, 1.0),
                timeout_s=case.timeout_s or defaults.timeout_s,
                marks=tuple(defaults.marks) + tuple(case.marks),
                headers={**defaults.headers, **case.headers},
            )
        )
    return resolved
