"""Service specs: where a service's QA and prod endpoints are, how they are called and deliver, where the output lives.

A spec is read in three steps: a ``preset`` expands to spec keys (``_presets``); the service-level
``headers`` and ``output`` are pushed down into both endpoints, under each endpoint's own; the spec's own
keys are deep-merged over the preset's. The result is validated by the models below, so a bad key,
pointer or value stops collection with file:line and the fix.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, cast
from urllib.parse import quote

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from harness._errors import CaseFileError
from harness._model._numbers import HttpStatus, NegativeCount, Seconds
from harness._model._pointer import parse_pointer
from harness._model._presets import PRESET_ARG_SCHEMAS, PRESETS, deep_merge, expand_preset
from harness._model._validation import StrictModel, validation_error
from harness._model._yaml import LocatedDocument, read_located

if TYPE_CHECKING:
    from pydantic.config import JsonDict

Delivery = Literal["sync", "callback", "sse", "poll"]

INPUT_PLACEHOLDER = "$input"
"""In a body template, the value that stands for the case's input (replaced whole, JSON types kept)."""

ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
"""``${NAME}`` in a header value or base URL: read from the environment when the request is built."""


def _pointer(value: str) -> str:
    parse_pointer(value)  # ValueError names the fix ("try '/text'")
    return value


Pointer = Annotated[str, AfterValidator(_pointer)]

# RFC 3986 path and query characters, a %XX escape, or (poll paths) the job id's "{id}"; other text is
# sent as is, so a space or a stray '{' would only fail once the request is built, case after case.
_PATH_CHAR = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-Fa-f]{2}|[^\x00-\x7f]")
_ID = "{id}"


def _path_problem(value: str, *, placeholder: bool) -> str | None:
    """Why ``value`` is not a path a request can be sent to, or None."""
    if not value.startswith("/"):
        return "does not start with '/'"
    at = 0
    while at < len(value):
        if placeholder and value.startswith(_ID, at):
            at += len(_ID)
            continue
        char = value[at]
        if char.isspace() or not char.isprintable():
            return f"has a space at character {at + 1}" if char == " " else f"has {char!r} at character {at + 1}"
        match = _PATH_CHAR.match(value, at)
        if match is None:
            if char in "{}":
                allowed = "only '{id}', the job id, is replaced" if placeholder else "nothing is replaced in it"
                return f"has {char!r} at character {at + 1}; {allowed}"
            return f"has {char!r} at character {at + 1}, which a URL cannot hold as is"
        at = match.end()
    return None


def _url_path(value: str, *, placeholder: bool = False) -> str:
    """A path below the base URL as it is sent: '/' first, no spaces or other characters a URL cannot hold."""
    problem = _path_problem(value, placeholder=placeholder)
    if problem is None:
        return value
    example = "/" + "/".join(quote(part, safe="?=&") for part in re.split(r"[\s/]+", value) if part)
    if placeholder:
        example = example.replace(quote(_ID), _ID)
    # Formatted here: pydantic would read the braces of a '{id}' in the message as its own placeholders.
    raise PydanticCustomError(
        "url_path",
        f"not a URL path: it {problem}; write the path as sent below the base URL, e.g. {example!r} "
        "(percent-encode other characters: a space is %20)",
    )


UrlPath = Annotated[str, AfterValidator(_url_path)]
"""A path (and query) below the base URL, e.g. ``/examgenerator/create/qa``."""

PollPath = Annotated[str, AfterValidator(lambda value: _url_path(value, placeholder=True))]
"""A path below the base URL where ``{id}`` stands for the job id, e.g. ``/jobs/{id}``."""


def _pointer_keys(value: dict[str, Any]) -> dict[str, Any]:
    for key in value:
        _pointer(key)
    return value


class OutputPointers(StrictModel):
    """JSON pointers (RFC 6901) into the result body.

    SSE: ``text`` is unused (the deltas are the text); ``sources`` and ``metadata`` are looked up in the
    stream's JSON events (see ``SseSpec.metadata_from``).
    """

    text: Pointer | None = Field(None, description="Pointer to the output text. SSE: omit, the deltas are the text.")
    sources: Pointer | None = Field(None, description="Pointer to a list of source ids, if the service returns them.")
    metadata: dict[str, Pointer] = Field(
        default_factory=dict,
        description="Other values to record, name -> pointer, e.g. model_version: /model_version, usage: /usage.",
    )


