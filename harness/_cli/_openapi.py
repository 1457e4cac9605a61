"""A first service spec and case input drawn from a service's OpenAPI document (``harness init --openapi``).

An OpenAPI document says which operations exist and what their bodies look like, not which one is the QA
endpoint or how the production one delivers. Those are guessed from names and declarations: a path with a
``qa`` segment is QA; the production path is the one closest to it; ``text/event-stream`` or ``stream`` in
the path means SSE; a callback header, ``callbacks`` or a 202 answer means a job that calls back. Every guess
is written down as a comment in the spec, with the alternatives, and ``harness try`` shows whether it holds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from harness._errors import HarnessError
from harness._run._negative import fetch_openapi, inline_refs

FETCH_TIMEOUT_S = 10.0
"""Bound on fetching the document (connect, each read)."""
MAX_DOCUMENT_BYTES = 8 * 1024**2
_TEXT_NAMES = ("text", "reply", "output", "answer", "content", "response", "result", "completion", "summary", "message")
_SOURCE_NAMES = ("sources", "citations", "references", "documents", "docs")
_METADATA_NAMES = ("model_version", "model", "version")
_CONVERSATION_NAMES = ("conversation_id", "session_id", "thread_id", "chat_id")
_CALLBACK_FIELDS = ("callback_url", "webhook_url", "callback", "webhook")
_MAX_DEPTH = 4


@dataclass
class Operation:
    """One POST operation with a JSON request body."""

    path: str
    operation: dict[str, Any]
    request_schema: dict[str, Any]

    def responses(self) -> dict[str, Any]:
        """The operation's responses object (empty when missing)."""
        responses = self.operation.get("responses")
        return responses if isinstance(responses, dict) else {}


@dataclass
class Draft:
    """What ``init`` writes from the document: the spec's keys, the notes above them, the starter input."""

    spec: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    """Comment lines for the top of service.yaml: what was guessed and what else it could be."""
    input: dict[str, Any] = field(default_factory=dict)
    base_url: str | None = None
    """Where the service lives, if the document says (``servers``) or was fetched from it."""


def read_document(source: str) -> tuple[Any, str | None]:
    """The OpenAPI document at a URL or in a file, and the base URL it was fetched from (None for a file)."""
    if source.startswith(("http://", "https://")):
        document = fetch_openapi(source, FETCH_TIMEOUT_S, hint="check the URL, or save the document and pass its file")
        parts = urlsplit(source)
        prefix = parts.path.rsplit("/", 1)[0]
        return document, f"{parts.scheme}://{parts.netloc}{prefix}"
    path = Path(source)
    try:
        if path.stat().st_size > MAX_DOCUMENT_BYTES:
            raise HarnessError(f"the OpenAPI document {source} is larger than {MAX_DOCUMENT_BYTES // 1024**2} MB")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise HarnessError(f"cannot read the OpenAPI document {source}: {exc}") from None
    import yaml  # lazy: JSON is YAML too, so one reader serves both

    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise HarnessError(f"the OpenAPI document {source} is neither JSON nor YAML: {exc}") from None
    return document, None


