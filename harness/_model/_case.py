"""Case files: the models (pydantic, ``extra="forbid"``) and their loading with file:line errors."""

from __future__ import annotations

import difflib
import json
import math
import posixpath
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from harness._errors import CaseFileError
from harness._model._dataset import ROW_NUMBER, MissingColumn, Row, Template, read_rows, row_marks
from harness._model._numbers import Fraction, NoiseSamples, Repeat, Seconds
from harness._model._validation import StrictModel, validation_error
from harness._model._yaml import KeyPath, LocatedDocument, read_located

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
    threshold: Fraction | None = Field(
        None,
        description="semantic and lexical: minimum similarity (default: semantic 0.45 by embeddings, lexical 0.8).",
    )
    ignore: list[str] = Field(default_factory=list, description="JSON paths the body comparison ignores.")
    noise_samples: NoiseSamples = Field(
        0,
        description="Noise-aware parity: call each endpoint this many times (>= 2) and judge the QA-vs-prod "
        "difference against each endpoint's variation with itself.",
    )
    margin: Fraction = Field(0.05, description="Noise-aware: allowed shortfall below self-similarity.")


GoldenLevel = Literal["exact", "normalized", "structural", "semantic", "lexical"]


class GoldenOutput(StrictModel):
    """The output a case was recorded with (or one written by hand), and how close each endpoint's must stay."""

    status: int | None = Field(
        None, ge=100, le=599, description="The status recorded; an error status must be answered alike. None: 2xx."
    )
    text: str | None = Field(None, description="The output text (what the spec's text pointer or the stream gave).")
    sources: list[str] | None = Field(None, description="The source ids, when the service returns them.")
    body: Any = Field(None, description="The JSON result, kept when there is no text (compared at the same level).")
    level: GoldenLevel = Field(
        "normalized",
        description="How each endpoint's output must match: exact, normalized, structural, semantic (embeddings, "
        "else lexical) or lexical.",
    )
    threshold: float = Field(0.8, ge=0, le=1, description="semantic and lexical: minimum similarity.")
    ignore: list[str] = Field(
        default_factory=list,
        description="JSON paths of the body left out of the comparison: the noise learned by recording each "
        "input several times (ids, timestamps), or written by hand.",
    )
    endpoint: EndpointName | None = Field(None, description="Which endpoint the output was recorded from.")
    samples: int = Field(1, ge=1, description="How many answers to the same input the noise was learned from.")
    self_similarity: float | None = Field(
        None, ge=0, le=1, description="The lowest similarity between those answers (it set the threshold)."
    )


class Turn(StrictModel):
    """One message of a multi-turn conversation."""

    input: dict[str, Any] = Field(description="Fields merged over the case's input for this turn.")
    checks: list[CheckSpec] = Field(default_factory=list, description="Checks on this turn's output.")


Mark = str | dict[Literal["skip", "xfail"], str]


class Defaults(StrictModel):
    """Values every case of the file starts from."""

    checks: list[CheckSpec] = Field(default_factory=list)
    parity: ParityLevel | ParitySpec | None = None
    timeout_s: Seconds | None = None
    repeat: Repeat | None = None
    min_pass_rate: Fraction | None = None
    marks: list[Mark] = Field(default_factory=list)
    headers: dict[str, str | None] = Field(default_factory=dict)


class Case(StrictModel):
    """One input and what its outputs must satisfy, run against both endpoints."""

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", description="Unique in the file; used in test ids.")
    description: str = Field("", description="Free text, shown in reports.")
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
    parity: ParityLevel | ParitySpec | None = Field(
        None, description="How QA and prod must agree: a level, or {level, threshold, ignore, noise_samples, margin}."
    )
    repeat: Repeat | None = Field(None, description="Run the case this many times.")
    min_pass_rate: Fraction | None = Field(None, description="Share of repeats that must pass.")
    timeout_s: Seconds | None = Field(None, description="Bound on each delivery, in seconds.")
    marks: list[Mark] = Field(default_factory=list, description="pytest marks: names, or {skip: why}, {xfail: why}.")
    golden: GoldenOutput | None = Field(
        None,
        description="The known-good output each endpoint's is compared with (harness record writes it): "
        "{text, sources, body, status, level, threshold, ignore}.",
    )

    @field_validator("checks")
    @classmethod
    def _one_key_checks(cls, checks: list[str | dict[str, Any]]) -> list[str | dict[str, Any]]:
        for spec in checks:
            if isinstance(spec, dict) and len(spec) != 1:
                raise ValueError(f"a check is a name or a one-key mapping, got keys {sorted(spec)}")
        return checks


