"""Allure glue: labels, steps and attachments for a harness item, made while the item runs.

Attachments come from the item's record (secrets already masked by the delivery layer); every text is
masked once more with the secrets this process knows, so a slip upstream cannot leak into a report.
:class:`AllureResultMasker` masks every text of each result and container allure-pytest writes, whatever
made it (a user's own test, a fixture's error).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

import allure
import allure_commons
import attr

from harness._report.curl import curl_command
from harness._report.masking import redact_text


class _StepFailed(AssertionError):
    """Marks an allure step as failed without failing the item (the item fails on its own)."""


class AllureRecorder:
    """Turns a harness record into allure labels, steps and attachments for the running test."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self.secrets = [s for s in secrets if s]

    def add_secrets(self, secrets: Iterable[str | None]) -> None:
        """Mask these too (e.g. secrets of in-process services started after configure)."""
        self.secrets += [s for s in secrets if s and s not in self.secrets]

    # ---------------------------------------------------------------- labels

    def label_item(self, header: dict[str, Any], checks: tuple[str, ...]) -> None:
        """Labels known before the item runs: service, endpoint, case, checks; suites for the tree view."""
        dyn: Any = allure.dynamic  # allure's dynamic API is untyped
        dyn.label("service", header["service"])
        dyn.label("endpoint", header["part"])
        dyn.label("case", header["case"])
        for name in checks:
            dyn.label("check", name)
        dyn.parent_suite(header["service"])
        dyn.suite(header["file"])
        dyn.sub_suite(header["case_id"])

    # ---------------------------------------------------------------- records

    def attach_record(self, record: dict[str, Any], sides: dict[str, dict[str, Any]] | None = None) -> None:
        """Steps and attachments for one item's record; ``sides`` are the qa/prod records of a parity item."""
        dyn: Any = allure.dynamic
        dyn.title(f"{record['case_id']} · {record['part']}")  # allure names items at the end of setup
        repeats = record.get("runs", [])
        if len(repeats) > 1:
            dyn.description(
                f"pass rate {record['pass_rate']:.0%} over {len(repeats)} repeats "
                f"(min_pass_rate {record['min_pass_rate']:.0%})"
            )
        for number, run in enumerate(repeats, 1):
            prefix = f"repeat {number}: " if len(repeats) > 1 else ""
            if record["part"] == "parity":
                side_runs = {name: side["runs"][number - 1] for name, side in (sides or {}).items()}
                self._parity_run(prefix, run, side_runs)
            else:
                self._side_run(prefix, record["part"], run)

    def _side_run(self, prefix: str, part: str, run: dict[str, Any]) -> None:
        if run.get("error"):
            self._text("harness error", str(run["error"]))
        turns = run.get("turns", [])
        for number, turn in enumerate(turns, 1):
            label = f"{prefix}turn {number}: " if len(turns) > 1 else prefix
            outcome = turn["outcome"]
            self._exchange(label, outcome)
            for check in turn.get("checks", []):
                self._check_step(label, check)
            if turn.get("golden") is not None:
                self._comparison_step(f"{label}golden output", turn["golden"], "", "golden")

    def _exchange(self, label: str, outcome: dict[str, Any]) -> None:
        """Request (with curl), delivery (transcript, problems), output and timings of one endpoint call."""
        endpoint, delivery = outcome.get("endpoint"), outcome.get("delivery")
        request = outcome.get("request") or {}
        with allure.step(f"{label}request {endpoint}: {request.get('method', '')} {request.get('url', '')}"):
            self._json(f"{endpoint} request", request)
            curl = curl_command(request, stream=delivery == "sse")
            if curl:
                self._text(f"{endpoint} curl", curl)
        problems = outcome.get("problems", [])
        title = f"{label}delivery {endpoint} ({delivery}): status {outcome.get('status')}"
        self._maybe_failed_step(
            title + (f", {len(problems)} problem(s)" if problems else ""),
            "; ".join(f"{p['kind']}: {p['message']}" for p in problems),
            lambda: self._delivery_attachments(outcome),
        )

    def _delivery_attachments(self, outcome: dict[str, Any]) -> None:
        endpoint, delivery = outcome.get("endpoint"), outcome.get("delivery")
        transcript = outcome.get("transcript") or []
        if transcript:
            name = {"sse": "SSE transcript", "callback": "callback deliveries"}.get(str(delivery), "transcript")
            self._text(f"{endpoint} {name}", "\n".join(transcript))
        self._text(f"{endpoint.upper() if endpoint == 'qa' else endpoint} output", outcome.get("text") or "")
        if outcome.get("body") is not None:
            self._json(f"{endpoint} body", outcome["body"])
        timings = {k: outcome.get(k) for k in ("total_s", "ttft_s", "ack_s") if outcome.get(k) is not None}
        self._json(f"{endpoint} timings", timings)

    def _check_step(self, label: str, check: dict[str, Any]) -> None:
        verdict = "passed" if check.get("passed") else "failed"
        duration = f" ({check['duration_s'] * 1000:.0f} ms)" if check.get("duration_s") is not None else ""
        self._maybe_failed_step(
            f"{label}check {check['name']}: {verdict}{duration}",
            "" if check.get("passed") else str(check.get("message") or "failed"),
            None,
        )

    def _parity_run(self, prefix: str, run: dict[str, Any], side_runs: dict[str, dict[str, Any]]) -> None:
        for name in ("qa", "prod"):
            side = side_runs.get(name)
            if side is None:
                continue
            for number, turn in enumerate(side.get("turns", []), 1):
                turn_label = f" turn {number}" if len(side["turns"]) > 1 else ""
                outcome = turn["outcome"]
                title = "QA output" if name == "qa" else "prod output"
                self._text(f"{prefix}{title}{turn_label}", outcome.get("text") or "")
        if run.get("blocked"):
            self._maybe_failed_step(f"{prefix}parity: blocked", str(run["blocked"]), None)
        reports = run.get("reports", [])
        for number, report in enumerate(reports, 1):
            turn_label = f" turn {number}" if len(reports) > 1 else ""
            self._comparison_step(f"{prefix}parity{turn_label}", report, turn_label, "parity")
        for check in run.get("checks", []):
            self._check_step(prefix, check)

    def _comparison_step(self, title: str, report: dict[str, Any], turn_label: str, name: str) -> None:
        """A parity (or golden-output) verdict as a step, with its diffs and figures attached."""
        verdict = "held" if report.get("passed") else "failed"

        def attachments() -> None:
            diff_name = "diff" if name == "parity" else f"{name} diff"
            if report.get("text_diff"):
                self._text(f"{diff_name}{turn_label}", report["text_diff"], extension="diff")
            if report.get("json_diff"):
                self._text(f"JSON {diff_name}{turn_label}", report["json_diff"])
            details = {k: report.get(k) for k in ("level", "similarity", "threshold", "noise", "summary")}
            self._json(f"{name}{turn_label}", details)

        self._maybe_failed_step(
            f"{title} ({report.get('level')}): {verdict} — {report.get('summary')}",
            "" if report.get("passed") else str(report.get("summary")),
            attachments,
        )

    # ---------------------------------------------------------------- primitives

    def _maybe_failed_step(self, title: str, failure: str, body: Any) -> None:
        """A step that shows as failed (with ``failure``) when ``failure`` is non-empty."""
        try:
            with allure.step(self._mask(title)):
                if body is not None:
                    body()
                if failure:
                    raise _StepFailed(self._mask(failure))
        except _StepFailed:
            pass

    def _mask(self, text: str) -> str:
        return redact_text(text, self.secrets)

    def _text(self, name: str, text: str, *, extension: str = "txt") -> None:
        allure.attach(self._mask(text), name=name, attachment_type=allure.attachment_type.TEXT, extension=extension)

    def _json(self, name: str, data: Any) -> None:
        text = json.dumps(data, indent=2, ensure_ascii=False, default=str)
        allure.attach(self._mask(text), name=name, attachment_type=allure.attachment_type.JSON)