def draft_from_openapi(document: Any, source: str, service: str | None) -> Draft:
    """The spec, notes and starter input for the service the document describes (``service`` narrows it)."""
    if not isinstance(document, dict) or not isinstance(document.get("paths"), dict):
        raise HarnessError(f"{source} is not an OpenAPI document (no 'paths'); give the service's /openapi.json")
    operations = _post_operations(document)
    notes: list[str] = []
    if service:
        wanted = [op for op in operations if _mentions(op, service)]
        if not wanted and operations:
            notes.append(f"No path or tag names {service!r}: the endpoints were chosen among all the operations.")
        operations = wanted or operations
    if not operations:
        raise HarnessError(
            f"{source} has no POST operation with a JSON request body; start from a preset "
            "(harness init --preset openai-chat) or write service.yaml by hand"
        )
    base_url = _server_url(document)
    chat = next((op for op in operations if op.path.rstrip("/").endswith("/chat/completions")), None)
    if chat is not None:
        draft = _openai_draft(chat, base_url)
        draft.notes[:0] = notes
        return draft
    qa, prod = _pick(operations, notes)
    spec: dict[str, Any] = {"qa": _qa_endpoint(qa, notes), "prod": _prod_endpoint(prod, qa, notes)}
    conversation = next((name for name in _CONVERSATION_NAMES if name in _properties(qa.request_schema)), None)
    if conversation:
        spec["conversation"] = {"id_field": conversation}
        notes.append(f"conversation: the input's {conversation} is replaced by a fresh id per case and endpoint.")
    skip: set[str] = set()
    url_field = spec["prod"].get("callback", {}).get("url_pointer")
    if url_field:
        skip.add(url_field.lstrip("/"))
    return Draft(spec, notes, _sample_object(qa.request_schema, skip), base_url)


# ---------------------------------------------------------------- choosing the operations


def _post_operations(document: dict[str, Any]) -> list[Operation]:
    """Every POST operation with a JSON request body, ``$ref`` s inlined, in document order."""
    found: list[Operation] = []
    for path, item in document["paths"].items():
        operation = item.get("post") if isinstance(item, dict) else None
        if not isinstance(operation, dict):
            continue
        content = (operation.get("requestBody") or {}).get("content") or {}
        media = next((m for m in content if str(m).split(";")[0].strip().endswith("json")), None)
        if media is None:
            continue
        schema = inline_refs((content[media] or {}).get("schema") or {}, document)
        found.append(Operation(str(path), inline_refs(operation, document), schema if isinstance(schema, dict) else {}))
    return found


def _mentions(op: Operation, service: str) -> bool:
    """Whether the operation's path or tags name the service."""
    words = {service.lower(), service.lower().replace("-", "_"), service.lower().replace("-", "")}
    tags = [str(tag).lower() for tag in op.operation.get("tags") or []]
    return any(word in op.path.lower() or word in tags for word in words)


def _is_qa(path: str) -> bool:
    """A path with a ``qa`` segment (or a ``qa`` word in one: ``/qa-summarize``)."""
    return any("qa" in re.split(r"[-_.]", segment.lower()) for segment in path.split("/"))


def _pick(operations: list[Operation], notes: list[str]) -> tuple[Operation, Operation]:
    """The QA and prod operations: a ``qa`` path, and the other path closest to it."""
    qa_ops = [op for op in operations if _is_qa(op.path)]
    others = [op for op in operations if not _is_qa(op.path)]
    if not qa_ops:
        qa = prod = operations[0]
        notes.append(
            f"No path has a 'qa' segment: both endpoints are {qa.path} (sync). Point qa.path at the QA endpoint "
            "and prod at the production one."
        )
        _alternatives(notes, operations, qa)
        return qa, prod
    qa = qa_ops[0]
    if len(qa_ops) > 1:
        notes.append(
            f"QA endpoint guessed: {qa.path}; other QA-looking paths: {', '.join(o.path for o in qa_ops[1:])}."
        )
    if not others:
        notes.append(f"No production path found beside {qa.path}: prod points at it too; fix prod.path.")
        return qa, qa
    stem = "/".join(s for s in qa.path.split("/") if "qa" not in re.split(r"[-_.]", s.lower()))
    prod = max(others, key=lambda op: (op.path == stem, len(_common_prefix(op.path, stem)), -len(op.path)))
    notes.append(f"QA endpoint: {qa.path} (its path says qa); production endpoint guessed: {prod.path}.")
    _alternatives(notes, others, prod)
    return qa, prod


def _alternatives(notes: list[str], candidates: list[Operation], chosen: Operation) -> None:
    """Note the paths that were not chosen."""
    rest = [op.path for op in candidates if op is not chosen]
    if rest:
        notes.append(f"Other POST paths with a JSON body: {', '.join(rest[:8])}{' ...' if len(rest) > 8 else ''}.")