class Dataset(StrictModel):
    """A JSONL or CSV file whose rows each fill the file's ``template`` into a case."""

    file: str = Field(
        description="A .jsonl (one JSON object a line) or .csv (a header row) file, relative to the case file."
    )
    marks_column: str | None = Field(
        None, description="Column of per-row marks: a list, or comma-separated names; added to the template's."
    )
    json_cells: bool = Field(
        True, description='CSV: a cell that parses as JSON (3, true, ["a"]) takes that value; false keeps text.'
    )


_TEXT_FIELDS = frozenset({"id", "description"})
"""Template fields filled as text even from a whole-value placeholder: ``id: ${n}`` with n = 7 is "7"."""


class CaseFile(StrictModel):
    """A YAML file of cases for one service."""

    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [{"required": ["cases"]}, {"required": ["dataset", "template"]}],
            "dependentRequired": {"dataset": ["template"], "template": ["dataset"]},
        }
    )

    service: str | None = Field(None, description="Service spec name; default: the spec in the same folder.")
    defaults: Defaults = Field(default_factory=Defaults, description="Values every case of the file starts from.")
    cases: list[Case] = Field(default_factory=list, description="The cases; may be left out with a dataset.")
    dataset: Dataset | None = Field(None, description="Cases from the rows of a JSONL or CSV file, by 'template'.")
    template: dict[str, Any] | None = Field(
        None,
        description="A case filled from each dataset row: '${column}' as a whole value takes the row's value "
        "with its type, inside a longer string its text; '${_row}' is the row number; default id row-<n>.",
        json_schema_extra={"propertyNames": {"enum": list[Any](sorted(Case.model_fields))}},
    )


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

    @property
    def all_checks(self) -> list[tuple[str, Any]]:
        """The case's checks and every turn's own, as ``(name, arg)``."""
        return [*self.checks, *(check for _, turn_checks in self.turns for check in turn_checks)]

    def expects_status(self, status: int) -> bool:
        """Whether a ``status`` check lists ``status``, or a ``rejected`` check accepts it (any 4xx)."""
        for name, arg in self.all_checks:
            if name == "status" and status in ([arg] if isinstance(arg, int) else arg):
                return True
            if name == "rejected" and 400 <= status <= 499:
                return True
        return False

    @property
    def expects_error(self) -> bool:
        """The case expects an error answer: a ``rejected`` check, or a ``status`` check of error codes only."""
        for name, arg in self.all_checks:
            if name == "rejected":
                return True
            if name == "status" and all(code >= 400 for code in ([arg] if isinstance(arg, int) else arg)):
                return True
        return False


def expected_cost(case: ResolvedCase) -> float:
    """A rough guess of how long ``case`` keeps one of the runner's slots, to start the longest first.

    Deliveries one after another (turns, repeats, noise samples) take longer; a case that expects an error
    status is answered before any model runs, so it counts for little.
    """
    deliveries = len(case.turns) * case.repeat * max(1, case.parity.noise_samples)
    return deliveries * (0.1 if case.expects_error else 1.0)


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
    "dataset": Dataset,
    "golden": GoldenOutput,
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
    _check_dataset_keys(parsed, doc)
    return parsed, doc


def _check_dataset_keys(parsed: CaseFile, doc: LocatedDocument) -> None:
    """Cases or a dataset; a dataset with a template whose keys are case keys (values are checked per row)."""
    if parsed.dataset is None and parsed.template is None:
        if not parsed.cases:
            raise CaseFileError(
                doc.path,
                doc.line_of(("cases",)) or 1,
                "invalid case file: missing required key 'cases' at (top level)"
                if "cases" not in doc.data
                else "invalid case file: 'cases' is empty",
                "add 'cases:' with at least one case (or 'dataset:' and 'template:')",
            )
        return
    if parsed.template is None or parsed.dataset is None:
        present, absent = ("dataset", "template") if parsed.template is None else ("template", "dataset")
        raise CaseFileError(
            doc.path,
            doc.line_of((present,)),
            f"invalid case file: '{present}:' without '{absent}:'",
            "a dataset's rows fill a template: give both 'dataset:' and 'template:'",
        )
    allowed = sorted(Case.model_fields)
    for key in parsed.template:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), allowed, n=1)
            line = doc.line_of(("template", key))
            raise CaseFileError(
                doc.path,
                line,
                f"invalid case file: unknown key {key!r} at template.{key}\n    {line} | {doc.excerpt(line)}",
                f"did you mean {close[0]!r}?" if close else f"allowed keys: {', '.join(allowed)}",
            )
    file = parsed.dataset.file
    if posixpath.isabs(file) or Path(file).is_absolute():
        raise CaseFileError(
            doc.path,
            doc.line_of(("dataset", "file")),
            f"invalid case file: dataset file {file!r} is absolute",
            "give it relative to the case file, so the suite runs on any machine",
        )