class AllureResultMasker:
    """An allure-commons plugin that masks every text of a result or container before it is written.

    allure-pytest takes a failure's message from the exception itself (``statusDetails.message``), so a
    failure made outside the harness (a user's test quoting what a service echoed) would otherwise reach
    the results folder as raised. Attachment bodies cannot be changed on their way to the file; they are
    masked where they are made (:class:`AllureRecorder`, captured output in the report hook).
    """

    def __init__(self, mask: Callable[[str], str]) -> None:
        self.mask = mask

    @allure_commons.hookimpl(tryfirst=True)  # before the file logger writes it
    def report_result(self, result: Any) -> None:
        """Mask a test result in place."""
        _mask_fields(result, self.mask)

    @allure_commons.hookimpl(tryfirst=True)
    def report_container(self, container: Any) -> None:
        """Mask a fixture container in place."""
        _mask_fields(container, self.mask)


def _mask_fields(item: Any, mask: Callable[[str], str]) -> None:
    """Every string field of an allure model object, in its lists and nested objects too, masked in place."""
    for field in attr.fields(type(item)):
        value = getattr(item, field.name)
        if isinstance(value, str):
            setattr(item, field.name, mask(value))
        elif isinstance(value, list):
            for index, element in enumerate(value):
                if isinstance(element, str):
                    value[index] = mask(element)
                elif attr.has(type(element)):
                    _mask_fields(element, mask)
        elif attr.has(type(value)):
            _mask_fields(value, mask)