class HmacSignature(StrictModel):
    """HMAC-SHA256 of the raw body in one header, e.g. GitHub's ``X-Hub-Signature-256: sha256=<hex>``."""

    header: str = Field(description="Header that carries the signature, e.g. X-Hub-Signature-256.")
    prefix: str = Field("", description="Text before the digest, e.g. 'sha256='.")
    encoding: Literal["hex", "base64"] = Field("hex", description="How the digest is written: hex or base64.")
    secret: str | None = Field(
        None, description="The shared secret, e.g. ${WEBHOOK_SECRET} (masked); default: --harness-callback-secret."
    )


class HmacScheme(StrictModel):
    """``{hmac_sha256: {header, prefix, encoding, secret}}``."""

    hmac_sha256: HmacSignature = Field(description="The header, prefix, encoding and secret of the signature.")


class CallbackSpec(StrictModel):
    """How an async job acknowledges and later calls back."""

    url_header: str | None = Field(
        "Callback-Url", description="Request header that carries the receiver's URL; null: none."
    )
    url_pointer: Pointer | None = Field(
        None, description="Pointer in the request body where the receiver's URL goes, e.g. /webhook/url."
    )
    ack_id: Pointer = Field("/callback-id", description="Pointer to the job id in the acknowledgement body.")
    payload_id: Pointer = Field("/callback-id", description="Pointer to the job id in the callback payload.")
    status: Pointer | None = Field("/status", description="Pointer to the job status in the payload.")
    success: list[str] = Field(default_factory=lambda: ["succeeded"], description="Status values that mean success.")
    failure: list[str] = Field(
        default_factory=list,
        description="Status values that mean the job failed (the payload is then the outcome, without text); "
        "when given, any other value is a callback_unknown_status problem.",
    )
    signature: Literal["standard-webhooks", "none"] | HmacScheme = Field(
        "standard-webhooks",
        description="standard-webhooks (webhook-id/-timestamp/-signature, whsec_ secret), none, or "
        "{hmac_sha256: {header, prefix, encoding, secret}}.",
    )
    signed: bool = Field(True, description="false: same as signature: none.")
    delivery_id_header: str | None = Field(
        None,
        description="Header naming each message for de-duplication, e.g. X-GitHub-Delivery; "
        "default: webhook-id, else a hash of the body.",
    )

    @model_validator(mode="after")
    def _url_placed(self) -> CallbackSpec:
        if self.url_header is None and self.url_pointer is None:
            raise ValueError("the receiver's URL goes nowhere: give url_header or url_pointer")
        return self


class SseSpec(StrictModel):
    """Which events carry the text, how a delta decodes, how the stream ends and reports metadata or errors."""

    delta_event: str = Field(
        "message", description="Event name whose data are text deltas; 'message' is the unnamed event."
    )
    delta: Literal["raw", "json_string", "json"] = Field(
        "raw",
        description='How a delta\'s data decodes: raw text, a JSON string ("caf\\u00e9"), or a JSON object '
        "with the text at the 'text' pointer.",
    )
    text: Pointer | None = Field(None, description="delta: json: pointer to the text in each chunk.")
    terminator: str | None = Field(
        "[DONE]", description="data payload that ends the stream; null: the end event or the end of the body."
    )
    end_event: str | None = Field(
        "end",
        description="Event that ends the stream when there is no terminator (with or without data); its JSON "
        "data, if any, holds metadata.",
    )
    metadata_event: str | None = Field(None, description="Another named event whose JSON data holds metadata.")
    metadata_from: Literal["last", "first"] = Field(
        "last",
        description="sources and metadata pointers take their value from the last (or first) JSON event of the "
        "stream that has one: chunks, the metadata event, the end event.",
    )
    error_event: str | None = Field("error", description="Event name that reports a failure mid-stream.")
    error: Pointer | None = Field(
        None, description="Pointer that marks an in-band error in a JSON chunk, e.g. /error (its value is the message)."
    )

    @model_validator(mode="after")
    def _text_pointer_for_json(self) -> SseSpec:
        if self.delta == "json" and self.text is None:
            raise ValueError(
                "delta: json needs 'text', the pointer to the text in each chunk (e.g. /choices/0/delta/content)"
            )
        return self


