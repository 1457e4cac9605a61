"""``harness import-har``: the cases a HAR 1.2 file's requests make, as the proxy would record them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from harness.__main__ import main
from tests.support.pytester_project import CHAT_SPEC

HAR = Path(__file__).parent / "data" / "session.har"


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    path = tmp_path / "cases" / "studycompanion" / "service.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(CHAT_SPEC)
    return path


def test_a_har_file_becomes_cases_with_golden_outputs_and_nothing_secret(
    spec: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "from-har.yaml"
    assert main(["import-har", str(HAR), "--spec", str(spec), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "5 request(s) seen: 3 case(s) recorded, 0 golden output(s) added" in printed
    assert "1 duplicate input(s)" in printed
    assert "not mappable (1): no endpoint of 'studycompanion' at GET /static/app.js" in printed
    text = out.read_text()
    for secret in ("har-secret-token-4242424242", "s3cr3t", "sam.lee@college.example"):
        assert secret not in text
    cases = yaml.safe_load(text)["cases"]
    osmosis, diffusion, rejected = cases
    assert osmosis["golden"]["text"].startswith("Osmosis is the diffusion of water")  # no gzip to undo: HAR is decoded
    assert osmosis["golden"]["sources"] == ["bio101/notes-membranes"]
    assert diffusion["golden"]["endpoint"] == "prod"
    assert diffusion["golden"]["text"] == "Diffusion moves particles from high to low concentration."
    assert rejected["checks"] == [{"status": 422}]


def test_import_har_defaults_to_recorded_yaml_next_to_the_only_spec(
    spec: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["import-har", str(HAR)]) == 0
    assert len(yaml.safe_load((spec.parent / "recorded.yaml").read_text())["cases"]) == 3


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not JSON"),
        ('{"log": {}}', "not a HAR file (no log.entries list)"),
        ('{"log": {"entries": [{"request": {}}]}}', "log.entries[0] is not a HAR 1.2 entry"),
    ],
)
def test_a_file_that_is_not_har_is_one_message(
    spec: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    bad = tmp_path / "bad.har"
    bad.write_text(content)
    assert main(["import-har", str(bad), "--spec", str(spec), "--out", str(tmp_path / "x.yaml")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("harness import-har: ")
    assert message in err
    assert "Traceback" not in err


def test_a_missing_spec_is_one_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(HAR, tmp_path / "s.har")
    assert main(["import-har", str(tmp_path / "s.har"), "--spec", str(tmp_path / "nope.yaml")]) == 2
    assert "--spec" in capsys.readouterr().err
