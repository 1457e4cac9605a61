"""Generated negative cases: invalid requests drawn from the service's request schema, sent to QA and prod.

A service spec opts in with ``negative: {schema: openapi | path/to/schema.json, count: N}``. Each of the N
cases breaks the request body one way (the *kinds*): a required field missing, a field of the wrong type, a
number out of range, a string too short or too long, a field the schema forbids, malformed JSON, or a valid
body sent with the wrong content type. The harness writes the broken variant of the schema for each kind,
narrowed to what a person can read (``_minimal``: required fields only, no extra keys unless the mutation is
one, short strings of letters and digits); hypothesis-jsonschema draws the bodies from it (values, strings,
nesting: an existing generator, not ours), and every drawn body is checked to be invalid under the original
schema. The kinds take turns (``schedule``), so each is drawn about ``count / kinds`` times, and each request
says in one line what it broke and the value it sent. Bodies are sent as-is to both
endpoints (``raw_body``), which must both reject them alike: a 4xx, an error body, the same status and error
shape (``_parity``'s error parity).

When: case ids (``negative-0`` …) exist at collection, so ``-k``, ``--lf`` and xdist work; the bodies are
drawn once the process starts running cases (in the background, while the other cases are in flight), because
``schema: openapi`` reads the document the target serves (``GET /openapi.json``), which exists only once the
target runs. A schema file is read at the same point, so both sources behave alike. The draw runs in a child
process (:class:`ChildDraw`) and is a pure function of the schema, the kind and ``--harness-seed``: every
process (each xdist worker) and every rerun draws the same bodies.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import random
import subprocess
import sys
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness._errors import HarnessError
from harness._model._case import Case, ParitySpec, ResolvedCase
from harness._model._spec import NegativeSpec, ServiceSpec

NEGATIVE_CHECKS: tuple[tuple[str, Any], ...] = (("rejected", None), ("error_shape", None))
"""What each endpoint's answer to a negative case must pass; parity adds the error comparison."""
EXTRA_FIELD = "unexpected_field"
_MAX_REF_DEPTH = 32
_LONGEST_DRAWN = 500
_DRAW_ATTEMPTS = 3
"""Examples hypothesis is asked for per body needed: some draws repeat, a few turn out valid and are dropped."""


@dataclass(frozen=True)
class Mutation:
    """One way to break a request: the kind, the field it targets and the schema bodies are drawn from."""

    kind: str
    field: str | None
    what: str
    """E.g. ``missing required field 'course_topic'``."""
    schema: dict[str, Any]
    wire: str = "json"
    """``json``: send the drawn body; ``truncated``: cut its JSON short; ``text_plain``: send it as text/plain."""


@dataclass(frozen=True)
class NegativeRequest:
    """A generated invalid request, as sent to both endpoints."""

    index: int
    what: str
    """One line: what was broken and how, e.g. ``'age' above its maximum (150): sent 151``."""
    raw_body: str
    headers: dict[str, str | None] = field(default_factory=dict)
    body: Any = None
    """The drawn JSON body, when the wire carries it whole (not for malformed JSON)."""
    field: str | None = None
    kind: str = ""
    """The mutation's kind (``missing_required``, ``wrong_type``, ...)."""

    def case_yaml(self, id_field: str | None = None) -> str:
        """The request as a case-file entry to paste under ``cases:`` and keep as a regression case."""
        import yaml  # lazy: only failures render it

        entry: dict[str, Any] = {"id": f"negative-{self.index}", "description": f"generated: {self.what}"}
        # A conversation id sent as ``input`` is replaced per run; keep the bytes when that field is the point.
        if isinstance(self.body, dict) and not self.headers and (id_field is None or self.field != id_field):
            entry["input"] = self.body
        else:
            entry["raw_body"] = self.raw_body
        if self.headers:
            entry["headers"] = dict(self.headers)
        entry["checks"] = ["rejected", "error_shape"]
        text = yaml.safe_dump([entry], allow_unicode=True, sort_keys=False, default_flow_style=None, width=10**6)
        return "".join("  " + line for line in text.splitlines(keepends=True))


# ---------------------------------------------------------------- schemas


