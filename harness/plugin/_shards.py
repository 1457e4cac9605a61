"""pytest-split glue: a case's qa, prod and parity items land on one shard, so no case runs on two machines.

pytest-split (``--splits N --group I``) partitions items by recorded duration and knows nothing of cases.
Just before it runs, :class:`WholeCasesOnShards` shows it only the first item of each case (whose duration,
the wait for the case's result, stands for the case); just after, it puts each case's other items back beside
their first item on the shard that got it, and deselects them on every other shard. Every shard applies the
same rule to the same collection, so each case runs on exactly one.
"""

from __future__ import annotations

from collections.abc import Generator

import pytest

from harness.plugin._items import CaseItem


def splits_into_shards(config: pytest.Config) -> bool:
    """Whether pytest-split is installed and asked to split (``--splits`` and ``--group``)."""
    return bool(getattr(config.option, "splits", None) and getattr(config.option, "group", None))


class WholeCasesOnShards:
    """Registered before pytest-split's plugin, so its trylast hook runs just before pytest-split's."""

    def __init__(self) -> None:
        self.before: list[pytest.Item] = []
        self.first_of: dict[str, pytest.Item] = {}

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        self.before = list(items)
        shown = []
        for item in items:
            if isinstance(item, CaseItem):
                if item.case.key in self.first_of:
                    continue  # hidden from the split; follows its first item
                self.first_of[item.case.key] = item
            shown.append(item)
        items[:] = shown

    # A second implementation of the same hook in this plugin: pytest reads only "pytest_"-prefixed names.
    @pytest.hookimpl(wrapper=True, specname="pytest_collection_modifyitems")
    def pytest_collection_modifyitems_restore(
        self, config: pytest.Config, items: list[pytest.Item]
    ) -> Generator[None, None, None]:
        yield
        if not self.first_of:
            return None
        selected = set(items)
        kept: list[pytest.Item] = []
        dropped: list[pytest.Item] = []
        for item in self.before:
            first = self.first_of[item.case.key] if isinstance(item, CaseItem) else item
            if first in selected:
                kept.append(item)
            elif first is not item:
                dropped.append(item)  # the split deselected (and reported) only the first item
        items[:] = kept
        if dropped:
            config.hook.pytest_deselected(items=dropped)
        return None
