"""The request for one endpoint of a spec: the case input placed in the body template, headers, auth, the URL."""

from __future__ import annotations

import copy
import secrets
from collections.abc import Mapping
from typing import Any, Literal

import httpx

from harness._delivery import CallbackReceiver, DeliveryAdapter, Request, get_adapter
from harness._delivery._base import DEFAULT_MAX_RESPONSE_BYTES
from harness._delivery._outcome import Outcome
from harness._errors import HarnessUsageError
from harness._model._pointer import set_pointer
from harness._model._spec import INPUT_PLACEHOLDER, EndpointSpec, ServiceSpec, expand_env
from harness._run._target import Target

Auth = Literal["default", "none", "invalid"]


def build_request(
    target: Target,
    spec: ServiceSpec,
    endpoint: str,
    *,
    body: Any = None,
    raw_body: str | None = None,
    headers: Mapping[str, str | None] | None = None,
    auth: Auth = "default",
    conversation: str | None = None,
    timeout_s: float = 60.0,
    max_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
) -> Request:
    """The ``Request`` for ``endpoint`` (``qa`` or ``prod``) of ``spec`` at ``target``.

    ``body`` is the case input: the endpoint's body template places it (``$input``) and its ``set`` fields
    are applied. The spec's headers are sent with ``${NAME}`` read from the environment (the values are
    masked like the QA token); ``headers`` mapped to None are never sent; ``auth`` sends the target's QA
    token (``default``) where the endpoint wants it, or drops (``none``) or spoils (``invalid``) whatever
    Authorization header the request carries; ``conversation`` replaces the spec's conversation id in
    ``body`` (case files: one id per run, case and endpoint). ``body`` is sent as given: copy it first.

    Raises ``HarnessUsageError`` when a ``${NAME}`` is not set or the body cannot be built.
    """
    endpoint_spec = spec.endpoint(endpoint)
    secret_values = list(target.secrets)
    sent: dict[str, str] = {}
    for name, template in endpoint_spec.headers.items():
        sent[name], used = _expand(template, f"{spec.service} {endpoint} header {name}")
        secret_values += used
    omit: set[str] = set()
    for name, value in (headers or {}).items():
        if value is None:
            omit.add(name)
        else:
            sent[name] = value
    if endpoint_spec.auth == "qa_token":
        sent.setdefault("Authorization", f"Bearer {target.qa_token or ''}")
    _apply_auth(sent, omit, auth)
    content: bytes | None = None
    id_field = spec.conversation.id_field if spec.conversation else None
    if raw_body is not None:
        content = raw_body.encode("utf-8")
        body = None
        sent.setdefault("Content-Type", "application/json")
    else:
        if conversation is not None and isinstance(body, dict) and id_field in body:
            body[str(id_field)] = conversation
        try:
            body = build_body(endpoint_spec, body)
        except ValueError as exc:
            raise HarnessUsageError(f"cannot build the {endpoint} request of {spec.service!r}: {exc}") from None
    base_url = _base_url(target, spec)
    return Request(
        endpoint=endpoint,
        method=endpoint_spec.method,
        url=base_url + endpoint_spec.path,
        spec=endpoint_spec,
        base_url=base_url,
        headers=sent,
        omit_headers=frozenset(omit),
        json=body,
        content=content,
        timeout_s=timeout_s,
        secrets=tuple(dict.fromkeys(secret_values)),
        max_bytes=max_bytes,
    )


def build_body(spec: EndpointSpec, case_input: Any) -> Any:
    """The endpoint's body template with the case input placed, then its ``set`` fields applied."""
    if spec.body is None:
        return None
    body = _place(spec.body, case_input)
    for pointer, value in spec.set.items():
        set_pointer(body, pointer, copy.deepcopy(value))
    return body


def _place(template: Any, case_input: Any) -> Any:
    if template == INPUT_PLACEHOLDER:
        return copy.deepcopy(case_input)
    if isinstance(template, dict):
        return {key: _place(value, case_input) for key, value in template.items()}
    if isinstance(template, list):
        return [_place(value, case_input) for value in template]
    return template


def _apply_auth(headers: dict[str, str], omit: set[str], auth: str) -> None:
    """``none`` drops the Authorization header whatever set it; ``invalid`` replaces it with a wrong one."""
    names = [name for name in headers if name.lower() == "authorization"]
    if auth == "none":
        for name in names:
            del headers[name]
        omit.add("Authorization")
    elif auth == "invalid":
        for name in names:
            headers[name] = "Bearer invalid-" + secrets.token_hex(8)


def _base_url(target: Target, spec: ServiceSpec) -> str:
    """The spec's own base URL (``${NAME}`` expanded, ``local:model`` the in-process model), else the target's."""
    if spec.base_url is None:
        return target.base_url.rstrip("/")
    if spec.base_url == "local:model":
        if target.model_url is None:
            raise HarnessUsageError(
                f"service {spec.service!r} has base_url local:model, which exists only when the harness starts "
                "the reference services in-process (no --base-url); deselect its cases "
                "(e.g. --deselect cases/reference-model) or give the spec a real base_url"
            )
        # The model's client URL ends in /v1; the spec's paths (the preset's /v1/chat/completions) start there.
        return target.model_url.rstrip("/").removesuffix("/v1")
    url, _ = _expand(spec.base_url, f"{spec.service} base_url")
    return url.rstrip("/")


def _expand(template: str, where: str) -> tuple[str, list[str]]:
    """``${NAME}`` expanded; a variable unset since collection is a usage error naming it."""
    try:
        return expand_env(template)
    except KeyError as exc:
        name = exc.args[0]
        raise HarnessUsageError(f"{where} reads ${{{name}}}, which is not set: export {name}=...") from None


async def deliver_request(
    client: httpx.AsyncClient, request: Request, adapters: dict[str, DeliveryAdapter], receiver: CallbackReceiver | None
) -> Outcome:
    """Send ``request`` through the adapter of its delivery mode (made on first use, kept in ``adapters``)."""
    delivery = request.spec.delivery
    if delivery not in adapters:
        adapters[delivery] = get_adapter(delivery, receiver=receiver)
    return await adapters[delivery].deliver(client, request)