@dataclass(frozen=True)
class _Origin:
    """Where a case was written: ``cases[index]`` of the file, or a dataset row filled by the template."""

    doc: LocatedDocument
    index: int = 0
    row: Row | None = None
    dataset: str = ""

    @property
    def line(self) -> int:
        """The case file line that reports point at: the case, or the template."""
        return (self.doc.line_of(("cases", self.index) if self.row is None else ("template",))) or 1

    @property
    def where(self) -> str:
        """How a duplicate's message names this case's place."""
        return f"line {self.line}" if self.row is None else f"{self.dataset}:{self.row.line}"

    def error(self, loc: KeyPath, message: str, fix: str) -> CaseFileError:
        """A ``CaseFileError`` at ``loc`` inside this case: the case file's line, or the row's and the template's."""
        if self.row is None:
            return CaseFileError(self.doc.path, self.doc.line_of(("cases", self.index, *loc)), message, fix)
        template_line = self.doc.line_of(("template", *loc))
        return CaseFileError(
            self.dataset,
            self.row.line,
            f"row {self.row.number}: {message}\n  template: {self.doc.path}:{template_line}",
            fix,
        )


_ArgErrors = Callable[[str, Any], list[str]]


def _checks_of(
    error: Callable[[KeyPath, str, str], CaseFileError],
    case_id: str,
    known: list[str],
    specs: list[Any],
    loc: KeyPath,
    arg_errors: _ArgErrors,
) -> tuple[tuple[str, Any], ...]:
    """Normalised checks, each name known to the registry and each argument fitting its schema."""
    out = []
    for position, spec in enumerate(specs):
        name, arg = normalise_check(spec)
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"did you mean {close[0]!r}?" if close else "register it with @harness.check"
            raise error(
                (*loc, position),
                f"unknown check {name!r} in case {case_id!r}",
                f"{hint} (known checks: {', '.join(known)})",
            )
        if _has_non_finite(arg):
            # YAML reads .inf, .nan and 1.0e+999 as floats that JSON Schema's "number" accepts: a budget
            # of infinity bounds nothing.
            raise error(
                (*loc, position),
                f"check {name!r} in case {case_id!r}: bad argument {arg!r}: numbers must be finite",
                "give a finite number",
            )
        problems = arg_errors(name, arg)
        if problems:
            raise error(
                (*loc, position),
                f"check {name!r} in case {case_id!r}: bad argument {arg!r}: {'; '.join(problems[:3])}",
                f"see the argument column of {name!r} in the checks reference (docs/reference/checks.md)",
            )
        out.append((name, arg))
    return tuple(out)


def _has_non_finite(value: Any) -> bool:
    """True if ``value`` or anything in it is an infinite or NaN float."""
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(_has_non_finite(item) for item in value.values())
    if isinstance(value, list):
        return any(_has_non_finite(item) for item in value)
    return False


def _cached(arg_errors: _ArgErrors) -> _ArgErrors:
    """``arg_errors`` remembered per argument: a dataset repeats a template's arguments thousands of times."""
    cache: dict[tuple[str, str], list[str]] = {}

    def cached(name: str, arg: Any) -> list[str]:
        try:
            key = (name, json.dumps(arg, sort_keys=True))
        except (TypeError, ValueError):
            return arg_errors(name, arg)
        if key not in cache:
            cache[key] = arg_errors(name, arg)
        return cache[key]

    return cached


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
    known_checks: Iterable[str] | None = None,
    check_scope: Callable[[str], str] | None = None,
    arg_errors: _ArgErrors | None = None,
) -> list[ResolvedCase]:
    """Apply defaults, check names, arguments and ids; ``CaseFileError`` on duplicates, unknown checks, bad arguments.

    The file's own cases come first, then one case per row of its dataset. Checks are looked up in the
    check registry unless ``known_checks``, ``check_scope(name)`` and ``arg_errors(name, arg)`` (why an
    argument does not fit its check; empty when it does) say otherwise.
    """
    if known_checks is None or check_scope is None or arg_errors is None:
        from harness._verdict._checks import check_names, get_check  # lazy: the registry loads the built-in checks

        known_checks = check_names() if known_checks is None else known_checks
        check_scope = check_scope or (lambda name: get_check(name).scope)
        arg_errors = arg_errors or (lambda name, arg: get_check(name).arg_errors(arg))
    known = sorted(known_checks)
    arg_errors = _cached(arg_errors)
    seen: dict[str, _Origin] = {}
    resolved: list[ResolvedCase] = []
    default_checks: tuple[tuple[str, Any], ...] | None = None
    for case, origin in _cases_of(parsed, doc):
        if case.id in seen:
            raise origin.error(
                ("id",),
                f"duplicate case id {case.id!r} (first at {seen[case.id].where})",
                "give every case in the file a unique id",
            )
        seen[case.id] = origin
        if default_checks is None:
            # Once per file (named after its first case, as always): defaults do not vary by case.
            default_checks = _checks_of(
                lambda loc, message, fix: CaseFileError(doc.path, doc.line_of(loc), message, fix),
                case.id,
                known,
                parsed.defaults.checks,
                ("defaults", "checks"),
                arg_errors,
            )
        resolved.append(
            _resolve(case, origin, parsed.defaults, default_checks, service, known, check_scope, arg_errors)
        )
    return resolved


