"""The two entryways of every service, and what they report as the model version."""

from __future__ import annotations

from typing import Literal

from reference_services.faults import FaultSet

Channel = Literal["prod", "qa"]


def reported_model_version(model_name: str, faults: FaultSet, channel: Channel) -> str:
    """The ``model_version`` a response carries (the ``model_version_skew`` fault makes prod lag behind)."""
    if channel == "prod" and faults.on("model_version_skew"):
        return f"{model_name}-previous"
    return model_name
