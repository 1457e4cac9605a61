"""Hostile and broken YAML: alias bombs, oversized files, Python tags, bad encodings and deep nesting
are one file:line error with a fix, quickly, never a hang, a traceback or "check indentation"."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import pytest
import yaml

from harness._errors import CaseFileError
from harness._model._case import parse_case_file
from harness._model._yaml import MAX_ALIAS_NODES, MAX_FILE_BYTES, load_located, read_located

# Nine levels of nine aliases: a few hundred bytes that expand to 9**9 (387 million) strings.
_LEVELS = "abcdefghi"
BOMB = (
    "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    + "".join(f"{name}: &{name} [{', '.join([f'*{prev}'] * 9)}]\n" for prev, name in itertools.pairwise(_LEVELS))
    + "cases: *i\n"
)


def _error(source: str | bytes) -> str:
    with pytest.raises(CaseFileError) as caught:
        load_located(source, "cases/x.yaml")
    return str(caught.value)


def test_an_alias_bomb_is_refused_at_once() -> None:
    started = time.perf_counter()
    message = _error(BOMB)
    assert time.perf_counter() - started < 1.0
    assert message.startswith("cases/x.yaml:")
    assert f"YAML aliases expand this document past {MAX_ALIAS_NODES:,} repeated values" in message
    assert "fix: write the values out" in message


def test_an_alias_bomb_in_a_case_file_is_a_case_file_error(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(BOMB, encoding="utf-8")
    started = time.perf_counter()
    with pytest.raises(CaseFileError, match="aliases expand"):
        parse_case_file(path, "cases/bomb.yaml")
    assert time.perf_counter() - started < 1.0


def test_modest_aliases_still_work() -> None:
    doc = load_located("common: &c {course_title: Bio, n: 5}\ncases:\n  - input: *c\n  - input: *c\n", "x.yaml")
    assert doc.data["cases"] == [{"input": {"course_title": "Bio", "n": 5}}] * 2
    assert doc.line_of(("cases", 1, "input")) == 4


def test_a_recursive_alias_is_refused() -> None:
    message = _error("cases: &a [*a]\n")
    assert message.startswith("cases/x.yaml:1: recursive YAML alias")


@pytest.mark.parametrize(
    ("line", "tag"),
    [
        ("input: !!python/object/apply:os.system ['echo owned']", "!!python/object/apply:os.system"),
        ("input: !!python/name:builtins.print", "!!python/name:builtins.print"),
        ("input: !custom {a: 1}", "!custom"),
    ],
)
def test_python_and_unknown_tags_are_named_not_blamed_on_indentation(line: str, tag: str) -> None:
    message = _error(f"cases:\n  - id: x\n    {line}\n")
    assert message.startswith(f"cases/x.yaml:3: unsupported YAML tag '{tag}' at line 3")
    assert f"    3 |     {line}" in message
    assert "indentation" not in message
    assert "fix: remove the tag" in message


def test_a_file_that_is_not_utf8_names_line_column_and_fix() -> None:
    message = _error("cases:\n  - id: café\n".encode("latin-1"))
    assert message.startswith("cases/x.yaml:2: not UTF-8: byte 0xe9 at line 2, column 12 (byte offset 18)")
    assert "fix: save the file as UTF-8" in message


def test_a_utf8_bom_is_fine() -> None:
    assert load_located(b"\xef\xbb\xbfa: 1\n", "x.yaml").data == {"a": 1}


def test_an_oversized_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("wb") as file:
        file.truncate(MAX_FILE_BYTES + 1)  # sparse: nothing is actually written
    with pytest.raises(CaseFileError) as caught:
        read_located(path, "cases/huge.yaml")
    assert str(caught.value).startswith("cases/huge.yaml:1: file is 5.0 MB; YAML files are limited to 5 MB")
    assert "fix: split it into several files" in str(caught.value)
    assert "limited to 5 MB" in _error("a: " + "x" * MAX_FILE_BYTES)


def test_an_oversized_file_is_refused_at_the_line_where_it_passes_the_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "huge.yaml"
    # Three short lines, then one string longer than the limit: the file passes the limit on line 4.
    with path.open("w", encoding="utf-8") as file:
        file.write("cases:\n  - id: big\n    input:\n      text: ")
        file.write("x" * (MAX_FILE_BYTES + 1024 * 1024))
    # Never read whole: only up to the limit, a megabyte at a time.
    monkeypatch.setattr(Path, "read_bytes", lambda self: pytest.fail("the whole file was read"))
    with pytest.raises(CaseFileError) as caught:
        read_located(path, "cases/huge.yaml")
    assert str(caught.value).startswith(
        "cases/huge.yaml:4: file is 6.0 MB; YAML files are limited to 5 MB, which this file passes at line 4"
    )
    text = "a: 1\n" * 3 + "b: " + "x" * MAX_FILE_BYTES
    assert _error(text).startswith("cases/x.yaml:4: file is 5.0 MB")
    assert _error(text.encode()).startswith("cases/x.yaml:4: file is 5.0 MB")


def test_control_characters_and_deep_nesting_are_errors_not_tracebacks() -> None:
    assert _error("a: 1\nb: \x00\n").startswith("cases/x.yaml:2: character U+0000 at line 2 is not allowed")
    assert _error("[" * 5000).startswith("cases/x.yaml:1: YAML syntax error")


def test_syntax_errors_keep_their_wording_and_lines() -> None:
    message = _error("cases:\n  - {id: x\n  - id: y\n")
    assert "that started at line 2" in message
    assert "fix: check indentation" in message
    assert _error("a: 1\na: 2\n").startswith("cases/x.yaml:2: YAML syntax error: duplicate key 'a' (first at line 1)")


@pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML built without libyaml")
def test_libyaml_parses_once_and_lines_are_kept() -> None:
    from harness._model import _yaml

    # One parse with the C parser (a 10,000-case file: 16 s with two pure-Python parses, 2 s now).
    assert issubclass(_yaml._Located, yaml.CSafeLoader)
    doc = load_located("cases:\n  - id: a\n\n  - id: b\n    input: {n: 1}\n", "x.yaml")
    assert doc.line_of(("cases", 1, "input", "n")) == 5
    assert doc.line_of(("cases", 1, "id")) == 4
