"""Heavy imports happen off the delivery loop: ahead, on a background thread, or on a worker thread."""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness._run._imports import load_off_loop, warm
from harness._verdict._checks import get_check

PROBE = "import threading\nIMPORTED_ON = threading.current_thread().name\n"


@pytest.fixture
def probe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The name of a fresh module that records which thread imported it."""
    name = f"harness_probe_{time.monotonic_ns()}"
    (tmp_path / f"{name}.py").write_text(PROBE)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    sys.modules.pop(name, None)


def test_warm_imports_on_a_background_thread_and_returns_at_once(probe: str) -> None:
    warm([probe, probe])
    deadline = time.monotonic() + 10
    while probe not in sys.modules or not hasattr(sys.modules[probe], "IMPORTED_ON"):
        assert time.monotonic() < deadline, "the module was never imported"
        time.sleep(0.01)
    assert sys.modules[probe].IMPORTED_ON == "harness-warm-imports"


def test_warm_leaves_a_failing_import_to_the_code_that_needs_it() -> None:
    warm(["harness_no_such_module"])  # no exception here, nor on the thread (it would print a traceback)


def test_load_off_loop_imports_on_a_worker_thread_and_raises_what_the_import_raises(probe: str) -> None:
    async def load() -> str:
        await load_off_loop(probe)
        return threading.current_thread().name

    loop_thread = asyncio.run(load())
    assert sys.modules[probe].IMPORTED_ON not in (loop_thread, "harness-warm-imports")
    with pytest.raises(ModuleNotFoundError):
        asyncio.run(load_off_loop("harness_no_such_module"))


def test_checks_name_the_heavy_modules_they_import() -> None:
    assert get_check("llm_judge").imports == ("openai",)
    assert get_check("no_mojibake").imports == ("ftfy", "ftfy.badness")
    assert get_check("json_schema").imports == ("jsonschema",)
    assert get_check("status").imports == ()
