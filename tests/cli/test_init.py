"""``harness init``: what it writes loads with the harness's own loaders and passes against the real service."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from harness.__main__ import main
from harness._cli._init import existing_pytest_config
from harness._cli._openapi import draft_from_openapi
from harness._model._case import parse_case_file, resolve_cases
from harness._model._spec import parse_service_spec
from harness._run._options import resolve_settings
from reference_services.inprocess import RunningStack
from tests.cli.conftest import run_suite
from tests.cli.summaries_app import QA_TOKEN, SummariesService


def _init(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["init", *args])
    out, err = capsys.readouterr()
    return code, out, err


def _load(project: Path, service: str) -> None:
    """Both files through the loaders a test run uses; raises on anything they reject."""
    folder = project / "cases" / service
    spec = parse_service_spec(folder / "service.yaml", "service.yaml")
    parsed, doc = parse_case_file(folder / "first.yaml", "first.yaml")
    assert [case.id for case in resolve_cases(parsed, doc, spec.service)] == ["first"]


def _passed(result: object) -> None:
    stdout = getattr(result, "stdout", "")
    assert getattr(result, "returncode", None) == 0, stdout[-4000:] + getattr(result, "stderr", "")[-2000:]
    assert "3 passed" in stdout, stdout[-4000:]


def test_from_preset_the_suite_passes_against_an_openai_compatible_server(
    tmp_path: Path, stack: RunningStack, capsys: pytest.CaptureFixture[str]
) -> None:
    model_root = stack.model_base_url.removesuffix("/v1")
    code, out, err = _init(
        capsys, str(tmp_path), "--preset", "openai-chat", "--service", "tutor", "--base-url", model_root
    )
    assert code == 0, err
    assert (tmp_path / "cases/tutor/service.yaml").read_text().endswith("service: tutor\npreset: openai-chat\n")
    assert (tmp_path / "pytest.ini").read_text() == f"[pytest]\ntestpaths = cases\nbase_url = {model_root}\n"
    assert f"harness try --base-url {model_root} --case {tmp_path}/cases/tutor/first.yaml::first" in out
    _load(tmp_path, "tutor")
    # The base URL comes only from pytest.ini: nothing on the command line.
    _passed(run_suite(tmp_path))


def test_from_the_reference_gateways_openapi_url_sync_qa_and_callback_prod(
    tmp_path: Path, stack: RunningStack, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _init(
        capsys, str(tmp_path), "--openapi", f"{stack.base_url}/openapi.json", "--service", "examgenerator"
    )
    assert code == 0, err
    spec = parse_service_spec(tmp_path / "cases/examgenerator/service.yaml", "service.yaml")
    assert (spec.qa.path, spec.qa.delivery, spec.qa.auth) == ("/examgenerator/create/qa", "sync", "qa_token")
    assert (spec.prod.path, spec.prod.delivery) == ("/examgenerator/create", "callback")
    assert spec.prod.callback.url_header == "Callback-Url"
    # The guesses the document could not settle are said in the file, with what to do.
    text = (tmp_path / "cases/examgenerator/service.yaml").read_text()
    assert "# qa.output.text: /text is a guess" in text
    assert f"base_url = {stack.base_url}" in (tmp_path / "pytest.ini").read_text()
    _load(tmp_path, "examgenerator")
    _passed(
        run_suite(tmp_path, "--harness-qa-token", stack.qa_token, "--harness-callback-secret", stack.callback_secret)
    )


def test_from_an_openapi_file_of_a_fastapi_service_sse_prod(
    tmp_path: Path, summaries: SummariesService, capsys: pytest.CaptureFixture[str]
) -> None:
    document = tmp_path / "openapi.json"
    document.write_text(httpx.get(f"{summaries.base_url}/openapi.json", timeout=10).text)
    code, out, err = _init(capsys, str(tmp_path), "--openapi", str(document), "--base-url", summaries.base_url)
    assert code == 0, err
    assert "--qa-token TOKEN" in out  # the QA operation declares bearer security
    spec = parse_service_spec(tmp_path / "cases/summaries/service.yaml", "service.yaml")
    assert (spec.qa.path, spec.qa.auth, spec.qa.output.text) == ("/summaries/qa", "qa_token", "/summary")
    assert (spec.qa.output.sources, spec.qa.output.metadata) == ("/sources", {"model_version": "/model_version"})
    assert (spec.prod.path, spec.prod.delivery, spec.prod.output.sources) == ("/summaries/stream", "sse", "/sources")
    parsed, _ = parse_case_file(tmp_path / "cases/summaries/first.yaml", "first.yaml")
    # The input comes from the request schema: its example, and the smallest value the bounds allow.
    assert parsed.cases[0].input == {
        "document": "Mitochondria make ATP. They are the powerhouse of the cell and have their own DNA.",
        "max_words": 1,
    }
    _passed(run_suite(tmp_path, "--harness-qa-token", QA_TOKEN))


def test_from_an_openapi_url_the_base_url_is_where_it_was_served(
    tmp_path: Path, summaries: SummariesService, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _init(capsys, str(tmp_path), "--openapi", f"{summaries.base_url}/openapi.json")
    assert code == 0, err
    assert f"base_url {summaries.base_url}: where the OpenAPI document was served" in out
    assert (tmp_path / "pytest.ini").read_text().splitlines()[-1] == f"base_url = {summaries.base_url}"
    _load(tmp_path, "summaries")  # the service is named after the document's title


def test_refuses_to_overwrite_and_force_replaces(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _init(capsys, str(tmp_path), "--preset", "openai-chat")[0] == 0
    case_file = tmp_path / "cases/my-service/first.yaml"
    case_file.write_text("# mine\ncases: []\n")
    code, _, err = _init(capsys, str(tmp_path), "--preset", "{langserve: /chat}")
    assert code == 2
    assert err.count("\n") == 1
    assert "Traceback" not in err
    assert f"{tmp_path}/cases/my-service/service.yaml exists" in err
    assert "--force" in err
    assert case_file.read_text() == "# mine\ncases: []\n"
    code, _out, err = _init(capsys, str(tmp_path), "--preset", "{langserve: /chat}", "--force")
    assert code == 0, err
    assert "preset:\n  langserve: /chat\n" in (tmp_path / "cases/my-service/service.yaml").read_text()
    _load(tmp_path, "my-service")


def test_an_existing_pytest_config_is_left_alone_and_the_lines_to_add_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\nname = "x"\n\n[tool.pytest.ini_options]\naddopts = "-ra"\n')
    code, out, err = _init(capsys, str(tmp_path), "--preset", "openai-chat", "--base-url", "http://svc:8000")
    assert code == 0, err
    assert not (tmp_path / "pytest.ini").exists()
    assert pyproject.read_text().endswith('addopts = "-ra"\n')
    assert "pyproject.toml already configures pytest; add to it:" in out
    assert 'base_url = "http://svc:8000"' in out


@pytest.mark.parametrize(
    ("name", "text", "found"),
    [
        ("pytest.ini", "[pytest]\n", True),
        ("tox.ini", "[tox]\nenvlist = py\n\n[pytest]\naddopts = -q\n", True),
        ("tox.ini", "[tox]\nenvlist = py\n", False),
        ("setup.cfg", "[tool:pytest]\naddopts = -q\n", True),
        ("setup.cfg", "[metadata]\nname = x\n", False),
        ("pyproject.toml", '[project]\nname = "x"\n', False),
    ],
)
def test_which_files_count_as_a_pytest_config(tmp_path: Path, name: str, text: str, found: bool) -> None:
    (tmp_path / name).write_text(text)
    assert (existing_pytest_config(tmp_path) is not None) is found


@pytest.mark.parametrize(
    ("args", "says"),
    [
        ([], "give one of --preset NAME"),
        (["--preset", "nope"], "unknown preset 'nope'"),
        (["--preset", "langserve"], "needs an argument"),
        (["--openapi", "missing.json"], "cannot read the OpenAPI document missing.json"),
        (["--preset", "openai-chat", "--service", "a/b"], "--service 'a/b'"),
    ],
)
def test_bad_arguments_are_one_line_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, args: list[str], says: str
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = _init(capsys, *args)
    assert code in (1, 2)
    assert says in err
    assert err.count("\n") == 1
    assert "Traceback" not in err
    assert not (tmp_path / "cases").exists()


def test_an_unreachable_openapi_url_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _init(capsys, str(tmp_path), "--openapi", "http://127.0.0.1:9/openapi.json")
    assert code == 1
    assert err.startswith("harness init: cannot fetch the OpenAPI document http://127.0.0.1:9/openapi.json")
    assert err.count("\n") == 1


# ---------------------------------------------------------------- the guesses, on documents written here


def _document(paths: dict[str, object], schemas: dict[str, object] | None = None) -> dict[str, object]:
    return {"openapi": "3.1.0", "info": {"title": "T"}, "paths": paths, "components": {"schemas": schemas or {}}}


def _post(body: object, responses: dict[str, object] | None = None, **extra: object) -> dict[str, object]:
    return {
        "post": {
            "requestBody": {"content": {"application/json": {"schema": body}}},
            "responses": responses or {"200": {"description": "ok"}},
            **extra,
        }
    }


def test_the_production_path_closest_to_qa_is_chosen_and_the_others_named() -> None:
    body = {"type": "object", "required": ["q"], "properties": {"q": {"type": "string"}}}
    document = _document(
        {
            "/other/create": _post(body),
            "/ask/qa": _post(body),
            "/ask/stream": _post(body),
            "/ask": _post(body, {"202": {"description": "accepted"}}),
        }
    )
    draft = draft_from_openapi(document, "doc", None)
    assert draft.spec["qa"]["path"] == "/ask/qa"
    assert draft.spec["prod"]["path"] == "/ask"  # the QA path without its qa segment
    assert draft.spec["prod"]["delivery"] == "callback"  # 202: accepted now, delivered later
    assert any("/other/create, /ask/stream" in note for note in draft.notes)


def test_a_callback_url_in_the_body_and_a_conversation_id_are_recognised() -> None:
    body = {
        "type": "object",
        "required": ["webhook_url", "session_id", "text"],
        "properties": {
            "webhook_url": {"type": "string"},
            "session_id": {"type": "string"},
            "text": {"type": "string", "minLength": 6, "maxLength": 8},
            "n": {"type": "integer", "exclusiveMinimum": 4},
        },
    }
    ack = {"202": {"content": {"application/json": {"schema": {"properties": {"job_id": {"type": "string"}}}}}}}
    draft = draft_from_openapi(_document({"/jobs/qa": _post(body), "/jobs": _post(body, ack)}), "doc", None)
    callback = draft.spec["prod"]["callback"]
    assert callback == {"url_header": None, "url_pointer": "/webhook_url", "ack_id": "/job_id"}
    assert draft.spec["conversation"] == {"id_field": "session_id"}
    # The URL is the harness's to fill; the conversation id is written (a run replaces it, when it is there);
    # the text is padded to the schema's bounds.
    assert draft.input == {"session_id": "Session id", "text": "Textxx"}


def test_a_service_name_that_matches_no_path_is_said() -> None:
    body = {"type": "object", "properties": {"q": {"type": "string"}}}
    draft = draft_from_openapi(_document({"/ask/qa": _post(body), "/ask": _post(body)}), "doc", "billing")
    assert draft.spec["qa"]["path"] == "/ask/qa"
    assert draft.notes[0] == "No path or tag names 'billing': the endpoints were chosen among all the operations."


def test_a_chat_completions_path_becomes_the_openai_preset() -> None:
    body = {"type": "object", "properties": {"model": {"type": "string"}, "messages": {"type": "array"}}}
    draft = draft_from_openapi(
        _document({"/v1/embeddings": _post(body), "/v1/chat/completions": _post(body)}), "d", None
    )
    assert draft.spec == {"preset": "openai-chat"}
    assert draft.input["messages"] == [{"role": "user", "content": "Say hello in one short sentence."}]


def test_a_document_without_json_posts_says_what_to_do_instead() -> None:
    from harness._errors import HarnessError

    with pytest.raises(HarnessError, match=r"no POST operation with a JSON request body; start from a preset"):
        draft_from_openapi(_document({"/health": {"get": {}}}), "doc", None)


def test_ini_base_url_is_the_target_when_pytest_base_url_has_not_configured_yet() -> None:
    # The harness resolves its settings in a tryfirst pytest_configure, before pytest-base-url copies its ini
    # value into the option: the ini must be read directly, or `base_url = ...` in pytest.ini is ignored.
    settings = resolve_settings(lambda name: None, lambda name: "http://svc:8000" if name == "base_url" else None)
    assert settings.base_url == "http://svc:8000"


def test_the_starter_input_is_json_serialisable() -> None:
    body = {"type": "object", "properties": {"flag": {"type": "boolean"}, "xs": {"type": "array", "minItems": 2}}}
    draft = draft_from_openapi(_document({"/a/qa": _post(body)}), "doc", None)
    assert json.loads(json.dumps(draft.input)) == {"flag": False, "xs": ["xs", "xs"]}
