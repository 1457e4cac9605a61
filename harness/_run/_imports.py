"""Heavy modules imported away from the delivery loop: ahead of need in the background, and never on the loop.

A check or a parity level that needs openai (about 0.4 s to import), deepdiff or ftfy imports it lazily, so
runs that never need them never pay. Imported at first use, they would cost twice: on the runner's loop an
import stalls every delivery in flight, and on a worker thread it holds a case's slot when the first cases end
together and the next should start. So the runner warms them while its first deliveries wait on the network,
and async code loads them on a worker thread.
"""

from __future__ import annotations

import asyncio
import importlib
import threading
from collections.abc import Iterable


async def load_off_loop(*names: str) -> None:
    """Import ``names`` on a worker thread (instant when loaded): an import must not run on the event loop."""
    await asyncio.to_thread(_import_all, names, quietly=False)


def warm(names: Iterable[str]) -> None:
    """Start importing ``names`` on a background thread; a failure is left for the code that needs them."""
    wanted = sorted(set(names))
    if wanted:
        threading.Thread(target=_import_all, args=(wanted,), name="harness-warm-imports", daemon=True).start()


def _import_all(names: Iterable[str], *, quietly: bool = True) -> None:
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:
            if not quietly:
                raise
