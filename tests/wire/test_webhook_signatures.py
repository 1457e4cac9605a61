"""The HMAC-of-the-body signature scheme against deliveries signed by githubkit (GitHub's own scheme)."""

from __future__ import annotations

import json

import pytest

from harness._delivery._signatures import HmacBodySignature
from tests.support.replay_server import TRANSCRIPTS

GITHUB = json.loads((TRANSCRIPTS / "webhook_github_delivery_ok.json").read_text(encoding="utf-8"))["signature"]


def scheme(secret: str = GITHUB["secret"]) -> HmacBodySignature:
    return HmacBodySignature(secret=secret, header="X-Hub-Signature-256", prefix="sha256=", encoding="hex")


def delivery(name: str) -> tuple[dict[str, str], bytes]:
    meta = json.loads((TRANSCRIPTS / f"{name}.json").read_text(encoding="utf-8"))
    body = (TRANSCRIPTS / meta["request"]["body_file"]).read_bytes()
    return {k.lower(): v for k, v in meta["request"]["headers"].items()}, body


def test_githubs_documented_test_vector() -> None:
    vector = GITHUB["test_vector"]
    assert scheme(vector["secret"]).expected(vector["body"].encode()) == vector["signature"]


@pytest.mark.parametrize(
    ("name", "verdict"),
    [
        ("webhook_github_delivery_ok", "ok"),
        ("webhook_github_delivery_tampered", "bad_signature"),
        ("webhook_github_delivery_wrong_secret", "bad_signature"),
        ("webhook_github_delivery_unsigned", "unsigned"),
    ],
)
def test_captured_github_deliveries(name: str, verdict: str) -> None:
    headers, body = delivery(name)
    assert scheme().verify(headers, body)[0] == verdict


def test_base64_encoding_and_no_prefix() -> None:
    headers, body = delivery("webhook_github_delivery_ok")
    b64 = HmacBodySignature(secret=GITHUB["secret"], header="X-Signature", encoding="base64")
    assert b64.verify({"x-signature": b64.expected(body)}, body) == ("ok", "signature valid")
    assert b64.verify({"x-signature": headers["x-hub-signature-256"]}, body)[0] == "bad_signature"