class PollRequest(StrictModel):
    """A request about a submitted job; the job id goes into the path (``{id}``) or a query parameter."""

    method: Literal["GET", "POST"] = Field("GET", description="HTTP method of the request.")
    path: PollPath = Field(description="Path below the base URL; '{id}' is replaced by the job id, e.g. /jobs/{id}.")
    query: str | None = Field(None, description="Query parameter that carries the job id, e.g. task_id.")

    @model_validator(mode="after")
    def _id_placed(self) -> PollRequest:
        if "{id}" not in self.path and self.query is None:
            raise ValueError(
                f"the job id goes nowhere in {self.path!r}: put '{{id}}' in the path or name a 'query' parameter"
            )
        return self


class PollStatus(PollRequest):
    """The status request and how to read its answer."""

    pointer: Pointer = Field(description="Pointer to the job's status in the status body, e.g. /status.")
    pending: list[str] = Field(
        default_factory=list, description="Values that mean keep waiting; empty: anything not success or failure."
    )
    success: list[str] = Field(min_length=1, description="Values that mean the job is done.")
    failure: list[str] = Field(default_factory=list, description="Values that mean the job failed.")


class PollResult(PollRequest):
    """The request that fetches the result once the status says the job ended."""

    not_ready: list[HttpStatus] = Field(
        default_factory=list, description="HTTP statuses that mean 'not ready yet' after success: poll again."
    )


class PollSpec(StrictModel):
    """A submitted job polled for its status, then its result fetched."""

    job_id: Pointer = Field(description="Pointer to the job id in the submit response, e.g. /task_id.")
    status: PollStatus = Field(description="The status request and how to read its answer.")
    result: PollResult | None = Field(None, description="Where the result is; omit when the status body holds it.")
    interval_s: Seconds = Field(0.1, description="First wait between polls; doubles up to max_interval_s.")
    max_interval_s: Seconds = Field(2.0, description="Longest wait between polls.")


def _contains_input(template: Any) -> bool:
    if template == INPUT_PLACEHOLDER:
        return True
    if isinstance(template, dict):
        return any(_contains_input(v) for v in template.values())
    if isinstance(template, list):
        return any(_contains_input(v) for v in template)
    return False


def _endpoint_schema(schema: dict[str, Any]) -> None:
    # Under a preset an endpoint may say only what differs; the service schema requires path and
    # delivery when there is no preset.
    schema.pop("required", None)


def _service_schema(schema: dict[str, Any]) -> None:
    schema["required"] = [key for key in schema.get("required", []) if key not in ("qa", "prod")]
    endpoint = {"required": ["path", "delivery"]}
    schema["if"] = {"required": ["preset"]}
    schema["else"] = {"required": ["qa", "prod"], "properties": {"qa": endpoint, "prod": endpoint}}


class EndpointSpec(StrictModel):
    """One endpoint of a service."""

    model_config = ConfigDict(**StrictModel.model_config, json_schema_extra=_endpoint_schema)

    method: Literal["POST", "PUT", "GET"] = Field("POST", description="HTTP method of the request.")
    path: UrlPath = Field(description="Path below the base URL, e.g. /examgenerator/create/qa.")
    delivery: Delivery = Field(
        description="How the result comes back: sync (the response), sse (a stream), callback (a POST to the "
        "harness's receiver) or poll (a job polled for its status)."
    )
    auth: Literal["none", "qa_token"] = Field("none", description="qa_token: send Authorization: Bearer <token>.")
    headers: dict[str, str] = Field(
        default_factory=dict, description="Headers to send; ${NAME} reads the environment (the value is masked)."
    )
    body: Any = Field(
        INPUT_PLACEHOLDER,
        description="Request body template: the value '$input' is replaced by the case input, e.g. {input: $input}. "
        "null: no body.",
    )
    set: Annotated[dict[str, Any], AfterValidator(_pointer_keys)] = Field(
        default_factory=dict,
        description="Fields set in the body after the template, pointer -> value, e.g. {/stream: true}.",
    )
    output: OutputPointers = Field(
        default_factory=OutputPointers, description="Where the output lives in the result body."
    )
    callback: CallbackSpec = Field(
        default_factory=CallbackSpec, description="delivery: callback: the job and its callback."
    )
    sse: SseSpec = Field(default_factory=SseSpec, description="delivery: sse: which events carry what.")
    poll: PollSpec | None = Field(None, description="delivery: poll: how the job is polled and its result fetched.")

    @model_validator(mode="after")
    def _consistent(self) -> EndpointSpec:
        if self.body is not None and not _contains_input(self.body):
            raise ValueError(
                "the body template places the case input nowhere: write '$input' where it goes, "
                "e.g. body: {input: $input}, or body: null to send no body"
            )
        if self.delivery == "poll" and self.poll is None:
            raise ValueError("delivery: poll needs 'poll' with job_id and status {path, query, pointer, success}")
        return self


