"""``harness try``: one input against real services; curl, transcript, and what each spec pointer found."""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import pytest

from harness.__main__ import main
from reference_services.inprocess import RunningStack
from tests.cli.summaries_app import QA_TOKEN, SummariesService
from tests.support.replay_server import Capture, ReplayServer

REPO = Path(__file__).resolve().parents[2]
EXAM_SPEC = REPO / "cases/examgenerator/service.yaml"
CHAT_SPEC = REPO / "cases/studycompanion/service.yaml"
EXAM_INPUT = {"course_title": "Introduction to Biology", "course_topic": "Cell Structure", "num_questions": 1}


def _try(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["try", *args])
    out, err = capsys.readouterr()
    return code, out, err


def _secrets(stack: RunningStack) -> list[str]:
    return ["--qa-token", stack.qa_token, "--callback-secret", stack.callback_secret]


def test_sync_qa_and_callback_prod(stack: RunningStack, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _try(
        capsys,
        "--base-url",
        stack.base_url,
        "--spec",
        str(EXAM_SPEC),
        "--input",
        json.dumps(EXAM_INPUT),
        *_secrets(stack),
    )
    assert code == 0, out + err
    assert f"== qa: POST {stack.base_url}/examgenerator/create/qa (sync)" in out
    assert f"curl -sS -X POST {stack.base_url}/examgenerator/create/qa -H 'Authorization: Bearer ***'" in out
    assert f"== prod: POST {stack.base_url}/examgenerator/create (callback)" in out
    assert "~ callback #1 at" in out  # the transcript shows the signed delivery
    assert out.count('output.text /text -> "1. ') == 2
    assert out.count('output.metadata.model_version /model_version -> "reference-llm-1.0"') == 2
    assert "callback.payload_id /callback-id -> " in out
    assert 'callback.status /status -> "succeeded"' in out
    assert stack.qa_token not in out
    assert stack.callback_secret not in out
    assert out.rstrip().endswith("result: every endpoint delivered and every pointer matched")


def test_a_case_against_sse_prod(tmp_path: Path, stack: RunningStack, capsys: pytest.CaptureFixture[str]) -> None:
    case_file = tmp_path / "chat.yaml"
    case_file.write_text(
        "service: studycompanion\ncases:\n  - id: atp\n    input: {user_id: u1, course: Introduction to Biology,"
        " conversation_id: c1, message: What do mitochondria do?}\n"
    )
    code, out, err = _try(
        capsys, "--base-url", stack.base_url, "--spec", str(CHAT_SPEC), "--case", f"{case_file}::atp", *_secrets(stack)
    )
    assert code == 0, out + err
    assert f"curl -sS -N -X POST {stack.base_url}/studycompanion/chat/stream" in out
    assert "  < data: [DONE]" in out
    assert "text (the stream's deltas) -> " in out
    assert out.count("output.sources /sources -> [") == 2
    # As in a test run, each endpoint gets a conversation id of its own, not the case's literal one.
    assert '"conversation_id": "c1"' not in out
    assert '"conversation_id": "try-prod-' in out


def test_a_pointer_that_matches_nothing_names_the_keys_there_and_the_spec_key(
    tmp_path: Path, stack: RunningStack, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "service.yaml"
    spec.write_text(
        "service: tutor\npreset: openai-chat\nqa:\n  output:\n    text: /choices/0/message/contnt\n"
        "prod:\n  output:\n    metadata: {tokens: /usage/total}\n"
    )
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "seed": 1}
    code, out, _ = _try(
        capsys, "--base-url", stack.model_base_url.removesuffix("/v1"), "--spec", str(spec), "--input", json.dumps(body)
    )
    assert code == 1
    assert (
        "output.text `/choices/0/message/contnt` matched nothing: /choices/0/message has keys content, role "
        f"— fix `qa.output.text` in {spec}:5"
    ) in out
    assert (
        "output.metadata.tokens `/usage/total` matched nothing: /usage has keys completion_tokens, prompt_tokens, "
        f"total_tokens (in the stream's last JSON event) — fix `prod.output.metadata.tokens` in {spec}:8"
    ) in out
    assert 'output.metadata.model /model -> "m"' in out
    assert "not read by the spec" not in out  # the keys are already named where the pointer failed
    assert "  output_missing: see output.text under pointers\n" in out  # the run's problem, not said twice
    assert out.rstrip().endswith("result: a problem was found (see above)")


def test_a_pointer_written_at_the_service_level_is_fixed_there(
    tmp_path: Path, stack: RunningStack, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "service.yaml"
    spec.write_text("service: t\npreset: openai-chat\noutput:\n  text: /choices/0/message/contnt\n")
    body = json.dumps({"model": "m", "messages": [{"role": "user", "content": "hi"}], "seed": 1})
    base_url = stack.model_base_url.removesuffix("/v1")
    code, out, _ = _try(capsys, "--base-url", base_url, "--spec", str(spec), "--endpoint", "qa", "--input", body)
    assert code == 1
    assert f"— fix `output.text` in {spec}:4" in out


def test_a_presets_pointer_says_where_to_write_one_that_wins(
    tmp_path: Path, summaries: SummariesService, capsys: pytest.CaptureFixture[str]
) -> None:
    # The openai-chat preset pointed at a service that is not chat-completions shaped: its text pointer misses.
    spec = tmp_path / "service.yaml"
    spec.write_text("service: t\npreset: openai-chat\nqa: {path: /summaries/qa, auth: qa_token}\n")
    body = json.dumps({"document": "Cells divide.", "max_words": 2})
    args = ["--base-url", summaries.base_url, "--spec", str(spec), "--endpoint", "qa", "--qa-token", QA_TOKEN]
    code, out, _ = _try(capsys, *args, "--input", body)
    assert code == 1
    assert (
        "output.text `/choices/0/message/content` matched nothing: the body has keys model_version, sources, summary"
        f" — the pointer is the preset's: write `qa.output.text` in {spec} to override it"
    ) in out


def test_the_only_spec_under_cases_is_found(
    tmp_path: Path, stack: RunningStack, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "cases/exam").mkdir(parents=True)
    shutil.copy(EXAM_SPEC, tmp_path / "cases/exam/service.yaml")
    monkeypatch.chdir(tmp_path)
    code, out, err = _try(
        capsys, "--base-url", stack.base_url, "--endpoint", "qa", "--input", json.dumps(EXAM_INPUT), *_secrets(stack)
    )
    assert code == 0, out + err
    assert "service examgenerator (cases/exam/service.yaml)" in out
    assert "== prod" not in out


def test_a_case_that_calls_one_endpoint_is_sent_to_that_one(
    tmp_path: Path, stack: RunningStack, capsys: pytest.CaptureFixture[str]
) -> None:
    case_file = tmp_path / "one.yaml"
    case_file.write_text(f"cases:\n  - id: prod-only\n    endpoints: [prod]\n    input: {json.dumps(EXAM_INPUT)}\n")
    args = ["--base-url", stack.base_url, "--spec", str(EXAM_SPEC), "--case", f"{case_file}::prod-only"]
    code, out, err = _try(capsys, *args, *_secrets(stack))
    assert code == 0, out + err
    assert "== prod" in out
    assert "== qa" not in out


def test_a_rejected_request_is_a_problem(
    stack: RunningStack, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HARNESS_QA_TOKEN", raising=False)
    args = ["--base-url", stack.base_url, "--spec", str(EXAM_SPEC), "--endpoint", "qa", "--input", "{}"]
    code, out, _ = _try(capsys, *args, "--qa-token", "wrong")
    assert code == 1
    assert "-- status: 401" in out
    assert "not a 2xx answer" in out
    # Without a token the request is not sent at all: the spec says which endpoint wants one.
    code, _, err = _try(capsys, *args)
    assert code == 2
    assert err == f"harness try: qa.auth is qa_token in {EXAM_SPEC}: give --qa-token TOKEN (or set HARNESS_QA_TOKEN)\n"


def test_an_unreachable_service_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--base-url", "http://127.0.0.1:9", "--spec", str(EXAM_SPEC), "--input", "{}", "--qa-token", "t"]
    code, out, err = _try(capsys, *args)
    assert code == 1
    assert out == ""
    assert err.startswith("harness try: qa: cannot reach POST http://127.0.0.1:9/examgenerator/create/qa")
    assert err.count("\n") == 1
    assert "Traceback" not in err


def test_a_base_url_that_is_not_a_url_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _try(capsys, "--base-url", "localhost:8000", "--spec", str(EXAM_SPEC), "--input", "{}")
    assert code == 2
    assert err == "harness try: --base-url must be an http(s) URL, got 'localhost:8000'\n"


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--spec", str(EXAM_SPEC), "--input", '{"a":'], "harness try: --input is not JSON (Expecting value"),
        (["--spec", "nowhere/service.yaml", "--input", "{}"], "harness try: no service spec at nowhere/service.yaml"),
        (["--input", "{}"], "harness try: no service.yaml under cases: pass --spec PATH"),
        (["--case", "first.yaml"], "harness try: --case 'first.yaml': write FILE::ID"),
        (["--case", "none.yaml::x"], "harness try: --case 'none.yaml::x': no case file none.yaml"),
        (["--spec", str(EXAM_SPEC), "--input", "{}", "--timeout", "0"], "harness try: --timeout must be more than 0"),
        (["--spec", str(EXAM_SPEC), "--input", "{}", "--timeout", "nan"], "harness try: --timeout must be more than 0"),
    ],
)
def test_usage_errors_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, args: list[str], says: str
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = _try(capsys, "--base-url", "http://127.0.0.1:9", *args)
    assert code == 2
    assert err.startswith(says), err
    assert err.count("\n") == 1


def test_an_unknown_case_id_names_the_cases_there(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case_file = tmp_path / "c.yaml"
    case_file.write_text("cases:\n  - id: one\n    input: {}\n  - id: two\n    input: {}\n")
    code, _, err = _try(
        capsys, "--base-url", "http://127.0.0.1:9", "--spec", str(EXAM_SPEC), "--case", f"{case_file}::x"
    )
    assert code == 2
    assert f"no case 'x' in {case_file} (its cases: one, two)" in err


# ---------------------------------------------------------------- a polled job (BentoML's captured bytes, replayed)

BENTOML_SPEC = """\
service: answers
preset: {bentoml-task: {api: answer, task: answer_job}}
output: {text: /text, sources: /sources}
"""
OK_JOB = [
    "bentoml_task_ok_1_submit",
    "bentoml_task_ok_2_status_in_progress",
    "bentoml_task_ok_4_status_completed",
    "bentoml_task_ok_5_get",
]


def test_a_polled_job_shows_its_pointers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "service.yaml"
    spec.write_text(BENTOML_SPEC)
    with ReplayServer([Capture.load(name) for name in OK_JOB]) as server:
        code, out, err = _try(
            capsys, "--base-url", server.url, "--spec", str(spec), "--endpoint", "prod", "--input", '{"question": "q"}'
        )
    assert code == 0, out + err
    assert "poll.job_id /task_id -> found in the submit answer" in out
    assert "poll.status.pointer /status -> one of ['completed']" in out
    assert 'output.text /text -> "Mitochondria make ATP' in out
    # A hint, not a problem: the answer carries a value the spec does not record.
    assert "also in the body, not read by the spec: model_version" in out


def test_a_job_id_pointer_that_matches_nothing_names_the_submit_answers_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "service.yaml"
    spec.write_text(BENTOML_SPEC + "prod:\n  poll:\n    job_id: /id\n")
    with ReplayServer([Capture.load(name) for name in OK_JOB]) as server:
        code, out, _ = _try(
            capsys, "--base-url", server.url, "--spec", str(spec), "--endpoint", "prod", "--input", '{"question": "q"}'
        )
    assert code == 1
    assert "poll_no_job_id: the submit answer has no job id at /id" in out
    assert (
        f"poll.job_id `/id` matched nothing: the submit answer has keys status, task_id — fix `prod.poll.job_id` "
        f"in {spec}:6"
    ) in out


def test_the_token_from_the_environment_is_used_and_never_shown(
    stack: RunningStack, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HARNESS_QA_TOKEN", stack.qa_token)
    args = [
        "--base-url",
        stack.base_url,
        "--spec",
        str(EXAM_SPEC),
        "--endpoint",
        "qa",
        "--input",
        json.dumps(EXAM_INPUT),
    ]
    code, out, err = _try(capsys, *args)
    assert code == 0, out + err
    assert stack.qa_token not in out
    # Not an argparse default either: the CLI reference is generated from the parser's defaults.
    parsers: list[argparse.ArgumentParser] = []

    def caught(self: argparse.ArgumentParser, *args: object, **kwargs: object) -> None:
        parsers.append(self)
        raise SystemExit(0)

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", caught)
    with pytest.raises(SystemExit):
        main(["try"])
    subparsers = next(a for a in parsers[0]._actions if isinstance(a, argparse._SubParsersAction))
    defaults = [action.default for action in subparsers.choices["try"]._actions]
    assert stack.qa_token not in defaults
