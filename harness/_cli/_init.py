"""``harness init``: a pytest config, a service spec and a first case file that passes on a healthy service.

The spec comes from a preset or from the service's OpenAPI document (``_openapi``); the case file holds one
happy-path case whose checks hold for any healthy service (some output text, no mojibake, QA and prod alike
in structure). Everything is validated with the harness's own loaders before a byte is written, and no
existing file is overwritten without ``--force``; an existing pytest configuration is never touched (what to
add to it is printed instead).
"""

from __future__ import annotations

import configparser
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness._cli._openapi import Draft, draft_from_openapi, read_document
from harness._errors import CaseFileError, HarnessError, HarnessUsageError
from harness._model._presets import PRESETS, expand_preset

CASES_DIR = "cases"
SPEC_FILE = "service.yaml"
CASE_FILE = "first.yaml"
CASE_ID = "first"

_STARTER_CHECKS: list[Any] = [{"regex": r"\S"}, "no_mojibake"]
_PRESET_INPUTS: dict[str, dict[str, Any]] = {
    "openai-chat": {
        "model": "model",
        "messages": [{"role": "user", "content": "Say hello in one short sentence."}],
        "temperature": 0,
        "seed": 1,
    },
    "langserve": {"question": "What can you do?"},
    "bentoml-task": {"question": "What can you do?"},
}
_PRESET_NOTES: dict[str, str] = {
    "openai-chat": "The input is the chat-completions request without 'stream': set model to one the service serves.",
    "langserve": "The input is the chain's input (sent as {input: ...}): see the route's /input_schema.",
    "bentoml-task": "The input is the api's JSON body: see the service's /docs.",
}


class FileExists(HarnessUsageError):
    """A file ``init`` would write is already there."""


@dataclass
class InitPlan:
    """What ``init`` will write (path -> text) and what it says about it."""

    files: dict[Path, str]
    messages: list[str] = field(default_factory=list)
    service: str = ""
    base_url: str | None = None
    wants_token: bool = False
    """An endpoint sends the QA token: ``harness try`` and pytest need it."""

    def next_steps(self, root: Path) -> str:
        """What to run next, with what is known filled in."""
        token = " --qa-token TOKEN" if self.wants_token else ""
        case = root / CASES_DIR / self.service / f"{CASE_FILE}::{CASE_ID}"
        run = "pytest" + (f" {root}" if str(root) != "." else "") + (" --harness-qa-token TOKEN" if token else "")
        return f"next: harness try --base-url {self.base_url or 'URL'}{token} --case {case}\nthen: {run}"


def plan_init(
    root: Path,
    *,
    service: str | None = None,
    preset: str | None = None,
    openapi: str | None = None,
    base_url: str | None = None,
) -> InitPlan:
    """The files ``init`` writes under ``root``, validated; ``HarnessError`` when the source cannot be used."""
    if (preset is None) == (openapi is None):
        raise HarnessUsageError(
            "give one of --preset NAME (" + ", ".join(sorted(PRESETS)) + ") or --openapi URL_OR_FILE"
        )
    messages: list[str] = []
    if preset is not None:
        draft = _preset_draft(preset)
        name = service or "my-service"
    else:
        assert openapi is not None
        document, fetched_from = read_document(openapi)
        draft = draft_from_openapi(document, openapi, service)
        name = service or _slug(str((document.get("info") or {}).get("title", ""))) or "my-service"
        if base_url is None and (draft.base_url or fetched_from):
            base_url = draft.base_url or fetched_from
            messages.append(f"base_url {base_url}: where the OpenAPI document was served")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name):
        raise HarnessUsageError(f"--service {name!r}: use letters, digits, '-', '_' or '.' (it names a folder)")
    folder = root / CASES_DIR / name
    wants_token = any(
        isinstance(draft.spec.get(side), dict) and draft.spec[side].get("auth") == "qa_token" for side in ("qa", "prod")
    )
    spec_text = render_spec(name, draft, base_url, wants_token)
    case_text = render_case_file(draft.input)
    _validate(spec_text, case_text, f"{CASES_DIR}/{name}")
    files = {folder / SPEC_FILE: spec_text, folder / CASE_FILE: case_text}
    config = existing_pytest_config(root)
    if config is None:
        files[root / "pytest.ini"] = render_pytest_ini(base_url)
    else:
        messages.append(f"{config.name} already configures pytest; add to it:\n{_config_lines(config, base_url)}")
    if base_url is None:
        messages.append("no base URL: run pytest --base-url URL (or add base_url = URL to the pytest config)")
    return InitPlan(files, messages, name, base_url, wants_token)


def write_plan(plan: InitPlan, *, force: bool) -> list[Path]:
    """Write the plan's files; ``FileExists`` naming the first existing one unless ``force``."""
    if not force:
        for path in plan.files:
            if path.exists():
                raise FileExists(f"{path} exists; not overwriting it (pass --force to replace it)")
    written: list[Path] = []
    for path, text in plan.files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


# ---------------------------------------------------------------- sources


