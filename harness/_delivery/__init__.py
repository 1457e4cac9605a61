"""Delivery adapters: turn sync JSON, signed callbacks, SSE streams and polled jobs into one ``Outcome``.

One small interface (``DeliveryAdapter.deliver``), four implementations: ``SyncAdapter``,
``CallbackAdapter`` (with the process-wide ``CallbackReceiver``), ``SseAdapter`` and ``PollAdapter``.
``get_adapter(delivery, receiver=...)`` picks one for an endpoint's declared delivery mode.
"""

from __future__ import annotations

from harness._delivery._base import DeliveryAdapter, Request
from harness._delivery._callback import DEFAULT_SETTLE_S, CallbackAdapter
from harness._delivery._poll import PollAdapter
from harness._delivery._receiver import CallbackDelivery, CallbackReceiver, CallbackSlot
from harness._delivery._sse import SseAdapter
from harness._delivery._sync import SyncAdapter
from harness._errors import HarnessUsageError

__all__ = [
    "DEFAULT_SETTLE_S",
    "CallbackAdapter",
    "CallbackDelivery",
    "CallbackReceiver",
    "CallbackSlot",
    "DeliveryAdapter",
    "PollAdapter",
    "Request",
    "SseAdapter",
    "SyncAdapter",
    "get_adapter",
]


def get_adapter(
    delivery: str,
    *,
    receiver: CallbackReceiver | None = None,
    settle_s: float = DEFAULT_SETTLE_S,
) -> DeliveryAdapter:
    """The adapter for a delivery mode (``sync``, ``callback``, ``sse`` or ``poll``).

    ``callback`` needs the started process-wide ``receiver``; ``settle_s`` is how long it keeps
    listening after the first delivery to catch duplicates.

    Raises ``HarnessUsageError`` for an unknown mode or a callback endpoint without a receiver.
    """
    if delivery == "sync":
        return SyncAdapter()
    if delivery == "sse":
        return SseAdapter()
    if delivery == "poll":
        return PollAdapter()
    if delivery == "callback":
        if receiver is None:
            raise HarnessUsageError("a callback endpoint needs a CallbackReceiver; start one per process")
        return CallbackAdapter(receiver, settle_s=settle_s)
    raise HarnessUsageError(f"unknown delivery mode {delivery!r}: use sync, callback, sse or poll")
