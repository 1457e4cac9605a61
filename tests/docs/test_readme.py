"""The README is the front door: short, its quick start is what CI runs, its links and examples hold."""

from __future__ import annotations

import re
import shlex
import tomllib

import yaml

from harness._model._case import CaseFile
from harness._model._spec import ServiceSpec
from tests.support.docs import ROOT, blocks_of

README = ROOT / "README.md"
TEXT = README.read_text(encoding="utf-8")
SELF_TEST_LABEL = "the project's own test suite"


def _section(title: str) -> str:
    return TEXT.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_the_readme_is_a_few_screens() -> None:
    assert len(TEXT.splitlines()) <= 200, "README.md is the front door: move reference material into docs/"


def test_ci_runs_the_readmes_self_test_command() -> None:
    (quick_start,) = [b for b in blocks_of(_section("Quick start")) if b.language == "bash"]
    labelled = [line.split("#")[0].strip() for line in quick_start.text.splitlines() if SELF_TEST_LABEL in line]
    assert len(labelled) == 1, f"the quick start labels one command '# {SELF_TEST_LABEL}'"
    steps = re.findall(r'^step "[^"]+" (.+)$', (ROOT / ".ci" / "run").read_text(encoding="utf-8"), re.MULTILINE)
    assert shlex.split(steps[-1]) == shlex.split(labelled[0]), ".ci/run's last step must be the README's test command"


def test_every_relative_link_of_the_readme_exists() -> None:
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", TEXT)
    relative = [link for link in links if not re.match(r"[a-z]+:", link)]
    assert len(relative) >= 30
    missing = [link for link in relative if not (ROOT / link).exists()]
    assert not missing, f"README.md links to files that do not exist: {missing}"


def test_the_readmes_examples_validate() -> None:
    examples = [yaml.safe_load(b.text) for b in blocks_of(TEXT) if b.language == "yaml"]
    specs = [e for e in examples if "service" in e]
    case_files = [e for e in examples if "cases" in e]
    for spec in specs:
        ServiceSpec.model_validate(spec)
    for case_file in case_files:
        CaseFile.model_validate(case_file)
    assert (len(specs), len(case_files)) == (2, 2)


def test_every_dependency_says_why() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = [re.split(r"[<>=!~\[ ;]", req, maxsplit=1)[0] for req in project["dependencies"]]
    names += [re.split(r"[<>=!~\[ ;]", req, maxsplit=1)[0] for req in project["optional-dependencies"]["dev"]]
    why = {
        "README.md": _section("Why each dependency").casefold(),
        "docs/explanation/dependencies.md": (ROOT / "docs/explanation/dependencies.md").read_text("utf-8").casefold(),
    }
    for where, text in why.items():
        unexplained = [name for name in names if name.casefold() not in text]
        assert not unexplained, f"{where}: say why each dependency is there; missing {unexplained}"