def _cases_of(parsed: CaseFile, doc: LocatedDocument) -> Iterable[tuple[Case, _Origin]]:
    """The file's cases, then its dataset's, each with where it was written."""
    for index, case in enumerate(parsed.cases):
        yield case, _Origin(doc, index)
    if parsed.dataset is None or parsed.template is None:
        return
    dataset = parsed.dataset
    display = posixpath.normpath(posixpath.join(posixpath.dirname(doc.path.replace("\\", "/")), dataset.file))
    base = doc.file.parent if doc.file is not None else Path(doc.path).parent
    named_at = (doc.path, doc.line_of(("dataset", "file")))
    rows = read_rows(base / dataset.file, display, json_cells=dataset.json_cells, named_at=named_at)
    template = Template(parsed.template, _TEXT_FIELDS)
    numbered = ROW_NUMBER in template.columns
    for row in rows:
        origin = _Origin(doc, row=row, dataset=display)
        yield _filled_case(template, dataset, row, origin, numbered), origin


def _filled_case(template: Template, dataset: Dataset, row: Row, origin: _Origin, numbered: bool) -> Case:
    """The template filled from one row, validated as a case."""
    values = {ROW_NUMBER: row.number, **row.values} if numbered else row.values
    try:
        filled = template.fill(values)
    except MissingColumn as exc:
        raise origin.error(
            exc.loc,
            f"no column {exc.column!r}, which the template uses (columns: {', '.join(map(str, row.values)) or 'none'})",
            f"add {exc.column!r} to the row, or correct '${{{exc.column}}}' in the template",
        ) from None
    filled.setdefault("id", f"row-{row.number}")
    if dataset.marks_column is not None:
        marks = row_marks(row.values.get(dataset.marks_column))
        if marks is None:
            raise origin.error(
                ("marks",),
                f"column {dataset.marks_column!r} holds {row.values[dataset.marks_column]!r}",
                "give marks as a list, or as comma-separated names",
            )
        if marks and isinstance(filled.get("marks", []), list):
            filled["marks"] = [*filled.get("marks", []), *marks]
    try:
        return Case.model_validate(filled)
    except ValidationError as exc:
        problem = exc.errors()[0]
        loc = tuple(problem["loc"])
        where = ".".join(map(str, loc)) or "(case)"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise origin.error(
            loc,
            f"the filled case is invalid: {where}: {problem['msg']} (got {problem['input']!r}){more}",
            "fix the row's value, or the template",
        ) from None


def _resolve(
    case: Case,
    origin: _Origin,
    defaults: Defaults,
    default_checks: tuple[tuple[str, Any], ...],
    service: str,
    known: list[str],
    check_scope: Callable[[str], str],
    arg_errors: _ArgErrors,
) -> ResolvedCase:
    """One case with the file's defaults applied."""
    line = origin.line
    if case.input is not None and case.raw_body is not None:
        raise origin.error((), f"case {case.id!r} has both 'input' and 'raw_body'", "keep one of them")
    own_checks = _checks_of(origin.error, case.id, known, case.checks, ("checks",), arg_errors)
    if len(case.endpoints) < 2:
        # A file's default pair checks do not apply to a case that calls one endpoint: nothing to pair.
        default_checks = tuple(c for c in default_checks if check_scope(c[0]) != "pair")
    case_checks = _merge_checks(default_checks, own_checks)
    turns: tuple[tuple[dict[str, Any] | None, tuple[tuple[str, Any], ...]], ...]
    if case.turns:
        turns = tuple(
            (turn.input, _checks_of(origin.error, case.id, known, turn.checks, ("turns", t, "checks"), arg_errors))
            for t, turn in enumerate(case.turns)
        )
    else:
        turns = ((None, ()),)
    if case.golden is not None and case.turns:
        raise origin.error(
            ("golden",),
            f"case {case.id!r} has a golden output and turns",
            "a golden output is one answer: give it to a single-turn case, or check each turn instead",
        )
    pair_checks = [n for n, _ in case_checks if check_scope(n) == "pair"]
    if pair_checks and len(case.endpoints) < 2:
        raise origin.error(
            (),
            f"case {case.id!r} uses pair check(s) {pair_checks} but calls only {case.endpoints}",
            "pair checks compare QA and prod: call both endpoints or drop them",
        )
    parity = _as_parity(case.parity) or _as_parity(defaults.parity) or ParitySpec()
    return ResolvedCase(
        file=origin.doc.path,
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
