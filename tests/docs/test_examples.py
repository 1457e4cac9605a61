"""Every YAML example in the docs parses, and every case-file example validates as a case file."""

from __future__ import annotations

import pytest
import yaml

from harness._model._case import CaseFile
from tests.support.docs import DOCS, blocks_of

PAGES = sorted(path for path in DOCS.rglob("*.md"))


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(DOCS)) for p in PAGES])
def test_yaml_examples_parse_and_case_files_validate(page) -> None:
    for block in blocks_of(page.read_text(encoding="utf-8")):
        if block.language != "yaml":
            continue
        where = f"{page.relative_to(DOCS)}:{block.line}"
        try:
            data = yaml.safe_load(block.text)
        except yaml.YAMLError as exc:
            pytest.fail(f"{where}: the YAML example does not parse: {exc}")
        if isinstance(data, dict) and "cases" in data:
            CaseFile.model_validate(data)  # a ValidationError names the key
