"""`semantic` parity through a real run: a prod that words the answer otherwise passes, one that keeps the words and
changes the time fails, and the failure names both times."""

from __future__ import annotations

from tests.support.pytester_project import Project

# QA answers one sentence; prod words it otherwise, or (fault prod_changes_time) keeps the words, not the time.
TIMETABLE_TARGET = """\
from types import SimpleNamespace
from typing import Any

from fastapi import FastAPI

from harness.serving import ServerThread, bind, quiet_config


def start(*, faults=(), model_latency_ms=0.0):
    app = FastAPI()

    @app.post("/exam/qa")
    def qa(body: dict[str, Any]) -> dict[str, Any]:
        return {"text": "The final exam is on Friday at 5 pm in the main hall."}

    @app.post("/exam")
    def prod(body: dict[str, Any]) -> dict[str, Any]:
        if "prod_changes_time" in faults:
            return {"text": "The final exam is on Friday at 9 am in the main hall."}
        return {"text": "You sit the final on Friday, five in the afternoon, in the main hall."}

    sock = bind()
    serving = ServerThread([(quiet_config(app, lifespan="on"), sock)], name="timetable")
    serving.start(10.0)
    return SimpleNamespace(
        base_url=f"http://127.0.0.1:{sock.getsockname()[1]}", qa_token="t", callback_secret=None,
        stop=lambda: serving.stop(5.0),
    )
"""

SPEC = """\
service: timetable
qa: {path: /exam/qa, delivery: sync, output: {text: /text}}
prod: {path: /exam, delivery: sync, output: {text: /text}}
"""

CASES = """\
cases:
  - id: when-is-the-exam
    input: {question: When is the final exam?}
    parity: semantic
"""


def test_a_changed_time_fails_semantic_parity_the_embedding_would_pass(project: Project) -> None:
    project.pytester.makeini("[pytest]\naddopts = -p no:cacheprovider\nharness_local_target = timetable:start\n")
    project.write("timetable.py", TIMETABLE_TARGET)
    project.pytester.syspathinsert()
    project.write("cases/timetable/service.yaml", SPEC)
    project.write("cases/timetable/exam.yaml", CASES)
    project.run().assert_outcomes(passed=3)  # the same time in other words
    changed = project.run("--reference-faults", "prod_changes_time")
    changed.assert_outcomes(passed=2, failed=1)
    changed.stdout.fnmatch_lines(
        [
            "*semantic parity failed: facts differ: numbers: qa says 5 pm, prod says 9 am, though similarity 0.* >= "
            "threshold 0.45 (embeddings: all-MiniLM-L6-v2)*"
        ]
    )