class ConversationSpec(StrictModel):
    """Multi-turn services: an id field the harness fills, or a messages array that grows turn by turn."""

    id_field: str | None = Field(None, description="Body field that holds the conversation id the harness generates.")
    messages: Pointer | None = Field(
        None,
        description="Pointer to a chat-completions messages array in the input: each turn's messages are appended "
        "to the endpoint's own history, with its own assistant replies.",
    )

    @model_validator(mode="after")
    def _one_way(self) -> ConversationSpec:
        if (self.id_field is None) == (self.messages is None):
            raise ValueError("give one of id_field (e.g. conversation_id) or messages (e.g. /messages)")
        return self


_PRESET_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"enum": sorted(name for name in PRESETS if name not in PRESET_ARG_SCHEMAS)},
        {
            "type": "object",
            "minProperties": 1,
            "maxProperties": 1,
            "properties": dict(PRESET_ARG_SCHEMAS),
            "additionalProperties": False,
        },
    ]
}


class NegativeSpec(StrictModel):
    """Generated negative cases: invalid requests drawn from the request schema, sent to QA and prod."""

    source: str = Field(
        alias="schema",
        description="openapi: the request body schema in the OpenAPI document the target serves (read at run "
        "time); else a JSON Schema file of the request body, relative to this spec.",
    )
    count: NegativeCount = Field(20, description="How many negative cases (ids negative-0, negative-1, ...).")
    endpoint: Literal["qa", "prod"] = Field("qa", description="openapi: whose path's request body schema to use.")
    openapi_path: UrlPath = Field("/openapi.json", description="openapi: where the target serves its OpenAPI document.")


class ServiceSpec(StrictModel):
    """A service with a production endpoint and a synchronous QA endpoint."""

    model_config = ConfigDict(**StrictModel.model_config, json_schema_extra=_service_schema)

    service: str = Field(description="The name case files use (their service: key, or the folder's spec).")
    description: str = Field("", description="Free text.")
    preset: str | dict[str, Any] | None = Field(
        None,
        description="openai-chat, {langserve: ROUTE} or {bentoml-task: {api, task}}; the spec's own keys win.",
        json_schema_extra=cast("JsonDict", _PRESET_SCHEMA),
    )
    base_url: str | None = Field(
        None,
        description="Where this service lives if not at --base-url: a URL (${NAME} reads the environment), or "
        "local:model for the in-process reference model.",
    )
    headers: dict[str, str] = Field(
        default_factory=dict, description="Headers for both endpoints; an endpoint's own win."
    )
    output: OutputPointers | None = Field(
        None, description="Output pointers for both endpoints; an endpoint's own win."
    )
    qa: EndpointSpec = Field(description="The synchronous QA endpoint.")
    prod: EndpointSpec = Field(description="The production endpoint.")
    conversation: ConversationSpec | None = Field(
        None, description="Multi-turn services: how each turn continues the conversation."
    )
    negative: NegativeSpec | None = Field(None, description="Generate negative cases from the request schema.")

    @model_validator(mode="before")
    @classmethod
    def _expand(cls, data: Any) -> Any:
        """Preset under the spec; service-level headers and output under each endpoint's own."""
        if not isinstance(data, dict):
            return data
        spec = _push_down(data)
        if data.get("preset") is not None:
            spec = deep_merge(_push_down(expand_preset(data["preset"])), spec)
        return spec

    def endpoint(self, name: str) -> EndpointSpec:
        """The ``qa`` or ``prod`` endpoint."""
        return self.qa if name == "qa" else self.prod


