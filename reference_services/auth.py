"""The QA endpoints' bearer-token check (a FastAPI dependency)."""

from __future__ import annotations

import secrets

from fastapi import HTTPException, Request

from reference_services.faults import FaultSet
from reference_services.settings import Settings


async def require_qa_token(request: Request) -> None:
    """Reject the request with 401 unless it carries ``Authorization: Bearer <QA token>``."""
    settings: Settings = request.app.state.settings
    faults: FaultSet = request.app.state.faults
    if faults.on("qa_auth_disabled"):
        return
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(
            status_code=401,
            detail="QA endpoint: missing bearer token; send 'Authorization: Bearer <QA token>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not secrets.compare_digest(token.strip().encode(), settings.qa_token.encode()):
        raise HTTPException(
            status_code=401,
            detail="QA endpoint: the bearer token is not the QA token",
            headers={"WWW-Authenticate": "Bearer"},
        )
