"""The two thin studycompanion entryways: the SSE stream (prod) and the sync QA reply."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, StreamingResponse

from reference_services import sse
from reference_services.auth import require_qa_token
from reference_services.faults import FaultSet
from reference_services.llm import ModelUnavailableError
from reference_services.studycompanion.core import ChatRequest, PreparedChat, StudyCompanionCore
from reference_services.validation import validation_error

logger = logging.getLogger("reference_services.studycompanion")


def create_router(core: StudyCompanionCore, faults: FaultSet) -> APIRouter:
    """The studycompanion routes, bound to one app's components."""
    router = APIRouter(prefix="/studycompanion", tags=["studycompanion"])

    def known_course(body: ChatRequest) -> ChatRequest:
        if core.resolve_course(body.course) is None:
            raise validation_error(
                ("body", "course"),
                f"unknown course; known courses are: {', '.join(core.course_titles)}",
                body.course,
            )
        return body

    async def events(prepared: PreparedChat) -> AsyncIterator[str]:
        try:
            async with contextlib.aclosing(core.stream(prepared)) as pieces:
                async for piece in pieces:
                    yield sse.event(sse.mojibake(piece) if faults.on("stream_mojibake") else piece)
                    if faults.on("stream_truncated"):
                        return
        except ModelUnavailableError as exc:
            yield sse.json_event({"type": exc.type, "message": str(exc)}, "error")
            yield sse.DONE
            return
        except Exception:
            logger.exception("chat stream failed")
            yield sse.json_event({"type": "internal_error", "message": "the reply failed unexpectedly"}, "error")
            yield sse.DONE
            return
        yield sse.json_event({"model_version": prepared.model_version, "sources": prepared.sources}, "end")
        yield sse.DONE

    @router.post("/chat/stream", response_model=None)
    async def chat_stream(body: ChatRequest) -> StreamingResponse:
        """Stream the reply as SSE text deltas, then ``event: end`` with metadata, then ``data: [DONE]``."""
        body = known_course(body)
        return StreamingResponse(
            events(core.prepare(body, "prod")),
            media_type=sse.MEDIA_TYPE,
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    @router.post("/chat/qa", dependencies=[Depends(require_qa_token)], response_model=None)
    async def chat_qa(body: ChatRequest) -> dict[str, Any] | JSONResponse:
        """Answer in one JSON response."""
        body = known_course(body)
        try:
            reply = await core.reply(body, "qa")
        except ModelUnavailableError as exc:
            return JSONResponse({"error": {"type": exc.type, "message": str(exc)}}, status_code=502)
        return {"reply": reply.reply, "sources": reply.sources, "model_version": reply.model_version}

    return router
