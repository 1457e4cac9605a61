"""Secret masking for transcripts, request records and reports."""

from __future__ import annotations

from harness._report.masking import MASK, redact, redact_headers, redact_text


def test_authorization_keeps_its_scheme() -> None:
    masked = redact_headers({"Authorization": "Bearer abc.def", "proxy-authorization": "Basic dXNlcjpwdw=="})
    assert masked == {"Authorization": "Bearer ***", "proxy-authorization": "Basic ***"}


def test_credential_headers_are_masked_whatever_their_value() -> None:
    masked = redact_headers({"Cookie": "session=1", "X-Api-Key": "k", "Content-Type": "application/json"})
    assert masked == {"Cookie": MASK, "X-Api-Key": MASK, "Content-Type": "application/json"}


def test_known_secret_values_are_masked_anywhere() -> None:
    secret = "s3cr3t-token"
    headers = redact_headers({"X-Debug": f"token={secret}"}, [secret])
    assert headers == {"X-Debug": f"token={MASK}"}
    assert redact_text(f"curl -H 'Authorization: Bearer {secret}'", [secret]) == (
        f"curl -H 'Authorization: Bearer {MASK}'"
    )


def test_webhook_secret_is_masked_with_and_without_prefix() -> None:
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    text = f"secret {secret} raw MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    assert redact_text(text, [secret]) == f"secret {MASK} raw {MASK}"


def test_short_secrets_are_not_masked_in_free_text() -> None:
    # Masking every "T" would make transcripts unreadable; the header rule still hides the token.
    assert redact_text("Test Text", ["T"]) == "Test Text"
    assert redact_headers({"Authorization": "Bearer T"}, ["T"]) == {"Authorization": "Bearer ***"}


def test_url_passwords_are_masked() -> None:
    assert redact_text("see https://user:hunter22@example.com/x") == f"see https://user:{MASK}@example.com/x"


def test_nested_values_and_secret_keys() -> None:
    secret = "abcd-1234"
    value = {"password": "pw", "tokens": 12, "list": [f"x{secret}x", {"api_key": "k"}], "n": None}
    assert redact(value, [secret]) == {
        "password": MASK,
        "tokens": 12,
        "list": [f"x{MASK}x", {"api_key": MASK}],
        "n": None,
    }
    assert value["password"] == "pw"  # the original is not modified


def test_longer_secret_is_masked_whole_when_it_contains_a_shorter_one() -> None:
    assert redact_text("key=abcdefgh", ["abcd", "abcdefgh"]) == f"key={MASK}"


def test_a_secret_is_masked_in_the_forms_a_service_echoes_it_in() -> None:
    import base64
    import json
    import urllib.parse

    secret = 'qa?tok S3CRET/9+z="é'
    forms = [
        urllib.parse.quote(secret, safe=""),
        urllib.parse.quote(secret),
        urllib.parse.quote_plus(secret),
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        base64.b64encode(secret.encode()).decode(),
        base64.urlsafe_b64encode(secret.encode()).decode(),
    ]
    assert len(set(forms)) == len(forms)  # each form is a different string: none is masked by another's rule
    for form in forms:
        masked = redact_text(f"debug: sent {form} back", [secret])
        assert masked.startswith(f"debug: sent {MASK}"), form
        assert form.rstrip("=") not in masked
