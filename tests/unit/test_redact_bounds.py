"""Masking stays linear: a long unbroken token or a body full of URL fragments must not freeze a run."""

from __future__ import annotations

import time
from collections.abc import Callable

from harness._report.masking import MASK, redact_text

MB = 1024 * 1024


def _cpu_time() -> float:
    # CPU seconds of this process: other processes competing for the cores do not inflate it.
    return time.process_time()


def _best_of_3(build: Callable[[int], str], size: int) -> float:
    """Fastest of three timed masks of a ``size``-character text (the fastest is the least noisy)."""
    text = build(size)
    times = []
    for _ in range(3):
        started = _cpu_time()
        redact_text(text, ["s3cr3t-token"])
        times.append(_cpu_time() - started)
    return min(times)


def _unbroken(size: int) -> str:
    return "a" * size


def _url_fragments(size: int) -> str:
    # Some fragments have a password to mask, some a scheme and user with no password, some a
    # long run of scheme characters: the shapes that made the old pattern backtrack.
    unit = "http://user:pw@h/ ftp://" + "b" * 40 + ":" + "x1+.-" * 8 + "://u:"
    return (unit * (size // len(unit) + 1))[:size]


def _assert_linear(build: Callable[[int], str]) -> None:
    # Ratio of 4 MB to 1 MB: 4 when linear, 16 when quadratic. Tiny times are floored so that
    # timer noise on a busy machine cannot fake a large ratio.
    one, four = _best_of_3(build, MB), _best_of_3(build, 4 * MB)
    assert four / max(one, 0.02) < 8, f"1 MB: {one:.3f} s, 4 MB: {four:.3f} s"
    text = build(10 * MB)
    started = _cpu_time()
    redact_text(text)
    assert _cpu_time() - started < 5.0


def test_a_40_kb_unbroken_token_masks_at_once() -> None:
    # The old pattern took ~2.5 s here (and hours at 10 MB); fail fast before the big sizes.
    started = _cpu_time()
    assert redact_text(_unbroken(40_000)) == _unbroken(40_000)
    assert _cpu_time() - started < 0.5


def test_masking_an_unbroken_token_is_linear() -> None:
    _assert_linear(_unbroken)


def test_masking_many_url_fragments_is_linear() -> None:
    text = _url_fragments(40_000)
    started = _cpu_time()
    redact_text(text)
    assert _cpu_time() - started < 0.5
    _assert_linear(_url_fragments)


def test_every_url_password_in_a_long_body_is_masked() -> None:
    text = _url_fragments(MB)
    masked = redact_text(text)
    assert "user:pw@" not in masked
    assert masked.count(f"user:{MASK}@") == text.count("user:pw@")


def test_url_passwords_whatever_the_scheme_looks_like() -> None:
    # Masking does not depend on where the scheme starts, so an odd prefix cannot hide a password.
    assert redact_text("1abc://u:pw@h") == f"1abc://u:{MASK}@h"
    assert redact_text("x" * 100_000 + "://u:pw@h").endswith(f"://u:{MASK}@h")
    assert redact_text("postgres://app:p:w@db:5432/x") == f"postgres://app:{MASK}@db:5432/x"
    # Not a password: no user, a path before the "@", or whitespace inside.
    for text in ("http://:pw@h", "http://u/x:pw@h", "http://u:p w@h", "mailto:u:pw@h"):
        assert redact_text(text) == text