def load_schema_file(path: Path) -> dict[str, Any]:
    """A JSON Schema file of the request body; ``HarnessError`` naming the file when it is unusable."""
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise HarnessError(f"cannot read the negative-case schema {path}: {exc}") from None
    if not isinstance(schema, dict):
        raise HarnessError(f"the negative-case schema {path} is not a JSON object")
    inlined: dict[str, Any] = inline_refs(schema, schema)
    return inlined


def openapi_request_schema(document: Any, path: str, method: str, source: str) -> dict[str, Any]:
    """The JSON request-body schema of ``method path`` in an OpenAPI document, ``$ref`` s inlined."""
    try:
        operation = document["paths"][path][method.lower()]
        content = operation["requestBody"]["content"]
    except (KeyError, TypeError):
        raise HarnessError(
            f"the OpenAPI document at {source} has no request body for {method} {path}; "
            "point negative: {schema: ...} at a JSON Schema file instead"
        ) from None
    media = next((m for m in content if m.split(";")[0].strip().endswith("json")), None)
    if media is None or not isinstance(content[media].get("schema"), dict):
        raise HarnessError(f"the OpenAPI document at {source} has no JSON request body schema for {method} {path}")
    inlined: dict[str, Any] = inline_refs(content[media]["schema"], document)
    return inlined


