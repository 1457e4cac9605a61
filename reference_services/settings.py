"""Configuration of one gateway instance (both services and their model client)."""

from __future__ import annotations

import base64
import binascii
import secrets
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from reference_services.faults import validate_faults

# Package data (course materials, question bank): found next to the code, so an installed wheel works too.
FIXTURES_DIR = Path(__file__).resolve().parent / "fixtures"
DEFAULT_MODEL_NAME = "reference-llm-1.0"
DEFAULT_ALLOWED_HOSTS = ("127.0.0.1", "localhost", "::1")


def generate_qa_token() -> str:
    """A random QA bearer token."""
    return "qa_" + secrets.token_urlsafe(24)


def generate_callback_secret() -> str:
    """A random Standard Webhooks secret, ``whsec_<base64 of 32 bytes>``."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


class Settings(BaseModel):
    """Everything one gateway instance needs; immutable, validated, no globals."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    qa_token: str = Field(min_length=1)
    callback_secret: str
    callback_allowed_hosts: frozenset[str] = frozenset(DEFAULT_ALLOWED_HOSTS)
    faults: frozenset[str] = frozenset()

    model_base_url: str = "http://127.0.0.1:8001/v1"
    model_api_key: str = "not-needed"
    model_name: str = DEFAULT_MODEL_NAME
    temperature: float = Field(default=0.2, ge=0.0, le=2.0)
    top_p: float = Field(default=0.9, gt=0.0, le=1.0)
    seed: int | None = 1234
    model_timeout_s: float = Field(default=30.0, gt=0)

    callback_timeout_s: float = Field(default=10.0, gt=0)
    callback_max_attempts: int = Field(default=5, ge=1, le=20)
    callback_backoff_initial_s: float = Field(default=0.2, ge=0)
    callback_backoff_max_s: float = Field(default=5.0, ge=0)

    conversation_max_turns: int = Field(default=10, ge=1)
    conversation_max_count: int = Field(default=1000, ge=1)
    retrieval_top_k: int = Field(default=4, ge=1, le=20)
    courses_dir: Path = FIXTURES_DIR / "courses"

    @field_validator("faults", mode="before")
    @classmethod
    def _known_faults(cls, value: object) -> frozenset[str]:
        return validate_faults(_names(value, "faults must be a list of fault names"))

    @field_validator("callback_allowed_hosts", mode="before")
    @classmethod
    def _hosts(cls, value: object) -> frozenset[str]:
        names = _names(value, "callback_allowed_hosts must be a list of host names")
        return frozenset(h.strip().lower().strip("[]") for h in names if h.strip())

    @field_validator("callback_secret")
    @classmethod
    def _whsec(cls, value: str) -> str:
        if not value.startswith("whsec_"):
            raise ValueError("callback_secret must look like 'whsec_<base64>'")
        try:
            raw = base64.b64decode(value.removeprefix("whsec_"), validate=True)
        except binascii.Error as exc:
            raise ValueError(f"callback_secret is not valid base64 after 'whsec_': {exc}") from None
        if len(raw) < 16:
            raise ValueError("callback_secret must hold at least 16 random bytes")
        return value

    @field_validator("model_base_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")


def _names(value: object, error: str) -> list[str]:
    """A list of names from a list or a comma-separated string (an environment variable)."""
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, (list, tuple, set, frozenset)):
        raise ValueError(error)
    return [str(v) for v in value]