def _common_prefix(a: str, b: str) -> list[str]:
    """The path segments two paths share from the start."""
    prefix: list[str] = []
    for x, y in zip(a.split("/"), b.split("/"), strict=False):
        if x != y:
            break
        prefix.append(x)
    return prefix


def _server_url(document: dict[str, Any]) -> str | None:
    """The document's first absolute ``servers`` URL."""
    servers = document.get("servers")
    if isinstance(servers, list) and servers and isinstance(servers[0], dict):
        url = str(servers[0].get("url", ""))
        if url.startswith(("http://", "https://")):
            return url.rstrip("/")
    return None


# ---------------------------------------------------------------- the endpoints


def _qa_endpoint(op: Operation, notes: list[str]) -> dict[str, Any]:
    """The QA endpoint's spec keys: sync, its auth and output pointers."""
    endpoint: dict[str, Any] = {"path": op.path, "delivery": "sync"}
    if _declares_auth(op) or _is_qa(op.path):
        endpoint["auth"] = "qa_token"
        if not _declares_auth(op):
            notes.append(
                "qa.auth: qa_token sends Authorization: Bearer <--harness-qa-token> (QA endpoints are usually "
                "protected; the document does not say). Write auth: none if yours is open."
            )
    pointers = _output_pointers(_success_schema(op), notes, "qa")
    endpoint["output"] = pointers
    return endpoint


def _prod_endpoint(op: Operation, qa: Operation, notes: list[str]) -> dict[str, Any]:
    """The production endpoint's spec keys: its delivery guessed, output pointers like QA's unless described."""
    endpoint: dict[str, Any] = {"path": op.path}
    qa_pointers = _output_pointers(_success_schema(qa), [], "qa")
    callback_header = next(
        (
            str(p["name"])
            for p in op.operation.get("parameters") or []
            if isinstance(p, dict)
            and p.get("in") == "header"
            and re.search("callback|webhook", str(p.get("name")), re.I)
        ),
        None,
    )
    callback_field = next((name for name in _CALLBACK_FIELDS if name in _properties(op.request_schema)), None)
    streams = _streams(op)
    if streams:
        endpoint["delivery"] = "sse"
        notes.append(
            f"prod.delivery: sse ({streams}). The stream is read as raw text deltas ending with data: [DONE] "
            "or an 'end' event; see prod.sse in the service-spec reference for JSON chunks."
        )
        endpoint["output"] = {k: v for k, v in qa_pointers.items() if k != "text"}
    elif callback_header or callback_field or op.operation.get("callbacks") or "202" in op.responses():
        endpoint["delivery"] = "callback"
        endpoint["callback"] = _callback(op, callback_header, callback_field, notes)
        payload = _callback_payload_schema(op)
        endpoint["output"] = _output_pointers(payload, [], "prod") if payload else qa_pointers
    else:
        endpoint["delivery"] = "sync"
        endpoint["output"] = _output_pointers(_success_schema(op), [], "prod")
        if op is not qa:
            notes.append("prod.delivery: sync (nothing in the document says stream or callback).")
    if _declares_auth(op):
        endpoint["auth"] = "qa_token"
    if not endpoint["output"]:
        del endpoint["output"]
    return endpoint


def _callback(op: Operation, header: str | None, body_field: str | None, notes: list[str]) -> dict[str, Any]:
    """The ``callback`` keys: where the receiver's URL goes, where the job id is."""
    callback: dict[str, Any] = {}
    if header:
        callback["url_header"] = header
    elif body_field:
        callback["url_header"] = None
        callback["url_pointer"] = f"/{body_field}"
    ack = _properties(_schema_of(op.responses().get("202") or {}))
    ack_id = next((name for name in ack if re.search(r"(^|[-_])id$", name)), None)
    if ack_id:
        callback["ack_id"] = f"/{ack_id}"
    where = f"header {header}" if header else f"body field {body_field}" if body_field else "header Callback-Url"
    notes.append(
        f"prod.delivery: callback (the receiver's URL goes in the {where}). The job id is read at "
        f"{callback.get('ack_id', '/callback-id')} of the acknowledgement and the callback payload, signed per "
        "Standard Webhooks; see prod.callback in the service-spec reference for other schemes."
    )
    return callback


