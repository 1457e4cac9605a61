"""Service specs: where a service's QA and prod endpoints are, how they deliver, where the output lives."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError

from harness._validation import StrictModel, validation_error
from harness._yaml import read_located

Delivery = Literal["sync", "callback", "sse"]


class OutputPointers(StrictModel):
    """JSON pointers (RFC 6901) into the result body. SSE: into the end event's JSON data."""

    text: str | None = Field(None, description="Pointer to the output text. SSE: omit, the deltas are the text.")
    sources: str | None = Field(None, description="Pointer to a list of source ids, if the service returns them.")
    metadata: dict[str, str] = Field(
        default_factory=dict, description="Other values to record, name -> pointer, e.g. model_version: /model_version."
    )


class CallbackSpec(StrictModel):
    """How an async job acknowledges and later calls back."""

    url_header: str = Field("Callback-Url", description="Request header that carries the receiver's URL.")
    ack_id: str = Field("/callback-id", description="Pointer to the job id in the acknowledgement body.")
    payload_id: str = Field("/callback-id", description="Pointer to the job id in the callback payload.")
    status: str | None = Field("/status", description="Pointer to the job status in the payload.")
    success: list[str] = Field(default_factory=lambda: ["succeeded"], description="Status values that mean success.")
    signed: bool = Field(True, description="Deliveries are signed per Standard Webhooks.")


class SseSpec(StrictModel):
    """How a stream ends and reports metadata or errors."""

    terminator: str | None = Field("[DONE]", description="data payload that ends the stream; null: end of body.")
    end_event: str | None = Field("end", description="Event name whose JSON data holds metadata (the body).")
    error_event: str | None = Field("error", description="Event name that reports a failure mid-stream.")


class EndpointSpec(StrictModel):
    """One endpoint of a service."""

    method: Literal["POST", "PUT", "GET"] = "POST"
    path: str = Field(description="Path below the base URL, e.g. /examgenerator/create/qa.")
    delivery: Delivery
    auth: Literal["none", "qa_token"] = Field("none", description="qa_token: send Authorization: Bearer <token>.")
    output: OutputPointers = Field(default_factory=OutputPointers)
    callback: CallbackSpec = Field(default_factory=CallbackSpec)
    sse: SseSpec = Field(default_factory=SseSpec)


class ConversationSpec(StrictModel):
    """Multi-turn services: which body field holds the conversation id the harness generates."""

    id_field: str = "conversation_id"


class NegativeSpec(StrictModel):
    """Generated negative cases: invalid requests drawn from the request schema, sent to QA and prod."""

    source: str = Field(
        alias="schema",
        description="openapi: the request body schema in the OpenAPI document the target serves (read at run "
        "time); else a JSON Schema file of the request body, relative to this spec.",
    )
    count: int = Field(20, ge=1, le=1000, description="How many negative cases (ids negative-0, negative-1, ...).")
    endpoint: Literal["qa", "prod"] = Field("qa", description="openapi: whose path's request body schema to use.")
    openapi_path: str = Field("/openapi.json", description="openapi: where the target serves its OpenAPI document.")


class ServiceSpec(StrictModel):
    """A service with a production endpoint and a synchronous QA endpoint."""

    service: str
    description: str = ""
    qa: EndpointSpec
    prod: EndpointSpec
    conversation: ConversationSpec | None = None
    negative: NegativeSpec | None = Field(None, description="Generate negative cases from the request schema.")

    def endpoint(self, name: str) -> EndpointSpec:
        """The ``qa`` or ``prod`` endpoint."""
        return self.qa if name == "qa" else self.prod


def parse_service_spec(path: Path, display: str) -> ServiceSpec:
    """Read and validate a service spec; problems are a ``CaseFileError`` naming file:line."""
    doc = read_located(path, display)
    try:
        return ServiceSpec.model_validate(doc.data)
    except ValidationError as exc:
        raise validation_error(
            exc,
            doc,
            "service spec",
            ServiceSpec,
            {
                "qa": EndpointSpec,
                "prod": EndpointSpec,
                "output": OutputPointers,
                "callback": CallbackSpec,
                "sse": SseSpec,
                "conversation": ConversationSpec,
                "negative": NegativeSpec,
            },
        ) from None
