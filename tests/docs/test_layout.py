"""The layout in docs/explanation/design.md names every module of the package, so it cannot go stale unseen."""

from __future__ import annotations

from tests.support.docs import DOCS, ROOT


def test_the_layout_names_every_module() -> None:
    layout = (DOCS / "explanation" / "design.md").read_text("utf-8").split("## Layout", 1)[1]
    modules = [path for path in (ROOT / "harness").rglob("*.py") if path.stem != "__init__"]
    assert len(modules) > 40
    unnamed = sorted(str(p.relative_to(ROOT)) for p in modules if p.stem not in layout)
    assert not unnamed, f"docs/explanation/design.md's layout does not name {unnamed}"