def _streams(op: Operation) -> str:
    """Why the operation looks like an SSE stream ('' when it does not)."""
    for status, response in op.responses().items():
        if str(status).startswith("2") and "text/event-stream" in ((response or {}).get("content") or {}):
            return "the answer is text/event-stream"
    if "stream" in op.path.lower():
        return "guessed from the path"
    return ""


def _declares_auth(op: Operation) -> bool:
    """The operation declares security or an Authorization header."""
    if op.operation.get("security"):
        return True
    params = op.operation.get("parameters") or []
    return any(isinstance(p, dict) and str(p.get("name", "")).lower() == "authorization" for p in params)


def _success_schema(op: Operation) -> dict[str, Any]:
    """The JSON schema of the 200 (or 201) answer; empty when not described."""
    for status in ("200", "201"):
        if status in op.responses():
            return _schema_of(op.responses()[status])
    return {}


def _schema_of(response: dict[str, Any]) -> dict[str, Any]:
    """The JSON schema of a response or request body object."""
    content = (response or {}).get("content") or {}
    media = next((m for m in content if str(m).split(";")[0].strip().endswith("json")), None)
    schema = (content.get(media) or {}).get("schema") if media else None
    return schema if isinstance(schema, dict) else {}


def _callback_payload_schema(op: Operation) -> dict[str, Any]:
    """The request body of the first callback the operation declares (OpenAPI ``callbacks``)."""
    for expressions in (op.operation.get("callbacks") or {}).values():
        for item in (expressions or {}).values():
            for operation in (item or {}).values():
                if isinstance(operation, dict):
                    return _schema_of(operation.get("requestBody") or {})
    return {}


def _output_pointers(schema: dict[str, Any], notes: list[str], endpoint: str) -> dict[str, Any]:
    """``text``, ``sources`` and ``metadata`` pointers into a response body of ``schema``."""
    strings = _fields(schema, lambda s: s.get("type") == "string")
    lists = _fields(schema, lambda s: s.get("type") == "array")
    pointers: dict[str, Any] = {}
    text = _by_name(strings, _TEXT_NAMES) or (strings[0][0] if strings else None)
    if text is None:
        text = "/text"
        notes.append(
            f"{endpoint}.output.text: /text is a guess, the document does not describe the answer. "
            "Run harness try to see the body, then fix the pointer (e.g. /reply, /output, /choices/0/message/content)."
        )
    pointers["text"] = text
    sources = _by_name(lists, _SOURCE_NAMES)
    if sources:
        pointers["sources"] = sources
    metadata = {p.rsplit("/", 1)[-1]: p for p, _ in strings if p.rsplit("/", 1)[-1] in _METADATA_NAMES and p != text}
    if metadata:
        pointers["metadata"] = metadata
    return pointers


def _fields(schema: Any, keep: Any, prefix: str = "", depth: int = 0) -> list[tuple[str, dict[str, Any]]]:
    """(pointer, schema) of every property below ``schema`` that ``keep`` accepts; arrays through their first item."""
    found: list[tuple[str, dict[str, Any]]] = []
    if not isinstance(schema, dict) or depth > _MAX_DEPTH:
        return found
    for name, sub in _properties(schema).items():
        if not isinstance(sub, dict):
            continue
        pointer = f"{prefix}/{name.replace('~', '~0').replace('/', '~1')}"
        if keep(sub):
            found.append((pointer, sub))
        found += _fields(sub, keep, pointer, depth + 1)
        if sub.get("type") == "array" and isinstance(sub.get("items"), dict):
            found += _fields(sub["items"], keep, pointer + "/0", depth + 1)
    return found


