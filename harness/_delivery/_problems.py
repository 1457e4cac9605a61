"""Every named delivery problem, declared once: what it means and whether it leaves nothing to judge.

A ``Problem`` of a kind not declared here is a bug (``Problem`` refuses it), and the reference docs' table of
problems is generated from this list, so a kind cannot be created, misspelt or left undocumented silently.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ProblemKind:
    """One kind of delivery problem."""

    kind: str
    meaning: str
    blocks_output: bool
    """Nothing was delivered to judge: the checks are not run (each says so) and parity is not judged."""
    spec_key: str | None = None
    """The service-spec key that is wrong when this problem comes from the spec, not the service (``harness try``)."""


def _declare(*kinds: ProblemKind) -> dict[str, ProblemKind]:
    return {k.kind: k for k in kinds}


PROBLEMS: dict[str, ProblemKind] = _declare(
    # any delivery
    ProblemKind("timeout", "the delivery did not finish within its bound (`timeout_s`, `--harness-timeout`)", True),
    ProblemKind("response_too_large", "a response or callback body passed `--harness-max-response-size`", True),
    ProblemKind("transport_error", "the connection broke after the response began", False),
    ProblemKind(
        "server_error",
        "the service answered 5xx and the case expects no such status; the body's excerpt is quoted",
        True,
    ),
    ProblemKind(
        "request_rejected",
        "the service answered 4xx and the case expects no such status (add a `status` check to expect it)",
        True,
    ),
    ProblemKind(
        "output_missing",
        "a 2xx answer where the spec's `output.text` pointer matched nothing; names the keys that are there",
        True,
        "output.text",
    ),
    ProblemKind(
        "job_failed",
        "the job ended with one of the spec's `failure` statuses and the case expects no error; quotes the job's error",
        True,
    ),
    # callbacks
    ProblemKind("callback_never_arrived", "no verified callback for the job arrived in time", True),
    ProblemKind("callback_duplicate", "the job was delivered more than once; the first delivery is used", False),
    ProblemKind("callback_late", "a callback arrived after the wait for it ended", False),
    ProblemKind(
        "callback_wrong_id",
        "the callback's job id is not the one the acknowledgement gave",
        False,
        "callback.payload_id",
    ),
    ProblemKind("callback_bad_signature", "callbacks arrived whose signature does not verify, none that does", True),
    ProblemKind("callback_unsigned", "callbacks arrived without a signature, none signed", True),
    ProblemKind("callback_replayed", "only replays of an already-seen delivery arrived (or stale timestamps)", True),
    ProblemKind("callback_too_large", "only callbacks past the size bound arrived", True),
    ProblemKind(
        "callback_flood",
        "the job's callback URL was posted to past 20 deliveries or twice the size bound: answered 429, only counted",
        True,
    ),
    ProblemKind("callback_bad_payload", "the callback body is not JSON", False),
    ProblemKind(
        "callback_no_ack_id",
        "a 2xx acknowledgement without a job id; deliveries are matched by URL",
        False,
        "callback.ack_id",
    ),
    ProblemKind(
        "callback_unknown_status",
        "the callback's status is neither a success nor a failure value",
        False,
        "callback.status (or callback.success / failure)",
    ),
    # streams
    ProblemKind("stream_no_terminator", "the stream ended without its terminator (`[DONE]` or the end event)", True),
    ProblemKind(
        "stream_incomplete_event",
        "the stream ended inside an event (no closing blank line): the event is discarded, as SSE says, and quoted",
        True,
    ),
    ProblemKind("stream_error_event", "the stream sent its error event; its data is the message", True),
    ProblemKind("stream_error_chunk", 'an in-band `{"error": …}` chunk', True),
    ProblemKind("stream_bad_delta", "a delta that does not decode as the spec declares", False),
    ProblemKind("stream_bad_end_event", "the end or metadata event's data is not JSON", False),
    ProblemKind("stream_not_sse", "labelled `text/event-stream` but not SSE", True),
    ProblemKind("stream_not_event_stream", "a 2xx answer that is not `text/event-stream`", False),
    ProblemKind("stream_interrupted", "the connection broke mid-stream; the text that arrived is never a pass", False),
    # polled jobs
    ProblemKind("poll_no_job_id", "a 2xx submit answer without a job id: nothing to poll", True, "poll.job_id"),
    ProblemKind("poll_status_failed", "a status request answered non-2xx", True),
    ProblemKind(
        "poll_unknown_status",
        "a status value the spec does not list",
        True,
        "poll.status.pointer (or poll.status.success / pending / failure)",
    ),
)


def blocks_output(kind: str) -> bool:
    """Whether a problem of ``kind`` leaves nothing to judge."""
    return PROBLEMS[kind].blocks_output
