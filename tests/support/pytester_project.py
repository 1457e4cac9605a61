"""A pytester project for tests of the plugin: service specs and case files in a temporary directory."""

from __future__ import annotations

import contextlib
import importlib
import textwrap
from pathlib import Path

import pytest

# pytester's in-process runs drop every module first imported during a run from sys.modules. httpx and
# httpx2 (openai's client, in recent versions) import their HTTP cores lazily and cache the core-to-httpx
# exception mapping: a core first imported inside a run comes back afterwards as a second copy whose
# exceptions nothing maps, so a refused connection surfaces as a raw ConnectError in every later test of the
# session. numpy (rank-bm25 and deepdiff load it, lazily since the plugin imports nothing heavy) refuses a
# second import in one process outright. PyYAML's C parser keeps the node classes of its first import, so
# a re-imported yaml's constructor finds no constructor for them ("could not determine a constructor for the
# tag None"). Import them up front; httpcore2 only exists where openai depends on httpx2, so it is optional.
for _module in ("httpcore", "httpcore2", "numpy", "yaml"):
    with contextlib.suppress(ModuleNotFoundError):
        importlib.import_module(_module)

EXAM_SPEC = """\
service: examgenerator
qa:
  path: /examgenerator/create/qa
  delivery: sync
  auth: qa_token
  output: {text: /text, metadata: {model_version: /model_version}}
prod:
  path: /examgenerator/create
  delivery: callback
  output: {text: /text, metadata: {model_version: /model_version}}
"""

CHAT_SPEC = """\
service: studycompanion
qa:
  path: /studycompanion/chat/qa
  delivery: sync
  auth: qa_token
  output: {text: /reply, sources: /sources, metadata: {model_version: /model_version}}
prod:
  path: /studycompanion/chat/stream
  delivery: sse
  output: {sources: /sources, metadata: {model_version: /model_version}}
conversation: {id_field: conversation_id}
"""


class Project:
    """Writes case files and specs into a pytester directory."""

    def __init__(self, pytester: pytest.Pytester) -> None:
        self.pytester = pytester
        self.root = pytester.path

    def write(self, relative: str, text: str) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    def run(self, *args: str) -> pytest.RunResult:
        """A real ``pytest`` process, as a user runs it.

        Runs that talk to services go through a subprocess: pytester's in-process runs restore sys.modules
        afterwards, and network libraries imported lazily during one run (httpx loads httpcore at the first
        request and caches its exception classes) no longer match their re-imports in the next.
        """
        return self.pytester.runpytest_subprocess(*args, timeout=300)

    def exam_service(self) -> None:
        self.write("cases/examgenerator/service.yaml", EXAM_SPEC)

    def chat_service(self) -> None:
        self.write("cases/studycompanion/service.yaml", CHAT_SPEC)
