"""pytest glue for the Python API: the ``harness_target``, ``reference_services`` and ``harness_deliver`` fixtures.

Registered by ``harness.plugin`` (``pytest_plugins``). Everything comes from the process's
``HarnessSession``, so fixtures and case items share one target, runner and callback receiver, and an xdist
worker starts nothing a case item would not: a test never gets a stack of its own. The engine is
``harness._run._api``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

import pytest

from harness._errors import HarnessError
from harness.plugin._items import session_key

if TYPE_CHECKING:
    # Only for annotations: this module loads with the plugin in every pytest run, the engine when a test asks.
    from harness._delivery._outcome import Outcome
    from harness._model._spec import ServiceSpec
    from harness._run._api import Deliverer
    from harness._run._session import HarnessSession
    from harness._run._target import Target

FAULTS_MARKER = "reference_faults"
T = TypeVar("T")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{FAULTS_MARKER}(*faults): the reference_services (and harness_deliver) of this test run with these "
        "faults; one in-process stack per distinct fault set, shared by the tests that ask for it",
    )


def _or_fail(start: Callable[[], T]) -> T:
    # A target that cannot start or a bad fault name is one clear message, never a traceback.
    try:
        return start()
    except HarnessError as exc:
        pytest.fail(str(exc), pytrace=False)


def _marked_faults(node: pytest.Item) -> tuple[str, ...] | None:
    marker = node.get_closest_marker(FAULTS_MARKER)
    if marker is None:
        return None
    return tuple(fault.strip() for arg in marker.args for fault in str(arg).split(",") if fault.strip())


@pytest.fixture(scope="session")
def harness_target(pytestconfig: pytest.Config) -> Target:
    """What this run targets: ``--base-url`` with ``--harness-qa-token`` and ``--harness-callback-secret``, or
    the in-process reference services (base URL, QA token, callback secret, model URL) the case items use."""
    return _or_fail(pytestconfig.stash[session_key].targets.target)


@pytest.fixture
def reference_services(request: pytest.FixtureRequest) -> Target:
    """The in-process reference services, whatever the run targets.

    Faults come from the test's ``@pytest.mark.reference_faults(...)``, else ``--reference-faults``. Tests
    asking for the same fault set share one stack (the run's own when the set is the run's), started on first
    use and stopped at the end of the session.
    """
    session = request.config.stash[session_key]
    return _or_fail(lambda: session.targets.reference_services(_marked_faults(request.node)))


@pytest.fixture
def harness_deliver(request: pytest.FixtureRequest) -> Deliverer:
    """Send one input to a service's ``qa`` or ``prod`` endpoint, as a case file would, and get the ``Outcome``.

    ``harness_deliver("examgenerator", "prod", {...})`` from sync tests, ``await harness_deliver.adeliver(...)``
    from asyncio tests. Requests go to ``harness_target`` (to the marked stack when the test carries
    ``reference_faults``) through the run's adapters and callback receiver; services are named as in case
    files. Each delivery is reported like a case item's (``pytest_harness_record``: allure steps and
    attachments).
    """
    from harness._run._api import Deliverer

    session: HarnessSession = request.config.stash[session_key]
    node = request.node
    faults = _marked_faults(node)
    runner = _or_fail(session.get_runner)
    targets = session.targets
    target = _or_fail(lambda: targets.reference_services(faults) if faults is not None else targets.target())

    def record(spec: ServiceSpec, outcome: Outcome) -> None:
        from harness._report.records import delivery_record, item_header  # lazy, like the items

        path, line, _ = node.location
        header = item_header(node.nodeid, node.name, path, (line or 0) + 1, spec.service, outcome.endpoint)
        request.config.hook.pytest_harness_record(item=node, record=delivery_record(header, outcome))

    catalog = session.catalog
    return Deliverer(runner, target, spec_roots=catalog.case_roots, load_spec=catalog.spec_at, on_outcome=record)
