"""The Python API without pytest glue: deliveries over real loopback HTTP, checks, parity and their messages."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

import harness
from harness._run._runner import CaseRunner
from reference_services import RunningStack, start_stack

CASES = Path(__file__).resolve().parents[2] / "cases"
EXAM = {"course_title": "Introduction to Biology", "course_topic": "Cell Structure", "num_questions": 2}


def _target(stack: RunningStack) -> harness.Target:
    return harness.Target(stack.base_url, stack.qa_token, stack.callback_secret, stack.model_base_url)


@pytest.fixture(scope="module")
def healthy() -> Iterator[harness.Target]:
    with start_stack() as stack:
        yield _target(stack)


@pytest.fixture(scope="module")
def dropping() -> Iterator[harness.Target]:
    with start_stack(faults=["prod_drops_choices"]) as stack:
        yield _target(stack)


def test_deliver_sends_to_sync_and_callback_endpoints_named_as_in_case_files(healthy: harness.Target) -> None:
    qa = harness.deliver("examgenerator", "qa", EXAM, target=healthy, spec_roots=[CASES])
    prod = harness.deliver("examgenerator", "prod", EXAM, target=healthy, spec_roots=[CASES])
    assert (qa.delivery, qa.status, qa.problems) == ("sync", 200, [])
    assert (prod.delivery, prod.status, prod.problems) == ("callback", 202, [])
    assert qa.text is not None
    assert qa.text.startswith("1.")
    assert prod.text is not None
    assert "2." in prod.text
    assert prod.timings.ack_s is not None
    # Secrets never reach the transcript or the request record.
    assert healthy.qa_token not in repr(qa.request)
    assert any("callback" in line.lower() for line in prod.transcript)
    harness.assert_passed(
        qa,
        prod,
        harness.run_check(qa, "exam_format"),
        harness.run_check(prod, "question_count"),  # reads num_questions from what prod was sent
        harness.compare(qa, prod, level="structural"),
    )


def test_a_sse_endpoint_and_a_spec_path(healthy: harness.Target) -> None:
    chat = {"user_id": "u1", "course": "Macroeconomics 201", "conversation_id": "py-api-1", "message": "What is GDP?"}
    spec = CASES / "studycompanion" / "service.yaml"
    outcome = harness.deliver(spec, "prod", chat, target=healthy)
    assert (outcome.delivery, outcome.status, outcome.problems) == ("sse", 200, [])
    assert outcome.text
    assert outcome.timings.ttft_s is not None
    # Unlike case files, Python sends conversation ids as given, so a flow can continue a conversation.
    assert outcome.request["body"]["conversation_id"] == "py-api-1"


def test_a_fault_fails_checks_and_parity_with_the_case_items_words(
    healthy: harness.Target, dropping: harness.Target
) -> None:
    qa = harness.deliver("examgenerator", "qa", EXAM, target=dropping, spec_roots=[CASES])
    prod = harness.deliver("examgenerator", "prod", EXAM, target=dropping, spec_roots=[CASES])
    choices = harness.run_check(prod, "choices_present")
    parity = harness.compare(qa, prod)
    assert not choices.passed
    assert not parity.passed
    with pytest.raises(harness.CheckFailed) as failed:
        harness.assert_passed(qa, choices, parity)
    lines = str(failed.value).splitlines()
    assert lines[0] == f"choices_present: {choices.message}"
    assert lines[1] == f"structural parity failed: {parity.summary}"
    assert parity.text_diff in str(failed.value)
    assert harness.failure_lines(qa, harness.run_check(qa, "choices_present")) == []


def test_pair_checks_and_bad_arguments(healthy: harness.Target) -> None:
    qa = harness.deliver("examgenerator", "qa", EXAM, target=healthy, spec_roots=[CASES])
    assert harness.run_check(qa, "model_version_equal", other=qa).passed
    alone = harness.run_check(qa, "model_version_equal")
    assert alone.message == "check model_version_equal compares both endpoints but only one outcome was given"
    bad = harness.run_check(qa, "status", "two hundred")
    assert not bad.passed
    assert bad.message.startswith("check status: bad argument 'two hundred'")
    assert harness.run_check(qa, "question_count", input={"num_questions": 3}).message.startswith("expected 3")


def test_deliverer_shares_a_runner_from_sync_and_asyncio_code(healthy: harness.Target) -> None:
    runner = CaseRunner(healthy, {}, timeout_s=30.0)  # no callback spec: the receiver starts on first need
    seen: list[tuple[str, str]] = []
    deliverer = harness.Deliverer(
        runner, spec_roots=[CASES], on_outcome=lambda spec, outcome: seen.append((spec.service, outcome.endpoint))
    )
    try:
        qa = deliverer("examgenerator", "qa", EXAM)

        async def concurrently() -> list[harness.Outcome]:
            ticks = 0

            async def tick() -> None:
                nonlocal ticks
                while True:
                    ticks += 1
                    await asyncio.sleep(0.001)

            ticker = asyncio.create_task(tick())
            outcomes = await asyncio.gather(
                deliverer.adeliver("examgenerator", "prod", EXAM), deliverer.adeliver("examgenerator", "prod", EXAM)
            )
            ticker.cancel()
            assert ticks > 5, "the caller's loop was blocked while the deliveries ran"
            return list(outcomes)

        prods = asyncio.run(concurrently())
    finally:
        runner.close()
    assert qa.problems == []
    assert [p.problems for p in prods] == [[], []]
    assert {p.delivery for p in prods} == {"callback"}
    assert seen == [("examgenerator", "qa"), ("examgenerator", "prod"), ("examgenerator", "prod")]


def test_auth_and_raw_bodies_reach_the_service_as_case_files_send_them(healthy: harness.Target) -> None:
    denied = harness.deliver("examgenerator", "qa", EXAM, target=healthy, spec_roots=[CASES], auth="invalid")
    assert denied.status == 401
    assert harness.run_check(denied, "error_shape").passed
    raw = harness.deliver("examgenerator", "qa", target=healthy, spec_roots=[CASES], raw_body="{not json")
    assert raw.status == 422


def test_unknown_services_and_endpoints_say_what_exists() -> None:
    target = harness.Target("http://127.0.0.1:9")
    with pytest.raises(harness.HarnessUsageError, match=r"no service spec named 'exams'.*known: examgenerator"):
        harness.deliver("exams", "qa", target=target, spec_roots=[CASES])
    with pytest.raises(harness.HarnessUsageError, match=r"unknown endpoint 'staging'.*use 'qa' or 'prod'"):
        harness.deliver("examgenerator", "staging", target=target, spec_roots=[CASES])


def test_sync_forms_refuse_to_block_a_running_loop(healthy: harness.Target) -> None:
    async def inside() -> None:
        qa = await harness.adeliver("examgenerator", "qa", EXAM, target=healthy, spec_roots=[CASES])
        assert (await harness.arun_check(qa, "exam_format")).passed
        with pytest.raises(harness.HarnessUsageError, match=r"use await harness\.arun_check"):
            harness.run_check(qa, "exam_format")
        with pytest.raises(harness.HarnessUsageError, match=r"use await harness\.adeliver"):
            harness.deliver("examgenerator", "qa", EXAM, target=healthy, spec_roots=[CASES])

    asyncio.run(inside())
