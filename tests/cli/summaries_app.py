"""A summarising service written the way a team would write theirs with FastAPI: typed bodies, a bearer-protected
QA endpoint, and a production endpoint that streams Server-Sent Events; its /openapi.json says all of that."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

from fastapi import Depends, FastAPI, HTTPException
from fastapi.responses import StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

from harness.serving import ServerThread, bind, quiet_config

QA_TOKEN = "summaries-qa-token"
MODEL_VERSION = "summarizer-2"
EXAMPLE = "Mitochondria make ATP. They are the powerhouse of the cell and have their own DNA."


class SummaryRequest(BaseModel):
    """What both endpoints take."""

    document: str = Field(min_length=1, max_length=10_000, examples=[EXAMPLE])
    max_words: int = Field(ge=1, le=100)


class Summary(BaseModel):
    """What the QA endpoint answers."""

    summary: str
    sources: list[str]
    model_version: str


def _summarise(request: SummaryRequest) -> tuple[str, list[str]]:
    words = request.document.split()[: request.max_words]
    return " ".join(words), ["doc-1"]


def create_app() -> FastAPI:
    """The service."""
    app = FastAPI(title="Summaries")
    bearer = HTTPBearer()

    def authorised(credentials: HTTPAuthorizationCredentials = Depends(bearer)) -> None:  # noqa: B008
        if credentials.credentials != QA_TOKEN:
            raise HTTPException(401, "bad token")

    @app.post("/summaries/qa", response_model=Summary, dependencies=[Depends(authorised)])
    def summarise_qa(request: SummaryRequest) -> Summary:
        text, sources = _summarise(request)
        return Summary(summary=text, sources=sources, model_version=MODEL_VERSION)

    @app.post("/summaries/stream", responses={200: {"content": {"text/event-stream": {}}}})
    def summarise_stream(request: SummaryRequest) -> StreamingResponse:
        text, sources = _summarise(request)

        async def events() -> AsyncIterator[str]:
            for index, word in enumerate(text.split(" ")):
                yield f"data: {word if index == 0 else ' ' + word}\n\n"
            yield f"event: end\ndata: {json.dumps({'sources': sources, 'model_version': MODEL_VERSION})}\n\n"
            yield "data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    return app


@dataclass
class SummariesService:
    """The started service."""

    base_url: str
    serving: ServerThread

    def stop(self) -> None:
        """Stop serving (bounded)."""
        self.serving.stop()


def start_summaries() -> SummariesService:
    """Serve the app on a loopback ephemeral port; return once it accepts connections."""
    sock = bind()
    serving = ServerThread([(quiet_config(create_app()), sock)], name="summaries")
    serving.start()
    return SummariesService(f"http://127.0.0.1:{sock.getsockname()[1]}", serving)
