"""The bounds on every number a case file, a dataset, a spec or an option gives for time, size or counts.

Declared once, without pydantic, so the option parsers (loaded with the plugin) and the file models
(loaded with the first case file) share them. A value past a bound is a typo or an unbounded wait
(``timeout_s: 1e309`` parses as infinity), never a real need.
"""

from __future__ import annotations

MAX_SECONDS = 24 * 60 * 60
"""A delivery timeout or poll interval: at most a day."""

MAX_REPEAT = 100
"""Runs of one case (``repeat``, ``--harness-repeat``)."""

MAX_NOISE_SAMPLES = 20
"""Calls per endpoint for noise-aware parity."""

MAX_NEGATIVE_COUNT = 1000
"""Generated negative cases per service."""

MAX_CONCURRENCY = 1024
"""Cases one process keeps in flight."""

MAX_RESPONSE_BYTES = 1024**3
"""What one delivery may send (``--harness-max-response-size``): 1 GB."""

MIN_RESPONSE_BYTES = 1024
"""A response limit below 1 KB cannot hold an error body."""

MAX_MODEL_LATENCY_MS = 10 * 60 * 1000
"""The in-process reference model's simulated time to first token: ten minutes."""

MAX_SEED = 2**32 - 1
"""``--harness-seed``: a 32-bit seed, like numpy's and most tools'."""

MAX_LATENCY_TOLERANCE = 10_000.0
"""``--harness-latency-tolerance``: 1,000,000 % (runs that ignore latency pass 100000%)."""
