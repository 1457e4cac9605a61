"""The two thin examgenerator entryways: async create with a signed callback (prod), and sync QA."""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header
from fastapi.responses import JSONResponse

from reference_services.auth import require_qa_token
from reference_services.examgenerator.core import ExamGeneratorCore, ExamRequest
from reference_services.faults import FaultSet
from reference_services.jobs import BackgroundJobs
from reference_services.llm import ModelUnavailableError
from reference_services.settings import Settings
from reference_services.validation import check_callback_url
from reference_services.webhooks import CallbackSender, new_message_id

logger = logging.getLogger("reference_services.examgenerator")


def create_router(
    core: ExamGeneratorCore, settings: Settings, faults: FaultSet, jobs: BackgroundJobs, sender: CallbackSender
) -> APIRouter:
    """The examgenerator routes, bound to one app's components."""
    router = APIRouter(prefix="/examgenerator", tags=["examgenerator"])

    async def run_job(callback_id: str, callback_url: str, request: ExamRequest) -> None:
        payload: dict[str, Any]
        try:
            result = await core.generate(request, "prod")
            payload = {
                "callback-id": callback_id,
                "status": "succeeded",
                "text": result.text,
                "model_version": result.model_version,
            }
        except ModelUnavailableError as exc:
            logger.warning("exam job callback-id=%s failed: %s", callback_id, exc)
            payload = {"callback-id": callback_id, "status": "failed", "error": {"type": exc.type, "message": str(exc)}}
        except Exception:
            logger.exception("exam job callback-id=%s crashed", callback_id)
            payload = {
                "callback-id": callback_id,
                "status": "failed",
                "error": {"type": "internal_error", "message": "the exam job failed unexpectedly"},
            }
        if faults.on("callback_never"):
            return
        if faults.on("callback_wrong_id"):
            payload["callback-id"] = str(uuid.uuid4())
        message_id = new_message_id()
        # The duplicate goes out with the original, as an at-least-once queue's race does: on a busy machine a
        # second send after the first could land past the harness's settle window and read as merely late.
        copies = 2 if faults.on("callback_duplicate") else 1
        await asyncio.gather(*(sender.send(callback_url, payload, message_id=message_id) for _ in range(copies)))

    @router.post("/create", status_code=202)
    async def create(body: ExamRequest, callback_url: Annotated[str, Header(alias="Callback-Url")]) -> dict[str, Any]:
        """Accept an exam job; the exam (or the failure) is POSTed to ``Callback-Url`` later."""
        check_callback_url(callback_url, settings.callback_allowed_hosts)
        callback_id = str(uuid.uuid4())
        jobs.spawn(run_job(callback_id, callback_url.strip(), body), name=f"exam-{callback_id}")
        logger.info("exam job accepted callback-id=%s", callback_id)
        return {"success": True, "callback-id": callback_id}

    @router.post("/create/qa", dependencies=[Depends(require_qa_token)], response_model=None)
    async def create_qa(body: ExamRequest) -> dict[str, Any] | JSONResponse:
        """Write the exam and return it directly."""
        try:
            result = await core.generate(body, "qa")
        except ModelUnavailableError as exc:
            return JSONResponse({"error": {"type": exc.type, "message": str(exc)}}, status_code=502)
        return {"text": result.text, "model_version": result.model_version}

    return router
