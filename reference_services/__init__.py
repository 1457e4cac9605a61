"""Reference services for qa-harness: examgenerator and studycompanion behind one gateway, plus a model.

``create_app(settings)`` builds the gateway; ``start_stack()`` runs gateway and embedded model in-process.
"""

from __future__ import annotations

from reference_services.faults import FAULTS, UnknownFaultError
from reference_services.gateway import create_app
from reference_services.inprocess import RunningStack, start_stack
from reference_services.settings import Settings

__all__ = ["FAULTS", "RunningStack", "Settings", "UnknownFaultError", "create_app", "start_stack"]
