"""Helpers for pytester-based tests of the plugin: a small project with a service spec and case files."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

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

    def exam_service(self) -> None:
        self.write("cases/examgenerator/service.yaml", EXAM_SPEC)

    def chat_service(self) -> None:
        self.write("cases/studycompanion/service.yaml", CHAT_SPEC)


@pytest.fixture
def project(pytester: pytest.Pytester) -> Project:
    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider\n")
    return Project(pytester)
