"""Every harness option, declared once: flag, parser, default, ini and environment twins, help.

``plugin.py`` feeds this table to ``addoption`` / ``addini``; :func:`resolve_settings` reads the values
back into :class:`HarnessSettings` (command line > ini > environment > default); ``scripts/docs_tables.py``
renders the docs' options table from it. A parser raises :class:`HarnessUsageError` whose text names
the fix, so a bad value stops the run before anything is sent.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from harness._errors import HarnessUsageError
from harness._model._limits import (
    MAX_CONCURRENCY,
    MAX_LATENCY_TOLERANCE,
    MAX_MODEL_LATENCY_MS,
    MAX_REPEAT,
    MAX_RESPONSE_BYTES,
    MAX_SECONDS,
    MAX_SEED,
    MIN_RESPONSE_BYTES,
)

DEFAULT_TIMEOUT_S = 60.0
"""Bound on each delivery (``--harness-timeout``): every signature that takes a delivery timeout defaults to it."""
DEFAULT_MAX_RESPONSE_BYTES = 32 * 1024**2
"""Bound on one response, stream or callback body (``--harness-max-response-size``)."""

Parser = Callable[[str, str], Any]
"""``parse(raw, name) -> value``; raises HarnessUsageError naming the option and the fix."""


@dataclass(frozen=True)
class Option:
    """One option: ``flag`` on the command line (None: ini only), ``dest`` also names the ini key."""

    dest: str
    flag: str | None
    metavar: str
    help: str
    parse: Parser
    default: Any = None
    shown_default: str = "-"
    """The default as the docs show it."""
    ini: bool = True
    ini_type: str | None = None
    env: str | None = None
    external: bool = False
    """Declared by another plugin (pytest-base-url): documented and resolved here, not added."""
    field: str = ""
    """The :class:`HarnessSettings` field it sets; default: ``dest`` without its ``harness_`` prefix."""

    def __post_init__(self) -> None:
        if not self.field:
            object.__setattr__(self, "field", self.dest.removeprefix("harness_"))

    @property
    def display(self) -> str:
        """How messages and docs name the option."""
        return self.flag or f"ini {self.dest}"


# ---------------------------------------------------------------- parsers


def _text(raw: str, name: str) -> str:
    return raw


def _number(convert: Callable[[str], float], minimum: float, maximum: float, fix: str) -> Parser:
    """A parser of numbers from ``minimum`` to ``maximum``: infinity, NaN and absurd values are usage errors."""
    allowed = f"(allowed: {minimum:g} to {maximum:g})"

    def parse(raw: str, name: str) -> Any:
        try:
            value = convert(str(raw).strip())
        except (ValueError, OverflowError):
            raise HarnessUsageError(f"{name} must be a number, got {raw!r}; {fix} {allowed}") from None
        if not math.isfinite(value):
            raise HarnessUsageError(f"{name} must be a finite number, got {raw!r}; {fix} {allowed}")
        if value < minimum:
            raise HarnessUsageError(f"{name} must be at least {minimum:g}, got {raw!r}; {fix} {allowed}")
        if value > maximum:
            raise HarnessUsageError(f"{name} must be at most {maximum:g}, got {raw!r}; {fix} {allowed}")
        return value

    return parse


def _http_url(example: str, what: str = "an http(s) URL") -> Parser:
    def parse(raw: str, name: str) -> str:
        parts = urlsplit(raw)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise HarnessUsageError(f"{name} must be {what}, got {raw!r}; e.g. {name} {example}")
        return raw.rstrip("/")

    return parse


def _csv(raw: str, name: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in str(raw).split(",") if part.strip())


def _percent(raw: str, name: str) -> float:
    """``50%`` or ``0.5`` (a fraction) -> 0.5."""
    text = str(raw).strip()
    try:
        value = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        value = -1.0
    if not math.isfinite(value) or not 0 <= value <= MAX_LATENCY_TOLERANCE:
        raise HarnessUsageError(
            f"{name} must be a non-negative fraction or percentage up to {MAX_LATENCY_TOLERANCE * 100:.0f}%, "
            f"got {raw!r}; e.g. {name} 50%"
        )
    return value


@dataclass(frozen=True)
class DriftLimit:
    """How many answers may drift from the baseline's before the session fails: a count, or a share."""

    count: int | None = None
    share: float | None = None

    def exceeded(self, drifted: int, compared: int) -> bool:
        """Whether ``drifted`` of ``compared`` answers is more than the limit allows."""
        if self.count is not None:
            return drifted > self.count
        return compared > 0 and self.share is not None and drifted / compared > self.share + 1e-9


