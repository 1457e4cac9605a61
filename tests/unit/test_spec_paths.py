"""Endpoint and poll paths are URL paths as sent: '/' first, no spaces, '{id}' only where a job id goes."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from harness._errors import CaseFileError
from harness._model._spec import ServiceSpec, parse_service_spec


def parse(tmp_path: Path, text: str) -> ServiceSpec:
    path = tmp_path / "service.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return parse_service_spec(path, "cases/x/service.yaml")


def error(tmp_path: Path, text: str) -> str:
    with pytest.raises(CaseFileError) as info:
        parse(tmp_path, text)
    return str(info.value)


def test_a_path_with_spaces_and_no_slash_is_refused_with_its_line_and_the_fix(tmp_path: Path) -> None:
    message = error(
        tmp_path,
        """\
        service: examgenerator
        qa:
          path: "examgenerator create qa"
          delivery: sync
        prod: {path: /examgenerator/create, delivery: sync}
        """,
    )
    assert message.startswith(
        "cases/x/service.yaml:3: invalid service spec: qa.path: not a URL path: it does not start with '/'; "
        "write the path as sent below the base URL, e.g. '/examgenerator/create/qa'"
    )
    assert "(got 'examgenerator create qa')" in message
    assert '3 |   path: "examgenerator create qa"' in message


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("/exam generator", "has a space at character 6"),
        ("/exam\tgenerator", "has '\\t' at character 6"),
        ("/jobs/{id}", "has '{' at character 7; nothing is replaced in it"),
        ('/say"hi"', "has '\"' at character 5, which a URL cannot hold as is"),
        ("/100%", "has '%' at character 5, which a URL cannot hold as is"),
    ],
)
def test_characters_a_url_cannot_hold_are_named_with_their_position(tmp_path: Path, path: str, problem: str) -> None:
    # A JSON string is a YAML double-quoted string.
    spec = f"service: s\nqa: {{path: {json.dumps(path)}, delivery: sync}}\nprod: {{path: /p, delivery: sync}}\n"
    message = error(tmp_path, spec)
    assert message.startswith(f"cases/x/service.yaml:2: invalid service spec: qa.path: not a URL path: it {problem}")


def test_queries_escapes_unicode_and_the_poll_job_id_are_fine(tmp_path: Path) -> None:
    spec = parse(
        tmp_path,
        """\
        service: s
        qa: {path: "/v1/chat?api-version=2024-06-01", delivery: sync}
        prod:
          path: /caf%C3%A9/é
          delivery: poll
          poll:
            job_id: /id
            status: {path: "/jobs/{id}", pointer: /status, success: [done]}
            result: {path: /result, query: task_id}
        """,
    )
    assert spec.qa.path == "/v1/chat?api-version=2024-06-01"
    assert spec.prod.poll is not None
    assert spec.prod.poll.status.path == "/jobs/{id}"


def test_a_poll_path_holds_only_the_job_id_placeholder(tmp_path: Path) -> None:
    message = error(
        tmp_path,
        """\
        service: s
        qa: {path: /qa, delivery: sync}
        prod:
          path: /submit
          delivery: poll
          poll:
            job_id: /id
            status: {path: "/jobs/{job}", pointer: /status, success: [done]}
        """,
    )
    assert message.startswith(
        "cases/x/service.yaml:8: invalid service spec: prod.poll.status.path: not a URL path: "
        "it has '{' at character 7; only '{id}', the job id, is replaced"
    )
