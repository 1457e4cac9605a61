"""Signed callback delivery per Standard Webhooks (https://www.standardwebhooks.com/).

Headers: ``webhook-id`` (the same on every retry of one message, so receivers can de-duplicate),
``webhook-timestamp`` (unix seconds of the attempt) and ``webhook-signature: v1,<base64 HMAC-SHA256 of
"{id}.{timestamp}.{body}">`` keyed with the base64-decoded part of ``whsec_<base64>``.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
from standardwebhooks.webhooks import Webhook
from tenacity import (
    AsyncRetrying,
    RetryError,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

logger = logging.getLogger("reference_services.webhooks")


class CallbackDeliveryError(Exception):
    """A callback attempt got a non-2xx answer."""


def sign_headers(secret: str, message_id: str, body: str, now: datetime | None = None) -> dict[str, str]:
    """The three Standard Webhooks headers for ``body``."""
    timestamp = (now or datetime.now(tz=UTC)).replace(microsecond=0)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, timestamp, body),
    }


def new_message_id() -> str:
    """A fresh ``webhook-id``."""
    return f"msg_{uuid.uuid4().hex}"


class CallbackSender:
    """Delivers signed JSON callbacks with bounded exponential-backoff retries; every attempt is logged."""

    def __init__(
        self,
        secret: str,
        *,
        timeout_s: float,
        max_attempts: int,
        backoff_initial_s: float,
        backoff_max_s: float,
    ) -> None:
        self._secret = secret
        self._client = httpx.AsyncClient(timeout=timeout_s, follow_redirects=False)
        self._max_attempts = max_attempts
        self._backoff_initial_s = backoff_initial_s
        self._backoff_max_s = backoff_max_s

    async def aclose(self) -> None:
        await self._client.aclose()

    async def send(self, url: str, payload: dict[str, Any], message_id: str | None = None) -> bool:
        """POST ``payload`` to ``url``; True once a 2xx arrives, False when every attempt failed.

        ``message_id`` (the ``webhook-id``) defaults to a fresh one; pass the same id to redeliver a message.
        """
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        message_id = message_id or new_message_id()
        callback_id = payload.get("callback-id")
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._max_attempts),
            wait=wait_exponential(multiplier=self._backoff_initial_s, max=self._backoff_max_s),
            retry=retry_if_exception_type((CallbackDeliveryError, httpx.TransportError)),
        )
        try:
            async for attempt in retrying:
                with attempt:
                    number = attempt.retry_state.attempt_number
                    headers = {"content-type": "application/json", **sign_headers(self._secret, message_id, body)}
                    try:
                        response = await self._client.post(url, content=body.encode("utf-8"), headers=headers)
                    except httpx.TransportError as exc:
                        logger.warning(
                            "callback attempt %d/%d callback-id=%s url=%s failed: %s",
                            number, self._max_attempts, callback_id, url, type(exc).__name__,
                        )  # fmt: skip
                        raise
                    logger.info(
                        "callback attempt %d/%d callback-id=%s url=%s status=%d",
                        number, self._max_attempts, callback_id, url, response.status_code,
                    )  # fmt: skip
                    if not response.is_success:
                        raise CallbackDeliveryError(f"status {response.status_code}")
        except RetryError:
            logger.error(
                "callback callback-id=%s to %s gave up after %d attempts", callback_id, url, self._max_attempts
            )
            return False
        return True