def _drift_limit(raw: str, name: str) -> DriftLimit:
    """``3`` (answers) or ``5%`` (of the answers compared)."""
    text = str(raw).strip()
    if text.endswith("%"):
        return DriftLimit(share=_percent(text, name))
    try:
        count = int(text)
    except ValueError:
        count = -1
    if count < 0:
        raise HarnessUsageError(
            f"{name} must be a number of answers or a percentage, got {raw!r}; e.g. {name} 0 or {name} 5%"
        )
    return DriftLimit(count=count)


_UNITS = {"": 1, "B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3}


def _size(raw: str, name: str) -> int:
    """``32MB``, ``512KB`` or a number of bytes (KB and MB are binary: 1024 and 1024²)."""
    text = str(raw).strip().upper().replace(" ", "")
    number = text.rstrip("KMGB")
    unit = text[len(number) :]
    fix = f"give a size such as 32MB, 512KB or a number of bytes, e.g. {name} 64MB"
    try:
        value = float(number) * _UNITS[unit]
    except (ValueError, KeyError):
        raise HarnessUsageError(f"{name} must be a size, got {raw!r}; {fix}") from None
    if not math.isfinite(value) or not MIN_RESPONSE_BYTES <= value <= MAX_RESPONSE_BYTES:
        raise HarnessUsageError(f"{name} must be a finite size from 1KB to 1GB, got {raw!r}; {fix}")
    return int(value)


def _target(raw: str, name: str) -> str:
    module, _, function = raw.partition(":")
    if not module or not function:
        raise HarnessUsageError(f"{name} must be module:function, got {raw!r}; e.g. reference_services.inprocess:start")
    return raw


# ---------------------------------------------------------------- the table

OPTIONS: tuple[Option, ...] = (
    Option(
        "base_url",
        "--base-url",
        "URL",
        "Test the services at this URL; nothing is started (pytest-base-url: also `PYTEST_BASE_URL`, ini `base_url`)",
        _http_url("http://127.0.0.1:8000"),
        shown_default="in-process reference services",
        external=True,
    ),
    Option(
        "harness_qa_token",
        "--harness-qa-token",
        "TOKEN",
        "Bearer token for QA endpoints",
        _text,
        shown_default="generated per run in-process (a given one is used there too)",
        ini=False,
        env="HARNESS_QA_TOKEN",
    ),
    Option(
        "harness_concurrency",
        "--harness-concurrency",
        "N",
        "Cases a process keeps in flight at once",
        _number(int, 1, MAX_CONCURRENCY, "give how many cases a process keeps in flight, e.g. --harness-concurrency 8"),
        default=8,
        shown_default="`8`",
    ),
    Option(
        "harness_timeout",
        "--harness-timeout",
        "SECONDS",
        "Bound on each delivery: response, stream or callback wait (a case's `timeout_s` wins)",
        _number(float, 0.001, MAX_SECONDS, "give seconds, e.g. --harness-timeout 60"),
        default=DEFAULT_TIMEOUT_S,
        field="timeout_s",
        shown_default="`60`",
    ),
    Option(
        "harness_callback_host",
        "--harness-callback-host",
        "HOST",
        "Interface the callback receiver listens on",
        _text,
        default="127.0.0.1",
        shown_default="`127.0.0.1`",
    ),
    Option(
        "harness_callback_url",
        "--harness-callback-url",
        "URL",
        "URL a remote service uses to reach the receiver, e.g. through a tunnel",
        _http_url("http://ci-runner.internal:9000", "an absolute http(s) URL the service can reach"),
        shown_default="the receiver's own address",
    ),
    Option(
        "harness_callback_secret",
        "--harness-callback-secret",
        "whsec_…",
        "Standard Webhooks secret to verify callbacks",
        _text,
        shown_default="generated per run in-process (a given one is used there too)",
        ini=False,
        env="HARNESS_CALLBACK_SECRET",
    ),
    Option(
        "harness_max_response_size",
        "--harness-max-response-size",
        "SIZE",
        "Most one delivery may send (a response, a stream, a callback); past it reading stops: `response_too_large`",
        _size,
        default=DEFAULT_MAX_RESPONSE_BYTES,
        field="max_response_bytes",
        shown_default="`32MB`",
    ),
    Option(
        "harness_report_dir",
        "--harness-report-dir",
        "DIR",
        "Where reports are written",
        _text,
        default="reports",
        shown_default="`reports/`",
    ),
    Option(
        "harness_repeat",
        "--harness-repeat",
        "N",
        "Run every case N times and report pass rates; a case's own `repeat` wins",
        _number(int, 1, MAX_REPEAT, "give how many times to run each case, e.g. --harness-repeat 3"),
        shown_default="`1`",
    ),
    Option(
        "harness_judge_url",
        "--harness-judge-url",
        "URL",
        "OpenAI-compatible grader for `llm_judge` (key in env `HARNESS_JUDGE_API_KEY`)",
        _http_url("https://api.openai.com/v1"),
        shown_default="the embedded model in-process",
        env="HARNESS_JUDGE_URL",
    ),
    Option(
        "harness_judge_model",
        "--harness-judge-model",
        "NAME",
        "Model name for `llm_judge`",
        _text,
        shown_default="`reference-model`",
        env="HARNESS_JUDGE_MODEL",
    ),
    Option(
        "harness_embeddings_url",
        "--harness-embeddings-url",
        "URL",
        "OpenAI-compatible `/v1/embeddings` server for `semantic` parity (key in env `HARNESS_EMBEDDINGS_API_KEY`); "
        "with `--base-url` and none, `semantic` embeds in-process with all-MiniLM-L6-v2",
        _http_url("https://api.openai.com/v1"),
        shown_default="the embedded model in-process",
        env="HARNESS_EMBEDDINGS_URL",
    ),
    Option(
        "harness_embeddings_model",
        "--harness-embeddings-model",
        "NAME",
        "Embedding model for `semantic` parity",
        _text,
        shown_default="`reference-embedding`",
        env="HARNESS_EMBEDDINGS_MODEL",
    ),
    Option(
        "harness_seed",
        "--harness-seed",
        "N",
        "Seed of the generated negative cases (same seed, same requests); printed in the report header",
        _number(int, 0, MAX_SEED, "give a non-negative integer, e.g. --harness-seed 1"),
        default=1,
        shown_default="`1`",
    ),
    Option(
        "harness_save_baseline",
        "--harness-save-baseline",
        "PATH",
        "Also write the run record to PATH, to compare later runs with",
        _text,
        ini=False,
    ),
    Option(
        "harness_baseline",
        "--harness-baseline",
        "PATH",
        "Compare with a saved run record; fail the session on regressions",
        _text,
        ini=False,
    ),
    Option(
        "harness_latency_tolerance",
        "--harness-latency-tolerance",
        "PCT",
        "Median latency growth per case part `--harness-baseline` accepts (slowdowns under 100 ms never count)",
        _percent,
        default=0.5,
        shown_default="`50%`",
    ),
    Option(
        "harness_max_drift",
        "--harness-max-drift",
        "N|PCT",
        "Answers that may change beyond noise against `--harness-baseline` (a count, or a share of those "
        "compared) before the session fails; unset: drift is reported, never fails",
        _drift_limit,
        shown_default="unset",
    ),
    Option(
        "reference_faults",
        "--reference-faults",
        "F1,F2",
        "Faults to inject into the in-process reference services",
        _csv,
        default=(),
        shown_default="none",
        env="REFERENCE_FAULTS",
    ),
    Option(
        "reference_model_latency_ms",
        "--reference-model-latency-ms",
        "MS",
        "Time to first token of the in-process reference model",
        _number(
            float,
            0,
            MAX_MODEL_LATENCY_MS,
            "give milliseconds of model time to first token, e.g. --reference-model-latency-ms 200",
        ),
        default=0.0,
        shown_default="`0`",
    ),
    Option(
        "harness_case_paths",
        None,
        "PATHS",
        "Folders holding case files and service specs",
        _text,
        default=("cases",),
        shown_default="`cases`",
        ini_type="args",
    ),
    Option(
        "harness_local_target",
        None,
        "MODULE:FUNCTION",
        "`module:function` that starts services when no `--base-url` is given",
        _target,
        default="reference_services.inprocess:start_stack",
        shown_default="`reference_services.inprocess:start_stack`",
    ),
)

OPTIONS_BY_DEST = {option.dest: option for option in OPTIONS}


def help_text(option: Option) -> str:
    """The ``--help`` line: the description, then the default and the twins (``%`` escaped for argparse)."""
    twins = [f"ini {option.dest}"] if option.ini and option.flag else []
    twins += [f"env {option.env}"] if option.env else []
    text = option.help.replace("`", "")
    if option.shown_default != "-":
        twins.insert(0, "default " + option.shown_default.replace("`", ""))
    if twins:
        text += f" ({'; '.join(twins)})"
    return text.replace("%", "%%") + "."


# ---------------------------------------------------------------- settings


def _default(dest: str) -> Any:
    """The table's default for ``dest``: the settings take each default from there, never a copy."""
    return OPTIONS_BY_DEST[dest].default


@dataclass(frozen=True)
class HarnessSettings:
    """Every option's resolved value; built by :func:`resolve_settings`."""

    base_url: str | None = None
    qa_token: str | None = None
    callback_secret: str | None = None
    callback_host: str = _default("harness_callback_host")
    callback_url: str | None = None
    concurrency: int = _default("harness_concurrency")
    timeout_s: float = _default("harness_timeout")
    repeat: int | None = None
    report_dir: str = _default("harness_report_dir")
    reference_faults: tuple[str, ...] = _default("reference_faults")
    reference_model_latency_ms: float = _default("reference_model_latency_ms")
    case_paths: tuple[str, ...] = _default("harness_case_paths")
    local_target: str = _default("harness_local_target")
    judge_url: str | None = None
    judge_model: str | None = None
    judge_api_key: str | None = None
    """Environment only (``HARNESS_JUDGE_API_KEY``): a key never goes on a command line."""
    embeddings_url: str | None = None
    embeddings_model: str | None = None
    embeddings_api_key: str | None = None
    """Environment only (``HARNESS_EMBEDDINGS_API_KEY``)."""
    save_baseline: str | None = None
    baseline: str | None = None
    latency_tolerance: float = _default("harness_latency_tolerance")
    max_drift: DriftLimit | None = None
    max_response_bytes: int = _default("harness_max_response_size")
    seed: int = _default("harness_seed")

    @property
    def secrets(self) -> tuple[str, ...]:
        """Values masked in every file and line the harness writes (a password in --base-url too)."""
        password = urlsplit(self.base_url).password if self.base_url else None
        known = (self.qa_token, self.callback_secret, self.judge_api_key, self.embeddings_api_key, password)
        return tuple(s for s in known if s)


def _unset(value: Any) -> bool:
    return value is None or value == "" or value == []


def resolve_settings(get_option: Callable[[str], Any], get_ini: Callable[[str], Any]) -> HarnessSettings:
    """Read and parse every option (command line > ini > environment > default).

    Raises :class:`HarnessUsageError` naming the option and the fix.
    """
    values: dict[str, Any] = {}
    for option in OPTIONS:
        raw: Any = get_option(option.dest) if option.flag else None
        if _unset(raw) and option.ini:
            # pytest-base-url copies its ini base_url into the option only in its own pytest_configure, which
            # runs after ours: read the ini here too.
            try:
                raw = get_ini(option.dest)
            except ValueError:  # an external option whose plugin is not loaded (-p no:base_url)
                raw = None
        if _unset(raw) and option.env:
            raw = os.environ.get(option.env)
        if _unset(raw):
            value = option.default
        elif isinstance(raw, list):  # an "args" ini value
            value = tuple(str(part) for part in raw)
        else:
            value = option.parse(str(raw), option.display)
        values[option.field] = value
    values["judge_api_key"] = os.environ.get("HARNESS_JUDGE_API_KEY") or None
    values["embeddings_api_key"] = os.environ.get("HARNESS_EMBEDDINGS_API_KEY") or None
    settings = HarnessSettings(**values)
    if settings.base_url and (settings.reference_faults or settings.reference_model_latency_ms):
        raise HarnessUsageError(
            "--reference-faults and --reference-model-latency-ms configure the in-process reference services, "
            f"but --base-url {settings.base_url} means nothing is started; drop one of them"
        )
    if settings.reference_faults:
        _check_faults(settings)
    return settings


def _check_faults(settings: HarnessSettings) -> None:
    """Unknown fault names are a usage error now, not an error per item once the services start.

    The local target's module may offer ``validate_faults(names)`` raising ``ValueError`` (the reference
    services do); a target without it gets the names unchecked.
    """
    import importlib

    module_name = settings.local_target.partition(":")[0]
    try:
        validate = getattr(importlib.import_module(module_name), "validate_faults", None)
    except ImportError:
        return  # reported with its fix when the target starts
    if validate is None:
        return
    try:
        validate(settings.reference_faults)
    except ValueError as exc:
        raise HarnessUsageError(f"--reference-faults: {exc}") from None
