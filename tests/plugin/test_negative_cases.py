"""Generated negative cases end to end: caught faults, a lenient prod, the ready-to-paste case, the seed."""

from __future__ import annotations

import re

import pytest

from tests.support.docs import ROOT, code_blocks
from tests.support.pytester_project import EXAM_SPEC, Project

PAGE = "how-to/negative-cases.md"

# A service whose prod endpoint takes any JSON object, while QA validates it: prod accepts what QA rejects.
LENIENT_TARGET = """\
from types import SimpleNamespace
from typing import Any

from fastapi import Body, FastAPI
from pydantic import BaseModel, ConfigDict, Field

from harness.serving import ServerThread, bind, quiet_config


class Person(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=20)
    age: int = Field(ge=0, le=150)


def start(*, faults=(), model_latency_ms=0.0):
    app = FastAPI()

    @app.post("/people/qa")
    def qa(person: Person) -> dict[str, Any]:
        return {"text": f"{person.name} ({person.age})"}

    if "prod_strict" in faults:
        @app.post("/people")
        def prod(person: Person) -> dict[str, Any]:
            return {"text": f"{person.name} ({person.age})"}
    else:
        @app.post("/people")
        def prod(person: dict[str, Any] = Body()) -> dict[str, Any]:
            return {"text": str(person.get("name"))}

    sock = bind()
    serving = ServerThread([(quiet_config(app, lifespan="on"), sock)], name="people")
    serving.start(10.0)
    return SimpleNamespace(
        base_url=f"http://127.0.0.1:{sock.getsockname()[1]}", qa_token="t", callback_secret=None,
        stop=lambda: serving.stop(5.0),
    )
"""

PEOPLE_SPEC = """\
service: people
qa: {path: /people/qa, delivery: sync, output: {text: /text}}
prod: {path: /people, delivery: sync, output: {text: /text}}
negative: {schema: openapi, count: 11}
"""


def test_the_error_parity_fault_fails_every_negative_qa_and_parity_item_as_the_docs_show(project: Project) -> None:
    (line,) = [block for block in code_blocks(PAGE, "yaml") if block.startswith("negative:")]
    for service in ("examgenerator", "studycompanion"):
        spec = (ROOT / "cases" / service / "service.yaml").read_text(encoding="utf-8")
        assert spec.endswith(line), f"cases/{service}/service.yaml does not end with the negative line of docs/{PAGE}"
    project.write("cases/examgenerator/service.yaml", EXAM_SPEC + line)
    healthy = project.run()
    healthy.assert_outcomes(passed=60)
    healthy.stdout.fnmatch_lines(["qa-harness: target in-process reference services, concurrency 8, seed 1"])

    faulty = project.run("--reference-faults", "error_parity")
    faulty.assert_outcomes(passed=20, failed=40)  # prod still rejects with 422; QA answers 500
    (failure,) = [block for block in code_blocks(PAGE, "text") if "generated request" in block]
    expected = failure.splitlines()  # the docs' example, line for line
    lines = faulty.stdout.lines
    start = lines.index(expected[0])
    assert lines[start : start + len(expected)] == expected
    parity = ["*_ negative-0::parity _*", "structural parity failed: qa answered 500, prod answered 422"]
    faulty.stdout.fnmatch_lines(parity)
    assert not re.search(r"negative-\d+::prod (FAILED|ERROR)", faulty.stdout.str())


def test_a_prod_that_accepts_what_qa_rejects(project: Project) -> None:
    project.pytester.makeini("[pytest]\naddopts = -p no:cacheprovider\nharness_local_target = people_service:start\n")
    project.write("people_service.py", LENIENT_TARGET)
    project.pytester.syspathinsert()
    project.write("cases/people/service.yaml", PEOPLE_SPEC)
    lenient = project.run("-rf")
    # Schema-level mutations (9 of 11) reach prod's handler and are accepted. Malformed JSON is refused alike
    # on both; a text/plain body is refused by both, but prod names another error type.
    lenient.assert_outcomes(passed=14, failed=19)
    failed = re.findall(r"FAILED cases/people/service.yaml::negative-\d+::(\w+)", lenient.stdout.str())
    assert sorted(failed) == ["parity"] * 10 + ["prod"] * 9
    lenient.stdout.fnmatch_lines(
        [
            "rejected: expected a 4xx rejection, got 200 with body {*}",
            "structural parity failed: qa answered 422, prod answered 200",
        ]
    )
    lenient.stdout.fnmatch_lines(
        [
            "structural parity failed: both answered 422 but the errors differ: qa detail list, loc body, type "
            "model_attributes_type; prod detail list, loc body, type dict_type",
        ]
    )
    strict = project.run("--reference-faults", "prod_strict")
    strict.assert_outcomes(passed=33)


def test_the_seed_chooses_the_requests(project: Project) -> None:
    project.write("cases/examgenerator/service.yaml", EXAM_SPEC + "negative: {schema: openapi, count: 10}\n")
    args = ("--reference-faults", "error_parity", "-k", "qa")

    def bodies(*extra: str) -> list[str]:
        result = project.run(*args, *extra)
        result.assert_outcomes(failed=10)
        # Read above the short summary, which repeats each failure whole when pytest runs under CI.
        failures = result.stdout.str().split("short test summary info")[0]
        return re.findall(r"^    (?:input|raw_body): (.*)$", failures, re.MULTILINE)

    first = bodies()
    assert len(first) == 10
    other = bodies("--harness-seed", "2")
    assert other != first
    assert bodies("-n", "2", "--harness-seed", "2") == other  # every worker draws the same requests


def test_a_schema_file_and_its_errors(project: Project) -> None:
    project.write(
        "cases/examgenerator/request.schema.json",
        """\
        {"type": "object", "additionalProperties": false, "required": ["course_title", "course_topic", "num_questions"],
         "properties": {"course_title": {"$ref": "#/$defs/title"}, "course_topic": {"$ref": "#/$defs/title"},
                        "num_questions": {"type": "integer", "minimum": 1, "maximum": 50}},
         "$defs": {"title": {"type": "string", "minLength": 1, "maxLength": 200}}}
        """,
    )
    spec = EXAM_SPEC + "negative: {schema: request.schema.json, count: 15}\n"
    project.write("cases/examgenerator/service.yaml", spec)
    project.run().assert_outcomes(passed=45)

    project.write("cases/examgenerator/service.yaml", EXAM_SPEC + "negative: {schema: missing.json}\n")
    missing = project.run()
    assert missing.ret == pytest.ExitCode.INTERRUPTED
    missing.stdout.fnmatch_lines(
        [
            "*cases/examgenerator/service.yaml:11: negative-case schema file 'missing.json' not found*",
            "*fix: give a JSON Schema file of the request body, relative to this spec, or schema: openapi*",
        ]
    )

    project.write("cases/examgenerator/service.yaml", EXAM_SPEC + "negative: {schema: openapi, openapi_path: /nope}\n")
    unserved = project.run("-k", "negative-0")
    unserved.assert_outcomes(errors=3)
    unserved.stdout.fnmatch_lines(["*cannot fetch the OpenAPI document http://127.0.0.1:*/nope: status 404*"])