def _push_down(data: dict[str, Any]) -> dict[str, Any]:
    """Service-level ``headers`` and ``output`` copied under each endpoint's own."""
    spec = dict(data)
    for endpoint in ("qa", "prod"):
        own = spec.get(endpoint)
        if own is not None and not isinstance(own, dict):
            continue  # the model reports the wrong type
        merged = dict(own or {})
        for key in ("headers", "output"):
            if isinstance(data.get(key), dict):
                merged[key] = deep_merge(data[key], merged.get(key, {}))
        if merged:
            spec[endpoint] = merged
    return spec


def env_references(spec: ServiceSpec) -> dict[tuple[str, ...], list[str]]:
    """Every ``${NAME}`` the spec reads, by where it is written (the key path in the file)."""
    found: dict[tuple[str, ...], list[str]] = {}
    places: list[tuple[tuple[str, ...], str]] = [(("headers", k), v) for k, v in spec.headers.items()]
    for name in ("qa", "prod"):
        places += [((name, "headers", k), v) for k, v in spec.endpoint(name).headers.items()]
    for name in ("qa", "prod"):
        signature = spec.endpoint(name).callback.signature
        if isinstance(signature, HmacScheme) and signature.hmac_sha256.secret:
            places.append(((name, "callback", "signature", "hmac_sha256", "secret"), signature.hmac_sha256.secret))
    if spec.base_url:
        places.append((("base_url",), spec.base_url))
    for where, value in places:
        names = ENV_REFERENCE.findall(value)
        if names:
            found[where] = names
    return found


def env_secret_values(specs: Iterable[ServiceSpec], environ: Mapping[str, str] = os.environ) -> list[str]:
    """The values the specs' ``${NAME}`` headers and callback secrets read: masked like the QA token."""
    values: list[str] = []
    for spec in specs:
        for where, names in env_references(spec).items():
            if where != ("base_url",):
                values += [environ[name] for name in names if environ.get(name)]
    return values


def expand_env(value: str, environ: Mapping[str, str] = os.environ) -> tuple[str, list[str]]:
    """``value`` with each ``${NAME}`` replaced from the environment, and the values read (secrets to mask).

    Raises ``KeyError`` naming a variable that is not set.
    """
    used: list[str] = []

    def replace(match: re.Match[str]) -> str:
        text = environ[match.group(1)]
        used.append(text)
        return text

    return ENV_REFERENCE.sub(replace, value), used


_SUBMODELS: dict[str, type[BaseModel]] = {
    "qa": EndpointSpec,
    "prod": EndpointSpec,
    "output": OutputPointers,
    "callback": CallbackSpec,
    "signature": HmacScheme,
    "hmac_sha256": HmacSignature,
    "sse": SseSpec,
    "poll": PollSpec,
    "status": PollStatus,
    "result": PollResult,
    "conversation": ConversationSpec,
    "negative": NegativeSpec,
}


def parse_service_spec(path: Path, display: str) -> ServiceSpec:
    """Read and validate a service spec; problems are a ``CaseFileError`` naming file:line and the fix."""
    doc = read_located(path, display)
    if isinstance(doc.data, dict) and doc.data.get("preset") is not None:
        try:
            expand_preset(doc.data["preset"])
        except ValueError as exc:
            # Checked here too so the message points at the preset's line, not the top of the file.
            raise CaseFileError(
                doc.path,
                doc.line_of(("preset",)),
                f"invalid service spec: preset: {exc}",
                "write openai-chat, {langserve: /ROUTE} or {bentoml-task: {api: NAME, task: NAME}}",
            ) from None
    try:
        spec = ServiceSpec.model_validate(doc.data)
    except ValidationError as exc:
        raise validation_error(exc, doc, "service spec", ServiceSpec, _SUBMODELS) from None
    _check_env(spec, doc)
    return spec


def _check_env(spec: ServiceSpec, doc: LocatedDocument) -> None:
    """A ``${NAME}`` that is not set stops collection: the request could not be built."""
    for where, names in env_references(spec).items():
        missing = [name for name in names if name not in os.environ]
        if missing:
            line = doc.line_of(where) or doc.line_of(where[:-1]) or doc.line_of(("headers", where[-1]))
            raise CaseFileError(
                doc.path,
                line,
                f"{'.'.join(where)} reads the environment variable {missing[0]}, which is not set",
                f"set it (export {missing[0]}=...) before running pytest",
            )