def _preset_draft(text: str) -> Draft:
    """A preset written as on the command line: ``openai-chat`` or YAML such as ``{langserve: /chat}``."""
    import yaml

    try:
        preset: Any = yaml.safe_load(text) if text.lstrip().startswith("{") else text
    except yaml.YAMLError as exc:
        raise HarnessUsageError(f"--preset {text!r} is not YAML: {exc}") from None
    try:
        expand_preset(preset)
    except ValueError as exc:
        raise HarnessUsageError(f"--preset {text}: {exc} (an argument is written '{{langserve: /chat}}')") from None
    name = preset if isinstance(preset, str) else next(iter(preset))
    return Draft({"preset": preset}, [_PRESET_NOTES[name]], dict(_PRESET_INPUTS[name]))


def _slug(title: str) -> str:
    """A folder name from a document title."""
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:40]


# ---------------------------------------------------------------- rendering


def render_spec(service: str, draft: Draft, base_url: str | None = None, wants_token: bool = False) -> str:
    """service.yaml: the notes as comments, then the spec."""
    token = " --qa-token TOKEN" if wants_token else ""
    lines = [
        "# Written by harness init. See what each pointer finds with:",
        f"#   harness try --base-url {base_url or 'URL'}{token} --case {_case_ref(service)}",
    ]
    lines += [f"# {line}" for note in draft.notes for line in _wrap(note)]
    body = {"service": service, **draft.spec}
    return "\n".join(lines) + "\n" + _dump(body)


def render_case_file(case_input: dict[str, Any]) -> str:
    """first.yaml: one happy-path case with checks any healthy service passes."""
    header = (
        "# A first case, written by harness init: both endpoints must answer this input with some text\n"
        "# (regex \\S), without mojibake, and the two answers must have the same structure.\n"
        "# Add checks that say what a right answer is: contains, icontains, regex, json_schema, ...\n"
    )
    document = {
        "defaults": {"checks": _STARTER_CHECKS, "parity": "structural"},
        "cases": [{"id": CASE_ID, "input": case_input}],
    }
    return header + _dump(document)


def render_pytest_ini(base_url: str | None) -> str:
    """pytest.ini: the case folder, and the service's URL (pytest-base-url's ``base_url``) if known."""
    lines = ["[pytest]", f"testpaths = {CASES_DIR}"]
    if base_url:
        lines.append(f"base_url = {base_url}")
    return "\n".join(lines) + "\n"


def _dump(data: Any) -> str:
    """YAML in the order written, block style, Unicode as is."""
    import yaml

    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=110)


def _wrap(text: str, width: int = 108) -> list[str]:
    """A note cut into comment-sized lines."""
    import textwrap

    return textwrap.wrap(text, width) or [""]


def _case_ref(service: str) -> str:
    """The starter case as ``--case`` takes it."""
    return f"{CASES_DIR}/{service}/{CASE_FILE}::{CASE_ID}"


def _validate(spec_text: str, case_text: str, folder: str) -> None:
    """Both files read by the harness's own loaders; a failure here is init's bug, said as such."""
    import tempfile

    from harness._model._case import parse_case_file, resolve_cases
    from harness._model._spec import parse_service_spec

    with tempfile.TemporaryDirectory() as scratch:
        spec_path, case_path = Path(scratch, SPEC_FILE), Path(scratch, CASE_FILE)
        spec_path.write_text(spec_text, encoding="utf-8")
        case_path.write_text(case_text, encoding="utf-8")
        try:
            spec = parse_service_spec(spec_path, f"{folder}/{SPEC_FILE}")
            parsed, doc = parse_case_file(case_path, f"{folder}/{CASE_FILE}")
            resolve_cases(parsed, doc, spec.service)
        except CaseFileError as exc:
            raise HarnessError(
                f"harness init drafted a file the harness cannot load (a bug; please report it): {exc}"
            ) from None


# ---------------------------------------------------------------- an existing pytest configuration


def existing_pytest_config(root: Path) -> Path | None:
    """The file that already configures pytest in ``root``, as pytest looks for it, or None."""
    ini = root / "pytest.ini"
    if ini.is_file():
        return ini
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            data = {}
        if "ini_options" in data.get("tool", {}).get("pytest", {}):
            return pyproject
    for name, section in (("tox.ini", "pytest"), ("setup.cfg", "tool:pytest")):
        path = root / name
        if path.is_file():
            parser = configparser.ConfigParser(interpolation=None)
            try:
                parser.read(path, encoding="utf-8")
            except (configparser.Error, UnicodeDecodeError):
                continue
            if parser.has_section(section):
                return path
    return None


def _config_lines(config: Path, base_url: str | None) -> str:
    """What to add to an existing pytest configuration, indented for printing."""
    if config.name == "pyproject.toml":
        lines = ["[tool.pytest.ini_options]", f'testpaths = ["{CASES_DIR}"]  # or add "{CASES_DIR}" to yours']
        if base_url:
            lines.append(f'base_url = "{base_url}"')
    else:
        section = "[tool:pytest]" if config.name == "setup.cfg" else "[pytest]"
        lines = [section, f"testpaths = {CASES_DIR}  # or add {CASES_DIR} to yours"]
        if base_url:
            lines.append(f"base_url = {base_url}")
    return "\n".join("  " + line for line in lines)