def _by_name(fields: list[tuple[str, dict[str, Any]]], names: tuple[str, ...]) -> str | None:
    """The pointer of the first field named one of ``names``, in the order of ``names``."""
    for name in names:
        for pointer, _ in fields:
            if pointer.rsplit("/", 1)[-1].lower() == name:
                return pointer
    return None


def _properties(schema: Any) -> dict[str, Any]:
    """A schema's ``properties`` (empty when it has none)."""
    props = schema.get("properties") if isinstance(schema, dict) else None
    return props if isinstance(props, dict) else {}


# ---------------------------------------------------------------- the starter input


def _sample_object(schema: dict[str, Any], skip: set[str]) -> dict[str, Any]:
    """A body the schema accepts: its example if it has one, else every required field (all if none are)."""
    example = _example(schema)
    if isinstance(example, dict):
        return {k: v for k, v in example.items() if k not in skip}
    props = _properties(schema)
    required = [name for name in schema.get("required") or [] if name in props] or list(props)
    return {name: _sample(props[name], name) for name in required if name not in skip}


def _sample(schema: Any, name: str, depth: int = 0) -> Any:
    """A value of ``schema``: its example, default or first enum value, else a small valid one of its type."""
    if not isinstance(schema, dict):
        return name
    example = _example(schema)
    if example is not None:
        return example
    for key in ("default", "const"):
        if schema.get(key) is not None:
            return schema[key]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        options = [o for o in schema.get(key) or [] if isinstance(o, dict) and o.get("type") != "null"]
        if options:
            return _sample(options[0], name, depth)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind == "integer" or kind == "number":
        low: Any = schema.get("minimum")
        above: Any = schema.get("exclusiveMinimum")
        # OpenAPI 3.0 writes exclusiveMinimum as a flag beside minimum, 3.1 as the bound itself.
        if _is_number(above):
            value = max(1, int(above) + 1)
        else:
            value = max(1, int(low) + (1 if above is True else 0)) if _is_number(low) else 1
        if _is_number(schema.get("maximum")):
            value = min(value, int(schema["maximum"]))
        return value if kind == "integer" else float(value)
    if kind == "boolean":
        return False
    if kind == "array":
        count = max(1, int(schema.get("minItems", 1)))
        return [_sample(schema.get("items"), name, depth + 1) for _ in range(count)] if depth < _MAX_DEPTH else []
    if kind == "object" or _properties(schema):
        return _sample_object(schema, set()) if depth < _MAX_DEPTH else {}
    text = str(schema.get("title") or name.replace("_", " ").capitalize())
    minimum, maximum = int(schema.get("minLength", 0)), schema.get("maxLength")
    text = text.ljust(minimum, "x")
    return text[: int(maximum)] if isinstance(maximum, int) else text


def _is_number(value: Any) -> bool:
    """An int or float, not a bool."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def _example(schema: dict[str, Any]) -> Any:
    """The schema's ``example`` or first ``examples`` entry."""
    if schema.get("example") is not None:
        return schema["example"]
    examples = schema.get("examples")
    if isinstance(examples, list) and examples:
        return examples[0]
    return None


def _openai_draft(op: Operation, base_url: str | None) -> Draft:
    """A chat-completions path: the openai-chat preset says the rest."""
    spec: dict[str, Any] = {"preset": "openai-chat"}
    notes = [
        f"{op.path} is an OpenAI-compatible chat completions endpoint: the openai-chat preset describes it "
        "(QA: the plain completion, prod: the same request streamed). Set the case input's model to one the "
        "service serves."
    ]
    if op.path != "/v1/chat/completions":
        spec["qa"] = {"path": op.path}
        spec["prod"] = {"path": op.path}
    model = _sample(_properties(op.request_schema).get("model", {}), "model")
    sample = {
        "model": model if isinstance(model, str) and model != "Model" else "model",
        "messages": [{"role": "user", "content": "Say hello in one short sentence."}],
        "temperature": 0,
        "seed": 1,
    }
    return Draft(spec, notes, sample, base_url)