def inline_refs(node: Any, root: Any, depth: int = 0) -> Any:
    """``node`` with local ``$ref`` s (``#/components/schemas/X``, ``#/$defs/X``) replaced by their targets."""
    if isinstance(node, list):
        return [inline_refs(item, root, depth) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        if depth >= _MAX_REF_DEPTH:
            return {}  # a recursive schema: deep enough for a request body, stop there
        target: Any = root
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(target, dict) or part not in target:
                raise HarnessError(f"unresolvable $ref {ref!r} in the request schema")
            target = target[part]
        rest = {k: v for k, v in node.items() if k != "$ref"}
        return inline_refs({**target, **rest}, root, depth + 1)
    return {key: inline_refs(value, root, depth) for key, value in node.items()}


# ---------------------------------------------------------------- mutations

_WRONG_TYPES: dict[str, dict[str, Any]] = {
    # Small values of each JSON type, so a failing body pastes as a readable case.
    "string": {"type": "string", "maxLength": 12},
    "integer": {"type": "integer", "minimum": -100, "maximum": 1000},
    "number": {"type": "number", "minimum": -100, "maximum": 1000, "multipleOf": 0.25},
    "boolean": {"type": "boolean"},
    "null": {"type": "null"},
    "array": {"type": "array", "maxItems": 2, "items": {"type": "integer"}},
    "object": {"type": "object", "maxProperties": 0},
}


def mutations(schema: Mapping[str, Any]) -> list[Mutation]:
    """Every way to break a body of ``schema``, kinds interleaved so that a few cases already cover many kinds."""
    by_kind: dict[str, list[Mutation]] = {}

    def add(kind: str, name: str | None, what: str, drawn: dict[str, Any], wire: str = "json") -> None:
        by_kind.setdefault(kind, []).append(Mutation(kind, name, what, drawn, wire))

    properties: dict[str, Any] = schema.get("properties") or {}
    required: list[str] = [name for name in schema.get("required") or [] if isinstance(name, str)]
    if schema.get("type") == "object" or properties:
        for name in required:
            missing = _minimal(
                {
                    **schema,
                    "properties": {k: v for k, v in properties.items() if k != name},
                    "required": [r for r in required if r != name],
                }
            )
            if missing.get("additionalProperties") is not False:
                missing["not"] = {"required": [name]}  # else the field could still be drawn as an extra one
            add("missing_required", name, f"missing required field {name!r}", missing)
        for name, prop in properties.items():
            if not isinstance(prop, dict):
                continue
            kind = prop.get("type")
            if isinstance(kind, str) and kind in _WRONG_TYPES:
                wrong = [s for t, s in _WRONG_TYPES.items() if t != kind and not (kind == "number" and t == "integer")]
                add("wrong_type", name, f"{name!r} is not of type {kind}", _with(schema, name, {"anyOf": wrong}))
            if kind in ("integer", "number"):
                # Within 100 of the bound it breaks: a value a person reads as "just past the limit".
                for bound, broken, near, word in (
                    ("minimum", "exclusiveMaximum", -100, "below its minimum"),
                    ("maximum", "exclusiveMinimum", 100, "above its maximum"),
                    ("exclusiveMinimum", "maximum", -100, "at or below its exclusive minimum"),
                    ("exclusiveMaximum", "minimum", 100, "at or above its exclusive maximum"),
                ):
                    if isinstance(prop.get(bound), int | float):
                        value = _integral(prop[bound]) if kind == "integer" else prop[bound]
                        limit = {"type": kind, broken: value, ("minimum" if near < 0 else "maximum"): value + near}
                        add("out_of_range", name, f"{name!r} {word} ({prop[bound]:g})", _with(schema, name, limit))
            if kind == "string":
                if isinstance(prop.get("minLength"), int) and prop["minLength"] > 0:
                    shorter = {"type": "string", "maxLength": prop["minLength"] - 1}
                    add("too_short", name, f"{name!r} shorter than {prop['minLength']}", _with(schema, name, shorter))
                if isinstance(prop.get("maxLength"), int):
                    n = prop["maxLength"]
                    # Letters and digits only: services commonly strip surrounding whitespace before counting, and
                    # a person reads them. Past a few hundred characters hypothesis runs out of room to draw one
                    # by one: one fixed string.
                    longer: dict[str, Any] = (
                        {"type": "string", "pattern": rf"^[a-z0-9]{{{n + 1},{n + 20}}}$"}
                        if n < _LONGEST_DRAWN
                        else {"const": "x" * (n + 1)}
                    )
                    add("too_long", name, f"{name!r} longer than {n}", _with(schema, name, longer))
        if schema.get("additionalProperties") is False and EXTRA_FIELD not in properties:
            extra = {
                **schema,
                "properties": {**properties, EXTRA_FIELD: {"type": "string", "maxLength": 12}},
                "required": [*required, EXTRA_FIELD],
            }
            add("extra_field", EXTRA_FIELD, f"forbidden extra field {EXTRA_FIELD!r}", _minimal(extra))
    add("malformed_json", None, "malformed JSON (a valid body cut short)", _minimal(schema), "truncated")
    add("wrong_content_type", None, "a valid body sent as Content-Type: text/plain", _minimal(schema), "text_plain")
    return list(_interleave(list(by_kind.values())))


def _with(schema: Mapping[str, Any], name: str, replacement: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with property ``name`` replaced and required, so every drawn body carries the broken value."""
    required = list(schema.get("required") or [])
    return _minimal(
        {
            **schema,
            "properties": {**schema.get("properties", {}), name: replacement},
            "required": required if name in required else [*required, name],
        }
    )


_READABLE_MAX = 12
"""Longest string drawn for a field that sets no maximum: a pasted case stays a few short lines."""


def _minimal(schema: Mapping[str, Any]) -> dict[str, Any]:
    """The smallest bodies of ``schema`` a person can read: its required properties only, no extra ones, short
    strings of letters and digits (where the schema says nothing stricter), at every level of nesting.

    Every body drawn from it is a body of ``schema``: the broken one differs from a valid body by its one
    mutation, and the case that shows it is a few lines instead of a screen of random keys.
    """
    narrowed = dict(schema)
    properties = schema.get("properties")
    required = [name for name in schema.get("required") or [] if isinstance(name, str)]
    if isinstance(properties, dict) and all(name in properties for name in required):
        narrowed["properties"] = {name: _minimal(properties[name]) for name in required}
        narrowed["additionalProperties"] = False
        narrowed.pop("patternProperties", None)
    if isinstance(schema.get("items"), dict):
        narrowed["items"] = _minimal(schema["items"])
    for key in ("anyOf", "oneOf"):
        if isinstance(schema.get(key), list):
            narrowed[key] = [_minimal(s) if isinstance(s, dict) else s for s in schema[key]]
    if schema.get("type") == "string" and not {"pattern", "format", "enum", "const"} & schema.keys():
        shortest = schema.get("minLength", 0)
        longest = schema.get("maxLength", max(shortest, _READABLE_MAX))
        if isinstance(shortest, int) and isinstance(longest, int) and shortest <= longest:
            narrowed["pattern"] = rf"^[a-z0-9]{{{shortest},{longest}}}$"
    return narrowed


def _integral(bound: float) -> int | float:
    return int(bound) if float(bound).is_integer() else bound


def _interleave(groups: list[list[Mutation]]) -> Iterator[Mutation]:
    for round_ in range(max((len(g) for g in groups), default=0)):
        for group in groups:
            if round_ < len(group):
                yield group[round_]


# ---------------------------------------------------------------- drawing


def schedule(all_mutations: list[Mutation], count: int) -> list[tuple[int, int]]:
    """For each of ``count`` cases: (which mutation, which of its drawn bodies).

    Kinds take turns, so with ``K`` kinds each is drawn ``count // K`` times or once more, however many fields
    one kind has (a service with twelve fields would otherwise spend twenty cases on three kinds); within a
    kind its mutations take turns, then each draws its next body.
    """
    groups: dict[str, list[int]] = {}
    for m, mutation in enumerate(all_mutations):
        groups.setdefault(mutation.kind, []).append(m)
    kinds = list(groups.values())
    plan = []
    for n in range(count):
        group = kinds[n % len(kinds)]
        turn = n // len(kinds)
        plan.append((group[turn % len(group)], turn // len(group)))
    return plan


def generate(schema: dict[str, Any], count: int, seed: int) -> list[NegativeRequest]:
    """``count`` invalid requests for bodies of ``schema``, the same for the same schema and seed.

    The kinds of mutation take turns (``schedule``); each mutation draws its bodies from its own seed.
    """
    import jsonschema

    all_mutations = mutations(schema)
    validator_class = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    try:
        validator_class.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise HarnessError(f"the request schema is not a valid JSON Schema: {exc.message}") from None
    original = validator_class(schema)
    plan = schedule(all_mutations, count)
    needed: dict[int, int] = {}
    for m, body_index in plan:
        needed[m] = max(needed.get(m, 0), body_index + 1)
    drawn: dict[int, list[Any]] = {}
    for m, how_many in needed.items():
        mutation = all_mutations[m]
        mutation_seed = zlib.crc32(f"{seed}:{mutation.kind}:{mutation.field}:{mutation.what}".encode())
        bodies = _draw(mutation.schema, how_many, mutation_seed)
        # Integers past 32 bits crash pytest-xdist's transport of the item's record (execnet packs ints as int32).
        bodies = [b for b in bodies if _small_ints(b)]
        if mutation.wire == "json":
            bodies = [b for b in bodies if not original.is_valid(b)]
        if not bodies:
            raise HarnessError(f"could not draw a request body for {mutation.what} from the request schema")
        # hypothesis draws its simplest body first whatever the seed: shuffle, so the seed chooses every case.
        random.Random(mutation_seed).shuffle(bodies)
        drawn[m] = bodies
    requests = []
    for n, (m, body_index) in enumerate(plan):
        bodies = drawn[m]
        requests.append(_request(n, all_mutations[m], bodies[body_index % len(bodies)], random.Random(f"{seed}:{n}")))
    return requests


class ChildDraw:
    """:func:`generate` in a child Python process, one draw at a time; :meth:`kill` ends a draw under way.

    The draw is a second or more of CPU (hypothesis): in this process it would hold the GIL, and with it the
    loop that delivers every other case, while a child runs beside it on another core. A child also imports
    hypothesis without pytest's assertion rewriting, which pytest applies to every module of a plugin's
    package and, where bytecode is not written (``PYTHONDONTWRITEBYTECODE``), redoes in every process.
    """

    def __init__(self) -> None:
        self._process: subprocess.Popen[str] | None = None
        self._killed = False

    def run(self, schema: dict[str, Any], count: int, seed: int, timeout_s: float) -> list[NegativeRequest]:
        """The drawn requests, as :func:`generate` returns them; a ``HarnessError`` says why not."""
        if self._killed:
            raise HarnessError("the run ended before the negative cases were drawn")
        payload = json.dumps({"schema": schema, "count": count, "seed": seed})
        try:
            process = self._process = subprocess.Popen(
                [sys.executable, "-c", _CHILD_CODE, str(Path(__file__).resolve().parents[2])],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        except OSError as exc:
            raise HarnessError(f"cannot start a Python process to draw the negative cases: {exc}") from None
        try:
            out, err = process.communicate(payload, timeout=timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            raise HarnessError(
                f"drawing {count} negative cases took over {timeout_s:.0f} s; lower negative: count, or "
                "simplify the request schema"
            ) from None
        if process.returncode == _CHILD_HARNESS_ERROR:
            raise HarnessError(err.strip())
        if process.returncode != 0:
            raise HarnessError(f"drawing the negative cases failed (exit {process.returncode}): {err.strip()[-2000:]}")
        return [NegativeRequest(**entry) for entry in json.loads(out)]

    def kill(self) -> None:
        """End a draw under way (the run is ending); later draws fail at once."""
        self._killed = True
        if self._process is not None and self._process.poll() is None:
            self._process.kill()


_CHILD_HARNESS_ERROR = 3
# The folder holding this package goes last on the child's path: it finds this harness even when pytest put
# it on the parent's path (ini pythonpath, a rootdir conftest) rather than an install.
_CHILD_CODE = (
    "import sys; sys.path.append(sys.argv[1]); from harness._run._negative import _child_main; sys.exit(_child_main())"
)


def _child_main() -> int:
    """The child's side: a JSON request on stdin, the drawn requests as JSON on stdout."""
    asked = json.load(sys.stdin)
    try:
        requests = generate(asked["schema"], asked["count"], asked["seed"])
    except HarnessError as exc:
        print(exc, file=sys.stderr)
        return _CHILD_HARNESS_ERROR
    json.dump([dataclasses.asdict(request) for request in requests], sys.stdout)
    return 0


def _small_ints(value: Any) -> bool:
    if isinstance(value, dict):
        return all(_small_ints(v) for v in value.values())
    if isinstance(value, list):
        return all(_small_ints(v) for v in value)
    return not isinstance(value, int) or -(2**31) <= value < 2**31


def _request(index: int, mutation: Mutation, body: Any, rng: random.Random) -> NegativeRequest:
    text = json.dumps(body, ensure_ascii=False)
    if mutation.wire == "truncated":
        cut = rng.randrange(1, len(text)) if len(text) > 1 else 0
        what = f"malformed JSON (a valid body cut short after {cut} of {len(text)} characters)"
        return NegativeRequest(index, what, text[:cut], field=mutation.field, kind=mutation.kind)
    headers: dict[str, str | None] = {"Content-Type": "text/plain"} if mutation.wire == "text_plain" else {}
    return NegativeRequest(index, _sent(mutation, body), text, headers, body, mutation.field, mutation.kind)


def _sent(mutation: Mutation, body: Any) -> str:
    """``mutation.what`` with the value the body carries for it: ``'age' above its maximum (150): sent 151``."""
    if mutation.field is None or mutation.kind == "missing_required" or not isinstance(body, dict):
        return mutation.what
    value = body.get(mutation.field)
    if isinstance(value, str) and len(value) > 20:
        return f"{mutation.what}: sent a string of {len(value)} characters"
    shown = json.dumps(value, ensure_ascii=False)
    return f"{mutation.what}: sent {shown if len(shown) <= 40 else shown[:37] + '...'}"


def _draw(schema: dict[str, Any], how_many: int, seed: int) -> list[Any]:
    """Up to ``how_many`` distinct bodies of ``schema``, the same for the same seed (hypothesis-jsonschema)."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as with_seed
    from hypothesis.errors import HypothesisException
    from hypothesis_jsonschema import from_schema

    found: list[Any] = []

    @settings(
        max_examples=how_many * _DRAW_ATTEMPTS,
        database=None,  # reproducible from the seed alone, no example database written to the work tree
        phases=[Phase.generate],
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @with_seed(seed)
    @given(from_schema(schema))
    def collect(body: Any) -> None:
        if body not in found and len(found) < how_many * _DRAW_ATTEMPTS:
            found.append(body)

    try:
        with _without_local_constants():
            collect()
    except (HypothesisException, ValueError, TypeError) as exc:
        # hypothesis-jsonschema rejects schemas it cannot generate for (unsatisfiable, unsupported keywords).
        raise HarnessError(f"hypothesis-jsonschema cannot draw bodies for this schema: {exc}") from None
    return found


@contextlib.contextmanager
def _without_local_constants() -> Iterator[None]:
    """Draw from the seed alone.

    Hypothesis mixes literals found in the caller's own modules into its draws, so the bodies would depend on
    which local modules this process happened to import (conftest files, test modules, a worker's share).
    """
    try:
        from hypothesis.internal.conjecture import providers
        from hypothesis.internal.constants_ast import Constants

        original = providers._get_local_constants
        empty = Constants()
    except (ImportError, AttributeError):  # another hypothesis: nothing to switch off
        yield
        return
    providers._get_local_constants = lambda: empty
    try:
        yield
    finally:
        providers._get_local_constants = original


# ---------------------------------------------------------------- cases


def template_cases(spec: ServiceSpec, file: str, line: int) -> list[ResolvedCase]:
    """The negative cases of ``spec`` as collection knows them: ids and checks, bodies still to be drawn."""
    negative = spec.negative
    assert negative is not None
    return [
        ResolvedCase(
            file=file,
            line=line,
            service=spec.service,
            case=Case(id=f"negative-{n}", description="generated negative case"),
            checks=NEGATIVE_CHECKS,
            turns=((None, ()),),
            parity=ParitySpec(level="structural"),  # for two error answers: same status and error shape
            repeat=1,
            min_pass_rate=1.0,
            timeout_s=None,
            marks=(),
            headers={},
        )
        for n in range(negative.count)
    ]


def with_request(template: ResolvedCase, request: NegativeRequest) -> ResolvedCase:
    """The template case carrying the drawn request."""
    case = template.case.model_copy(
        update={"description": f"generated: {request.what}", "raw_body": request.raw_body, "headers": request.headers}
    )
    return template.model_copy(update={"case": case, "headers": dict(request.headers)})


def schema_source(negative: NegativeSpec, spec: ServiceSpec, spec_path: Path, base_url: str) -> tuple[str, str]:
    """Where the request schema comes from: (``openapi`` URL or ``file`` path, display)."""
    if negative.source == "openapi":
        url = base_url.rstrip("/") + negative.openapi_path
        return "openapi", url
    return "file", str((spec_path.parent / negative.source).resolve())


_FETCH_HINT = "set the service spec's negative: {openapi_path: ...}, or give negative: {schema: path/to/schema.json}"
MAX_OPENAPI_BYTES = 8 * 1024**2
"""A service's OpenAPI document is untrusted bytes: read at most this much."""


def fetch_openapi(url: str, timeout_s: float, hint: str = _FETCH_HINT, max_bytes: int = MAX_OPENAPI_BYTES) -> Any:
    """The OpenAPI document at ``url``, read within ``timeout_s`` (each wait, and the whole body) and ``max_bytes``;
    ``HarnessError`` saying what to do (``hint``) when it is not there."""
    import time

    import httpx

    deadline = time.monotonic() + timeout_s
    body = bytearray()
    try:
        with httpx.stream("GET", url, timeout=timeout_s, follow_redirects=True) as response:
            if response.status_code != 200:
                raise HarnessError(f"cannot fetch the OpenAPI document {url}: status {response.status_code}; {hint}")
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > max_bytes:
                    raise HarnessError(f"the OpenAPI document {url} is larger than {max_bytes:,} bytes; not reading on")
                if time.monotonic() > deadline:
                    raise HarnessError(f"the OpenAPI document {url} did not arrive within {timeout_s:g} s")
    except httpx.HTTPError as exc:
        raise HarnessError(f"cannot fetch the OpenAPI document {url}: {type(exc).__name__}: {exc}") from None
    try:
        return json.loads(bytes(body))
    except ValueError:
        raise HarnessError(f"the OpenAPI document {url} is not JSON") from None


def request_schema(spec: ServiceSpec, spec_path: Path, base_url: str, timeout_s: float) -> dict[str, Any]:
    """The request-body schema the negative cases of ``spec`` are drawn from."""
    negative = spec.negative
    assert negative is not None
    kind, where = schema_source(negative, spec, spec_path, base_url)
    if kind == "file":
        return load_schema_file(Path(where))
    endpoint = spec.endpoint(negative.endpoint)
    return openapi_request_schema(fetch_openapi(where, timeout_s), endpoint.path, endpoint.method, where)
