"""JSON pointers per RFC 6901, read tolerantly."""

from __future__ import annotations

from typing import Any

import pytest

from harness._model._pointer import parse_pointer, resolve_pointer

# The example document of RFC 6901 section 5.
RFC_DOC = {"foo": ["bar", "baz"], "": 0, "a/b": 1, "c%d": 2, "e^f": 3, "g|h": 4, "i\\j": 5, 'k"l': 6, " ": 7, "m~n": 8}


@pytest.mark.parametrize(
    ("pointer", "expected"),
    [
        ("", RFC_DOC),
        ("/foo", ["bar", "baz"]),
        ("/foo/0", "bar"),
        ("/", 0),
        ("/a~1b", 1),
        ("/c%d", 2),
        ("/e^f", 3),
        ("/g|h", 4),
        ("/i\\j", 5),
        ('/k"l', 6),
        ("/ ", 7),
        ("/m~0n", 8),
    ],
)
def test_rfc_6901_examples(pointer: str, expected: Any) -> None:
    assert resolve_pointer(RFC_DOC, pointer) == expected


@pytest.mark.parametrize(
    "pointer",
    ["/missing", "/foo/2", "/foo/-", "/foo/01", "/foo/-1", "/foo/x", "/foo/0/deeper", "/foo/1e0", "/foo/٣"],
)
def test_missing_values_are_none(pointer: str) -> None:
    assert resolve_pointer(RFC_DOC, pointer) is None


def test_none_and_scalars_have_nothing_inside() -> None:
    assert resolve_pointer(None, "/a") is None
    assert resolve_pointer("text", "/0") is None
    assert resolve_pointer({"a": None}, "/a") is None


def test_unescape_order_is_tilde_one_first() -> None:
    # "~01" is "~1" literally, not "/": ~1 must be replaced before ~0.
    assert parse_pointer("/~01") == ["~1"]
    assert resolve_pointer({"~1": "x", "/": "y"}, "/~01") == "x"


@pytest.mark.parametrize("pointer", ["text", "a/b", "/bad~2escape", "/trailing~"])
def test_malformed_pointer_raises_with_fix(pointer: str) -> None:
    with pytest.raises(ValueError, match="not a JSON pointer"):
        resolve_pointer({}, pointer)


def test_missing_slash_suggests_the_fix() -> None:
    with pytest.raises(ValueError, match="try '/text'"):
        parse_pointer("text")
