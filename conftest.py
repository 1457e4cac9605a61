"""Project conftest: deliberately thin. The harness is the ``harness`` plugin (pytest11 entry point).

The one project policy here: case files marked ``dataset`` (``cases/studycompanion/dataset.yaml``, 720 items)
run only when asked for, with ``--with-datasets`` or a ``-m`` expression naming ``dataset``. They would add
about 8 s to the case suite and, through the fault matrix, several minutes to the whole suite. Deselected,
not skipped: a default run does not list 720 skips, and users' own ``-m`` keeps working.
"""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--with-datasets",
        action="store_true",
        dest="with_datasets",
        help="also run the case files marked 'dataset' (deselected by default)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("with_datasets") or "dataset" in (config.getoption("markexpr") or ""):
        return
    dataset = [item for item in items if item.get_closest_marker("dataset") is not None]
    if dataset:
        config.hook.pytest_deselected(items=dataset)
        items[:] = [item for item in items if item.get_closest_marker("dataset") is None]
