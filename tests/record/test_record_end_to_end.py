"""Traffic through the recording proxy to the reference services, replayed as cases: passing on the same
service, failing with golden-output and drift diffs on a service with an answer-changing fault."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from harness._model._spec import parse_service_spec
from harness._record._proxy import RecordingProxy, serve_options
from harness._record._recorder import Recorder, RecordSettings
from harness.serving import ServerThread, bind, quiet_config
from reference_services import RunningStack, start_stack
from tests.support.callback_receiver import CallbackReceiver
from tests.support.pytester_project import Project
from tests.support.reference_calls import EXAM, NOMINAL_REAL, VALDEZ, chat_body

ROOT = Path(__file__).resolve().parents[2]
TOKEN_DELAY_MS = 15.0
EMAIL = "jane.roe@university.example"


@pytest.fixture(scope="module")
def stack() -> Iterator[RunningStack]:
    with start_stack(model_token_delay_ms=TOKEN_DELAY_MS) as running:
        yield running


def spec_text(service: str) -> str:
    """The shipped spec without its generated negative cases (they are not what this test replays)."""
    lines = (ROOT / "cases" / service / "service.yaml").read_text().splitlines()
    return "\n".join(line for line in lines if not line.startswith("negative:")) + "\n"


class Proxy:
    """A recording proxy for one service on an ephemeral port."""

    def __init__(self, stack: RunningStack, service: str, out: Path, samples: int = 1) -> None:
        spec_path = out.parent / f"{service}.service.yaml"
        spec_path.write_text(spec_text(service))
        self.recorder = Recorder(
            parse_service_spec(spec_path, spec_path.name), RecordSettings(out=out, samples=samples)
        )
        sock = bind()
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        proxy = RecordingProxy(stack.base_url, self.recorder)
        self.server = ServerThread([(quiet_config(proxy.app, **serve_options()), sock)], name="record-proxy")
        self.server.start()

    def settle(self, cases: int) -> None:
        """Wait (bounded) until ``cases`` cases are recorded: recording happens after each response."""
        deadline = time.monotonic() + 60
        while self.recorder.tally.recorded < cases and time.monotonic() < deadline:
            time.sleep(0.05)
        assert self.recorder.tally.recorded >= cases, self.recorder.tally.lines()

    def stop(self) -> None:
        self.server.stop()
        self.recorder.write()


def test_recorded_traffic_replays_as_passing_cases_and_a_fault_shows_as_golden_failures_and_drift(
    stack: RunningStack, project: Project, tmp_path: Path
) -> None:
    qa_auth = {"Authorization": f"Bearer {stack.qa_token}"}
    chat = Proxy(stack, "studycompanion", tmp_path / "chat.yaml", samples=3)
    exam = Proxy(stack, "examgenerator", tmp_path / "exam.yaml")
    receiver = CallbackReceiver()
    try:
        with httpx.Client(timeout=30) as client:
            # Sync QA, with personal data the recording must not keep.
            body = chat_body(f"{NOMINAL_REAL} Write to {EMAIL} please.", str(uuid.uuid4()))
            assert client.post(f"{chat.url}/studycompanion/chat/qa", json=body, headers=qa_auth).status_code == 200
            # SSE prod: passed on as it arrives, not after the upstream has finished.
            arrivals: list[float] = []
            raw = b""
            body = chat_body(VALDEZ, str(uuid.uuid4()))
            with client.stream("POST", f"{chat.url}/studycompanion/chat/stream", json=body) as response:
                assert response.headers["content-type"].startswith("text/event-stream")
                for chunk in response.iter_raw():
                    arrivals.append(time.monotonic())
                    raw += chunk
            assert raw.rstrip().endswith(b"data: [DONE]")
            assert len(arrivals) >= 3
            assert arrivals[-1] - arrivals[0] >= 3 * TOKEN_DELAY_MS / 1000  # a buffered body arrives at once
            # Callback prod: the service calls the client back directly, signed, through no proxy.
            ack = client.post(f"{exam.url}/examgenerator/create", json=EXAM, headers={"Callback-Url": receiver.url()})
            assert ack.status_code == 202
            callback = receiver.wait(30)
            assert callback.json()["callback-id"] == ack.json()["callback-id"]
            assert callback.headers["webhook-signature"].startswith("v1,")
            # The same input on QA: one case, whose golden output QA gave.
            assert client.post(f"{exam.url}/examgenerator/create/qa", json=EXAM, headers=qa_auth).status_code == 200
            assert client.get(f"{exam.url}/health").status_code == 200  # passes through, counted as unmapped
        chat.settle(2)
        exam.settle(1)
    finally:
        receiver.close()
        chat.stop()
        exam.stop()

    assert (exam.recorder.tally.recorded, exam.recorder.tally.completed) == (1, 1)
    assert exam.recorder.tally.unmapped == {"no endpoint of 'examgenerator' at GET /health": 1}
    written = {path.name: path.read_text() for path in (tmp_path / "chat.yaml", tmp_path / "exam.yaml")}
    for text in written.values():
        assert stack.qa_token not in text
        assert EMAIL not in text
        assert stack.callback_secret not in text
    chat_cases = yaml.safe_load(written["chat.yaml"])["cases"]
    assert [c["golden"]["endpoint"] for c in chat_cases] == ["qa", "prod"]
    # The answers to each input as it replays: the one whose email was replaced learns from the two samples sent
    # with the stand-in (the observed answer was to another request); the other from all three answers.
    assert [c["golden"]["samples"] for c in chat_cases] == [2, 3]
    assert "@example.com" in chat_cases[0]["input"]["message"]
    (exam_case,) = yaml.safe_load(written["exam.yaml"])["cases"]
    assert exam_case["input"] == EXAM
    assert exam_case["golden"]["endpoint"] == "qa"

    project.write("cases/studycompanion/service.yaml", spec_text("studycompanion"))
    project.write("cases/examgenerator/service.yaml", spec_text("examgenerator"))
    project.write("cases/studycompanion/recorded.yaml", written["chat.yaml"])
    project.write("cases/examgenerator/recorded.yaml", written["exam.yaml"])

    result = project.run("--harness-save-baseline", "baseline.json")
    result.assert_outcomes(passed=9)

    result = project.run(
        "-n",
        "2",  # the answers travel from the workers to the controller, which compares them with the baseline's
        "--harness-baseline",
        "baseline.json",
        "--harness-max-drift",
        "0",
        "--reference-faults",
        "prod_drops_choices,unindexed_past_exams",
    )
    exam_id, valdez_id = exam_case["id"], chat_cases[1]["id"]
    result.stdout.fnmatch_lines(
        [
            f"*{exam_id}::prod*",
            "golden output differs (normalized): texts differ after normalisation*",
            "--- golden",
            "+++ prod",
            "*-a)  *",
        ]
    )
    result.stdout.fnmatch_lines([f"*{valdez_id}::qa*", "golden output differs (*): *", "--- golden", "+++ qa"])
    result.stdout.fnmatch_lines(
        [
            "*qa-harness: * of 6 answers changed beyond noise against the baseline*",
            f"drift: *{exam_id} [[]prod]: normalized: texts differ*",
            "    --- baseline",
            "    +++ now",
        ]
    )
    result.stdout.fnmatch_lines([f"drift: *{valdez_id} [[]qa]: *", "    --- baseline", "    +++ now"])
    result.stdout.fnmatch_lines(["--harness-max-drift exceeded: * of 6 answers changed beyond noise"])
    run = json.loads((project.root / "reports" / "run.json").read_text())
    drift = run["baseline"]["drift"]
    assert drift["compared"] == 6
    drifted = {(d["case"].rpartition("::")[2], d["part"]) for d in drift["drifted"]}
    # Each answer the faults change has drifted; the exam's QA answer, which no fault touches, has not.
    assert drifted >= {(exam_id, "prod"), (valdez_id, "qa"), (valdez_id, "prod")}
    assert (exam_id, "qa") not in drifted
    steps = [
        step
        for result_file in (project.root / "reports" / "allure-results").glob("*-result.json")
        for step in json.loads(result_file.read_text()).get("steps", [])
    ]
    golden_steps = [s for s in steps if s["name"].startswith("golden output (normalized): failed")]
    assert golden_steps
    assert all({"golden diff", "golden"} <= {a["name"] for a in step["attachments"]} for step in golden_steps)
    summary = (project.root / "reports" / "summary.md").read_text()
    assert f"### Answers against the baseline: {len(drifted)} of 6 answers changed beyond noise" in summary
    for path in (project.root / "reports").rglob("*"):
        if path.is_file():
            text = path.read_text(errors="replace")
            assert EMAIL not in text, path


def test_an_unreachable_upstream_is_a_502_that_names_it_and_is_counted(tmp_path: Path) -> None:
    closed = bind()
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    spec_path = tmp_path / "service.yaml"
    spec_path.write_text(spec_text("studycompanion"))
    recorder = Recorder(parse_service_spec(spec_path, "service.yaml"), RecordSettings(out=tmp_path / "out.yaml"))
    sock = bind()
    proxy = RecordingProxy(f"http://127.0.0.1:{port}", recorder, timeout_s=5)
    server = ServerThread([(quiet_config(proxy.app, **serve_options()), sock)], name="record-proxy")
    server.start()
    try:
        response = httpx.post(f"http://127.0.0.1:{sock.getsockname()[1]}/studycompanion/chat/qa", json={}, timeout=30)
        deadline = time.monotonic() + 30
        while not recorder.tally.unmapped and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        server.stop()
    assert response.status_code == 502
    assert f"upstream http://127.0.0.1:{port} failed" in response.text
    assert recorder.tally.unmapped == {"no response from the service": 1}
