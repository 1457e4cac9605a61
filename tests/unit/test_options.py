"""The option table: parsing with fixes in the messages, precedence, and the docs' table kept equal to it."""

from __future__ import annotations

from typing import Any

import pytest

from harness._errors import HarnessUsageError
from harness._run._options import OPTIONS, OPTIONS_BY_DEST, help_text, resolve_settings
from tests.support.docs import docs_tables


def settings(cli: dict[str, Any] | None = None, ini: dict[str, Any] | None = None) -> Any:
    return resolve_settings(lambda name: (cli or {}).get(name), lambda name: (ini or {}).get(name))


def test_defaults_when_nothing_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    for option in OPTIONS:
        if option.env:
            monkeypatch.delenv(option.env, raising=False)
    resolved = settings()
    assert (resolved.concurrency, resolved.timeout_s, resolved.report_dir) == (8, 60.0, "reports")
    assert resolved.case_paths == ("cases",)
    assert resolved.latency_tolerance == 0.5


def test_command_line_beats_ini_beats_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REFERENCE_FAULTS", "pii_leak")
    assert settings().reference_faults == ("pii_leak",)
    assert settings(ini={"reference_faults": "stream_truncated"}).reference_faults == ("stream_truncated",)
    chosen = settings(cli={"reference_faults": "callback_never"}, ini={"reference_faults": "stream_truncated"})
    assert chosen.reference_faults == ("callback_never",)


@pytest.mark.parametrize(
    ("dest", "raw", "message"),
    [
        ("harness_timeout", "nan", "--harness-timeout must be a finite number, got 'nan'; give seconds"),
        ("harness_timeout", "inf", "--harness-timeout must be a finite number, got 'inf'"),
        ("harness_timeout", "0", "--harness-timeout must be at least 0.001, got '0'"),
        ("harness_concurrency", "two", "--harness-concurrency must be a number, got 'two'; give how many cases"),
        ("harness_repeat", "0", "--harness-repeat must be at least 1, got '0'"),
        ("base_url", "staging.example.com", "--base-url must be an http(s) URL, got 'staging.example.com'"),
        ("harness_callback_url", "/relative", "e.g. --harness-callback-url http://ci-runner.internal:9000"),
        ("harness_latency_tolerance", "fast", "e.g. --harness-latency-tolerance 50%"),
    ],
)
def test_bad_values_name_the_option_and_the_fix(dest: str, raw: str, message: str) -> None:
    with pytest.raises(HarnessUsageError) as info:
        settings(cli={dest: raw})
    assert message in str(info.value)


def test_faults_and_base_url_do_not_mix() -> None:
    with pytest.raises(HarnessUsageError, match="nothing is started; drop one of them"):
        settings(cli={"base_url": "http://svc", "reference_faults": "pii_leak"})


def test_secrets_have_no_ini_twin_and_are_masked() -> None:
    for dest in ("harness_qa_token", "harness_callback_secret"):
        assert not OPTIONS_BY_DEST[dest].ini
    resolved = settings(cli={"harness_qa_token": "tok-1", "harness_callback_secret": "whsec_abc"})
    assert resolved.secrets == ("tok-1", "whsec_abc")


def test_help_names_the_default_and_the_twins_and_escapes_percent() -> None:
    text = help_text(OPTIONS_BY_DEST["harness_latency_tolerance"])
    assert "default 50%%" in text
    assert "ini harness_latency_tolerance" in text


def test_docs_options_table_matches_the_option_table() -> None:
    module = docs_tables()
    assert module.main(["--check"]) == 0, "the docs' generated tables are stale: run python scripts/docs_tables.py"
    table = module.render_options_table()
    for option in OPTIONS:
        assert (option.flag or option.dest) in table


def test_each_option_sets_one_settings_field_and_each_field_has_its_option() -> None:
    from dataclasses import fields

    from harness._run._options import OPTIONS, HarnessSettings

    settings_fields = {f.name for f in fields(HarnessSettings)}
    option_fields = [option.field for option in OPTIONS]
    assert len(option_fields) == len(set(option_fields))
    assert set(option_fields) <= settings_fields
    # the API keys are read from the environment only: a key never goes on a command line or in an ini file
    assert settings_fields - set(option_fields) == {"judge_api_key", "embeddings_api_key"}


def test_settings_defaults_are_the_tables() -> None:
    from harness._run._options import OPTIONS, HarnessSettings

    defaults = HarnessSettings()
    for option in OPTIONS:
        assert getattr(defaults, option.field) == option.default, option.dest
