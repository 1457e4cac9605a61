"""Resolved harness settings: CLI > ini > environment > default, validated with fixes in the messages."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from harness._errors import HarnessUsageError


@dataclass(frozen=True)
class HarnessSettings:
    """Everything the harness needs from options, ini and environment."""

    base_url: str | None
    qa_token: str | None
    callback_secret: str | None
    callback_host: str
    callback_url: str | None
    concurrency: int
    timeout_s: float
    repeat: int | None
    report_dir: str
    reference_faults: tuple[str, ...]
    reference_model_latency_ms: float
    case_paths: tuple[str, ...]
    local_target: str
    judge_url: str | None
    judge_model: str | None
    judge_api_key: str | None


def _pick(cli: Any, ini: Any, env: str | None, default: Any) -> Any:
    """CLI > ini > environment > default; empty values count as unset."""
    for value in (cli, ini, os.environ.get(env) if env else None):
        if value not in (None, "", []):
            return value
    return default


def _number(name: str, raw: Any, convert: Callable[[str], Any], minimum: float, fix: str) -> Any:
    try:
        value = convert(str(raw))
    except ValueError:
        raise HarnessUsageError(f"{name} must be a number, got {raw!r}; {fix}") from None
    if value < minimum:
        raise HarnessUsageError(f"{name} must be at least {minimum}, got {raw!r}; {fix}")
    return value


def resolve_settings(get_option: Callable[[str], Any], get_ini: Callable[[str], Any]) -> HarnessSettings:
    """Read and validate every harness option; ``HarnessUsageError`` names the fix."""
    base_url = get_option("base_url") or None
    if base_url and urlsplit(base_url).scheme not in ("http", "https"):
        raise HarnessUsageError(
            f"--base-url must be an http(s) URL, got {base_url!r}; e.g. --base-url http://127.0.0.1:8000"
        )
    callback_url = _pick(get_option("harness_callback_url"), get_ini("harness_callback_url"), None, None)
    if callback_url:
        parts = urlsplit(callback_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise HarnessUsageError(
                f"--harness-callback-url must be an absolute http(s) URL the service can reach, got {callback_url!r}; "
                "e.g. --harness-callback-url http://ci-runner.internal:9000"
            )
    faults_raw = _pick(get_option("reference_faults"), get_ini("reference_faults"), "REFERENCE_FAULTS", "")
    faults = tuple(f.strip() for f in str(faults_raw).split(",") if f.strip())
    latency = _number(
        "--reference-model-latency-ms",
        _pick(get_option("reference_model_latency_ms"), get_ini("reference_model_latency_ms"), None, 0),
        float,
        0,
        "give milliseconds of model time to first token, e.g. --reference-model-latency-ms 200",
    )
    if base_url and (faults or latency):
        raise HarnessUsageError(
            "--reference-faults and --reference-model-latency-ms configure the in-process reference services, "
            f"but --base-url {base_url} means nothing is started; drop one of them"
        )
    repeat_raw = _pick(get_option("harness_repeat"), get_ini("harness_repeat"), None, None)
    case_paths = get_ini("harness_case_paths") or ["cases"]
    return HarnessSettings(
        base_url=base_url.rstrip("/") if base_url else None,
        qa_token=_pick(get_option("harness_qa_token"), None, "HARNESS_QA_TOKEN", None),
        callback_secret=_pick(get_option("harness_callback_secret"), None, "HARNESS_CALLBACK_SECRET", None),
        callback_host=_pick(get_option("harness_callback_host"), get_ini("harness_callback_host"), None, "127.0.0.1"),
        callback_url=callback_url,
        concurrency=_number(
            "--harness-concurrency",
            _pick(get_option("harness_concurrency"), get_ini("harness_concurrency"), None, 8),
            int,
            1,
            "give how many cases a process keeps in flight, e.g. --harness-concurrency 8",
        ),
        timeout_s=_number(
            "--harness-timeout",
            _pick(get_option("harness_timeout"), get_ini("harness_timeout"), None, 60),
            float,
            0.001,
            "give seconds, e.g. --harness-timeout 60",
        ),
        repeat=None
        if repeat_raw is None
        else _number("--harness-repeat", repeat_raw, int, 1, "give how many times to run each case, e.g. 3"),
        report_dir=_pick(get_option("harness_report_dir"), get_ini("harness_report_dir"), None, "reports"),
        reference_faults=faults,
        reference_model_latency_ms=latency,
        case_paths=tuple(str(p) for p in case_paths),
        local_target=get_ini("harness_local_target") or "reference_services.inprocess:start_stack",
        judge_url=_pick(get_option("harness_judge_url"), get_ini("harness_judge_url"), "HARNESS_JUDGE_URL", None),
        judge_model=_pick(
            get_option("harness_judge_model"), get_ini("harness_judge_model"), "HARNESS_JUDGE_MODEL", None
        ),
        judge_api_key=_pick(None, None, "HARNESS_JUDGE_API_KEY", None),
    )
