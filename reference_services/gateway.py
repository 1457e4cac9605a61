"""The gateway: ``create_app(settings)`` builds one FastAPI app serving both services.

Everything an app needs hangs off that app (``app.state`` and closures), never module globals, so two
differently configured gateways can run in one process.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reference_services.examgenerator.core import ExamGeneratorCore
from reference_services.examgenerator.routes import create_router as examgenerator_router
from reference_services.faults import FaultSet
from reference_services.jobs import BackgroundJobs
from reference_services.llm import ModelClient
from reference_services.settings import Settings
from reference_services.studycompanion.core import StudyCompanionCore
from reference_services.studycompanion.routes import create_router as studycompanion_router
from reference_services.webhooks import CallbackSender

logger = logging.getLogger("reference_services")
SERVICES = ("examgenerator", "studycompanion")
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestLogMiddleware:
    """Gives every request an id (``X-Request-Id``, echoed if the client sent a sane one) and logs one line.

    The line holds method, path, status, duration and request id; never headers, so neither the QA token
    nor any ``Authorization`` value can reach the log.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            logger.info(
                "request_id=%s method=%s path=%s status=%d ms=%.1f",
                request_id, scope["method"], scope["path"], status, (time.perf_counter() - started) * 1000,
            )  # fmt: skip


def create_app(settings: Settings) -> FastAPI:
    """Build a gateway serving examgenerator and studycompanion with ``settings``."""
    faults = FaultSet(settings.faults)
    model = ModelClient(
        base_url=settings.model_base_url,
        api_key=settings.model_api_key,
        model=settings.model_name,
        timeout_s=settings.model_timeout_s,
    )
    sender = CallbackSender(
        settings.callback_secret,
        timeout_s=settings.callback_timeout_s,
        max_attempts=settings.callback_max_attempts,
        backoff_initial_s=settings.callback_backoff_initial_s,
        backoff_max_s=settings.callback_backoff_max_s,
    )
    jobs = BackgroundJobs()
    exams = ExamGeneratorCore(settings, faults, model)
    study = StudyCompanionCore(settings, faults, model)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await jobs.aclose()
        await sender.aclose()
        await model.aclose()

    app = FastAPI(title="qa-harness reference services", version="1.0", lifespan=lifespan)
    app.state.settings = settings
    app.state.faults = faults
    app.state.jobs = jobs
    app.add_middleware(RequestLogMiddleware)
    app.include_router(examgenerator_router(exams, settings, faults, jobs, sender))
    app.include_router(studycompanion_router(study, faults))

    @app.exception_handler(RequestValidationError)
    async def on_validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        if faults.on("error_parity") and request.url.path.endswith("/qa"):
            return JSONResponse(
                {"error": {"type": "internal_error", "message": "Internal Server Error"}}, status_code=500
            )
        return JSONResponse({"detail": jsonable_encoder(exc.errors())}, status_code=422)

    @app.exception_handler(Exception)
    async def on_unexpected_error(request: Request, exc: Exception) -> JSONResponse:
        logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return JSONResponse(
            {"error": {"type": "internal_error", "message": "unexpected server error"}}, status_code=500
        )

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/version")
    async def version() -> dict[str, Any]:
        return {"model_version": settings.model_name, "services": list(SERVICES)}

    return app
