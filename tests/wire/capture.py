"""Re-capture the wire transcripts in tests/wire/transcripts/ from the real serving frameworks.

Not a test module: run it by hand, with any Python 3.11+ (stdlib only; httpx, if importable, is used once
more on each broken stream to record the error an httpx client reports):

    python tests/wire/capture.py --lab ../wirelab                     # every framework
    python tests/wire/capture.py --lab ../wirelab --only langserve    # one of them

``--lab DIR`` holds one virtual environment per framework, DIR/<name>/.venv, each made from the
requirements.txt of its example folder (see tests/wire/README.md):

    litellm    examples/openai-compatible/requirements.txt
    langserve  examples/langserve/requirements.txt
    bentoml    examples/bentoml-task/requirements.txt
    webhook    examples/webhook-github/requirements.txt

``--venv NAME=PATH`` points one framework at another virtual environment. Each server is started from its
example folder on 127.0.0.1 with a free port, and stopped afterwards. Every exchange is made over a plain
socket so the transcript keeps the exact bytes and says how the connection ended (see the README for the
file format).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
EXAMPLES = REPO / "examples"
OUT = HERE / "transcripts"

# ------------------------------------------------------------------------------------------- raw HTTP


@dataclass
class Exchange:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None
    status: int | None = None
    reason: str = ""
    http_version: str = ""
    response_headers: list[list[str]] = field(default_factory=list)
    framing: str = ""  # "chunked" | "content-length" | "until-close" | "none"
    complete: bool = False  # the framing says the whole body arrived
    connection_end: str = ""
    raw_body: bytes = b""  # the body with the transfer coding removed (exact entity bytes)
    chunk_count: int = 0
    elapsed_s: float = 0.0


def _dechunk(data: bytes) -> tuple[bytes, bool, int]:
    """Decode as much of a chunked body as is there: (payload, saw the last chunk, number of data chunks)."""
    out = bytearray()
    pos = 0
    count = 0
    while True:
        eol = data.find(b"\r\n", pos)
        if eol < 0:
            return bytes(out), False, count
        size_text = data[pos:eol].split(b";")[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            return bytes(out), False, count
        if size == 0:
            # last-chunk, optional trailers, then CRLF
            return bytes(out), data.find(b"\r\n", eol + 2) >= 0, count
        start = eol + 2
        if len(data) < start + size + 2:
            out += data[start : start + size]  # partial chunk: keep what arrived
            return bytes(out), False, count
        out += data[start : start + size]
        count += 1
        pos = start + size + 2


def http(
    port: int,
    method: str,
    path: str,
    *,
    body: bytes | str | dict[str, Any] | list[Any] | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30.0,
    linger: float = 0.5,
) -> Exchange:
    """One HTTP/1.1 request over a fresh socket (keep-alive, as a real client would send it).

    Reads until the response's own framing says it is complete, then waits ``linger`` seconds to see whether
    the server closes the connection by itself. Records how the connection ended.
    """
    hdrs = dict(headers or {})
    if isinstance(body, (dict, list)):
        body = json.dumps(body, ensure_ascii=False).encode()
        hdrs.setdefault("Content-Type", "application/json")
    elif isinstance(body, str):
        body = body.encode()
    ex = Exchange(method, path, dict(hdrs), body)
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
    for k, v in hdrs.items():
        head += f"{k}: {v}\r\n"
    if body is not None:
        head += f"Content-Length: {len(body)}\r\n"
    head += "\r\n"
    t0 = time.monotonic()
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    buf = bytearray()
    ended = ""
    try:
        sock.sendall(head.encode() + (body or b""))
        header_end = -1
        while True:
            try:
                data = sock.recv(65536)
            except TimeoutError:
                ended = f"client gave up: no bytes for {timeout:g} s"
                break
            except ConnectionResetError:
                ended = "connection reset by the server (RST)"
                break
            if not data:
                ended = "server closed the connection (FIN)"
                break
            buf += data
            if header_end < 0:
                header_end = buf.find(b"\r\n\r\n")
            if header_end >= 0 and _message_complete(bytes(buf), header_end, method):
                if linger <= 0:
                    ended = "message complete"
                    break
                sock.settimeout(linger)
                try:
                    more = sock.recv(65536)
                    if more:
                        buf += more
                        ended = "message complete; server sent further bytes"
                    else:
                        ended = "message complete; server then closed the connection"
                except TimeoutError:
                    ended = f"message complete; connection left open (checked {linger:g} s)"
                except ConnectionResetError:
                    ended = "message complete; connection then reset by the server"
                break
    finally:
        sock.close()
    ex.elapsed_s = round(time.monotonic() - t0, 3)
    _parse_response(ex, bytes(buf), method)
    ex.connection_end = ended
    return ex


def _message_complete(buf: bytes, header_end: int, method: str) -> bool:
    head = buf[:header_end].decode("latin-1").split("\r\n")
    status = int(head[0].split()[1])
    fields = {line.split(":", 1)[0].strip().lower(): line.split(":", 1)[1].strip() for line in head[1:] if ":" in line}
    rest = buf[header_end + 4 :]
    if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
        return True
    if "chunked" in fields.get("transfer-encoding", "").lower():
        return _dechunk(rest)[1]
    if "content-length" in fields:
        return len(rest) >= int(fields["content-length"])
    return False  # delimited by close


def _parse_response(ex: Exchange, buf: bytes, method: str) -> None:
    header_end = buf.find(b"\r\n\r\n")
    if header_end < 0:
        ex.framing = "none"
        ex.raw_body = buf
        return
    lines = buf[:header_end].decode("latin-1").split("\r\n")
    version, status, *reason = lines[0].split(" ", 2)
    ex.http_version, ex.status, ex.reason = version, int(status), (reason[0] if reason else "")
    ex.response_headers = [[p.strip() for p in line.split(":", 1)] for line in lines[1:] if ":" in line]
    fields = {k.lower(): v for k, v in ex.response_headers}
    rest = buf[header_end + 4 :]
    if "chunked" in fields.get("transfer-encoding", "").lower():
        ex.framing = "chunked"
        ex.raw_body, ex.complete, ex.chunk_count = _dechunk(rest)
    elif "content-length" in fields:
        ex.framing = "content-length"
        n = int(fields["content-length"])
        ex.raw_body, ex.complete = rest[:n], len(rest) >= n
    else:
        ex.framing = "until-close"
        ex.raw_body, ex.complete = rest, True


def httpx_says(port: int, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> str | None:
    """What an httpx client (iter_raw) reports on the same request: the exception, or None if it read to the end."""
    try:
        import httpx
    except ImportError:
        return None
    try:
        with (
            httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client,
            client.stream(method, path, content=body, headers=headers) as response,
        ):
            for _ in response.iter_raw():
                pass
    except Exception as exc:
        return f"{type(exc).__module__}.{type(exc).__qualname__}: {exc}"
    return None


# ------------------------------------------------------------------------------------------- storage


class Recorder:
    def __init__(self, framework: str, versions: dict[str, str], port: int, out: Path) -> None:
        self.framework, self.versions, self.port, self.out = framework, versions, port, out
        self.written: list[str] = []

    def save(
        self,
        name: str,
        ex: Exchange,
        notes: str = "",
        *,
        check_httpx: bool = False,
        request_body_file: bool = False,
        **extra: Any,
    ) -> Exchange:
        body_text: Any
        if ex.body is None:
            body_text = None
        else:
            try:
                body_text = ex.body.decode()
            except UnicodeDecodeError:
                body_text = ex.body.hex()
        meta: dict[str, Any] = {
            "framework": self.framework,
            "versions": self.versions,
            "request": {"method": ex.method, "path": ex.path, "headers": ex.headers, "body": body_text},
            "http_version": ex.http_version,
            "status": ex.status,
            "reason": ex.reason,
            "headers": ex.response_headers,
            "framing": ex.framing,
            "complete": ex.complete,
            "connection_end": ex.connection_end,
            "body_file": f"{name}.body",
            "body_bytes": len(ex.raw_body),
            "body_sha256": hashlib.sha256(ex.raw_body).hexdigest(),
        }
        if request_body_file and ex.body is not None:
            meta["request"]["body_file"] = f"{name}.request.body"
            (self.out / f"{name}.request.body").write_bytes(ex.body)
        if ex.framing == "chunked":
            meta["chunks"] = ex.chunk_count
        if check_httpx and not ex.complete:
            meta["httpx_error"] = httpx_says(self.port, ex.method, ex.path, ex.body, ex.headers)
        meta.update(extra)
        if notes:
            meta["notes"] = notes
        (self.out / f"{name}.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n")
        (self.out / f"{name}.body").write_bytes(ex.raw_body)
        self.written.append(name)
        print(f"  {name}: {ex.status} {ex.framing} complete={ex.complete} {len(ex.raw_body)} B; {ex.connection_end}")
        return ex


# ------------------------------------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def server(
    argv: list[str], cwd: Path, port: int, ready_path: str, env: dict[str, str] | None = None, startup_s: float = 120.0
) -> Iterator[None]:
    log = open(Path(tempfile.gettempdir()) / f"wire-{Path(cwd).name}.server.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        argv, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env={**os.environ, **(env or {})}
    )
    try:
        deadline = time.monotonic() + startup_s
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode}; see {log.name}")
            try:
                if http(port, "GET", ready_path, timeout=5, linger=0).status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"server not ready on {ready_path} after {startup_s:g} s; see {log.name}")
            time.sleep(0.5)
        yield
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def versions_of(python: Path, dists: list[str]) -> dict[str, str]:
    code = "import importlib.metadata as m, json, sys; print(json.dumps({d: m.version(d) for d in sys.argv[1:]}))"
    return json.loads(subprocess.check_output([str(python), "-c", code, *dists], text=True))


# ------------------------------------------------------------------------------------------- frameworks


def capture_langserve(python: Path, out: Path) -> list[str]:
    port = free_port()
    cwd = EXAMPLES / "langserve"
    rec = Recorder(
        "langserve",
        versions_of(python, ["langserve", "langchain-core", "fastapi", "sse-starlette", "uvicorn"]),
        port,
        out,
    )
    argv = [str(python), "-m", "uvicorn", "app:app", "--host", "127.0.0.1", "--port", str(port)]
    ok = {"input": {"question": "What do mitochondria do?"}}
    with server(argv, cwd, port, "/docs"):
        rec.save(
            "langserve_invoke_ok",
            http(port, "POST", "/chat/invoke", body=ok),
            'Invoke: body wrapped as {"input": ...}; the text is at /output.',
        )
        rec.save(
            "langserve_stream_ok",
            http(port, "POST", "/chat/stream", body=ok),
            "Stream: event metadata (JSON object), then one event data per chunk whose data is a JSON-encoded "
            'string (UTF-8, not ASCII-escaped; includes "\\n" and an empty ""), then event end with no data '
            "field. SSE lines end with CRLF.",
        )
        rec.save(
            "langserve_stream_error",
            http(port, "POST", "/broken/stream", body=ok),
            "The chain raises after two chunks: an event error (JSON {status_code, message}) after the data "
            "events; no end event.",
            check_httpx=True,
        )
        rec.save(
            "langserve_stream_error_early",
            http(port, "POST", "/broken_early/stream", body=ok),
            "The chain raises before its first chunk: only an event error, not even the metadata event.",
            check_httpx=True,
        )
        rec.save(
            "langserve_invoke_error",
            http(port, "POST", "/broken_early/invoke", body=ok),
            "The failing chain on invoke: a bare 500 with a plain-text body, then the server closes the "
            "connection. (/broken/invoke would succeed: on invoke the failing step sees one whole string.)",
        )
        bad = {"input": {"topic": "no question key"}}
        rec.save(
            "langserve_invoke_bad_input",
            http(port, "POST", "/chat/invoke", body=bad),
            "Input without the prompt's variable.",
        )
        rec.save(
            "langserve_stream_bad_input",
            http(port, "POST", "/chat/stream", body=bad),
            "The same bad input on stream.",
            check_httpx=True,
        )
        unwrapped = {"question": "What do mitochondria do?"}
        rec.save(
            "langserve_invoke_unwrapped",
            http(port, "POST", "/chat/invoke", body=unwrapped),
            'The case input sent without the {"input": ...} wrapper.',
        )
        rec.save(
            "langserve_stream_unwrapped",
            http(port, "POST", "/chat/stream", body=unwrapped),
            'The case input sent without the {"input": ...} wrapper, on stream.',
            check_httpx=True,
        )
        rec.save(
            "langserve_invoke_malformed_json",
            http(
                port,
                "POST",
                "/chat/invoke",
                body='{"input": {"question": ',
                headers={"Content-Type": "application/json"},
            ),
            "A body that is not JSON.",
        )
    return rec.written


def capture_bentoml(python: Path, out: Path) -> list[str]:
    port = free_port()
    cwd = EXAMPLES / "bentoml-task"
    rec = Recorder("bentoml", versions_of(python, ["bentoml", "starlette", "uvicorn", "pydantic"]), port, out)
    bentoml = python.parent / "bentoml"
    argv = [str(bentoml), "serve", "service:Answers", "--host", "127.0.0.1", "--port", str(port)]

    def task_id(ex: Exchange) -> str:
        return str(json.loads(ex.raw_body)["task_id"])

    def poll(prefix: str, tid: str, first: int, want: str = "", limit: int = 40) -> int:
        """Poll status every 0.25 s until it leaves in_progress; save the first and the last poll."""
        n = first
        ex = http(port, "GET", f"/answer_job/status?task_id={tid}")
        while json.loads(ex.raw_body).get("status") == "in_progress" and limit > 0:
            time.sleep(0.25)
            limit -= 1
            ex = http(port, "GET", f"/answer_job/status?task_id={tid}")
        rec.save(
            f"{prefix}_{n}_status_{json.loads(ex.raw_body).get('status')}",
            ex,
            f"Status once the job left in_progress{want}.",
        )
        return n + 1

    with server(argv, cwd, port, "/readyz"):
        q = {"question": "What do mitochondria do?"}
        rec.save(
            "bentoml_api_ok",
            http(port, "POST", "/answer", body=q),
            "The @bentoml.api endpoint: the method's return value as JSON (json.dumps spacing), status 200.",
        )
        rec.save(
            "bentoml_api_bad_input",
            http(port, "POST", "/answer", body={"wrong": 1}),
            'Validation error on the api endpoint: 400 (not 422), {"error": ..., "detail": [pydantic errors]}.',
        )
        rec.save(
            "bentoml_api_wrong_type",
            http(port, "POST", "/answer", body={"question": 42}),
            "A wrong type on the api endpoint.",
        )
        rec.save(
            "bentoml_api_malformed_json",
            http(port, "POST", "/answer", body='{"question": ', headers={"Content-Type": "application/json"}),
            "A body that is not JSON on the api endpoint.",
        )
        rec.save(
            "bentoml_api_error",
            http(port, "POST", "/answer", body={"question": "explode"}),
            "The model raises on the api endpoint.",
        )

        # A job that completes: submit, status in_progress, get too early, status completed, get.
        sub = rec.save(
            "bentoml_task_ok_1_submit",
            http(port, "POST", "/answer_job/submit", body={**q, "delay_s": 1.5}),
            "Submit answers at once with the task id and status in_progress.",
        )
        tid = task_id(sub)
        rec.save(
            "bentoml_task_ok_2_status_in_progress",
            http(port, "GET", f"/answer_job/status?task_id={tid}"),
            "Status while the job runs.",
        )
        rec.save(
            "bentoml_task_ok_3_get_too_early",
            http(port, "GET", f"/answer_job/get?task_id={tid}"),
            "Get before the job is done: 400 with an error body; not a failure of the job.",
        )
        poll("bentoml_task_ok", tid, 4, " (completed)")
        rec.save(
            "bentoml_task_ok_5_get",
            http(port, "GET", f"/answer_job/get?task_id={tid}"),
            "Get once completed: the method's return value, exactly as the api endpoint returns it.",
        )

        # A job whose model raises: status failed, get 500.
        sub = rec.save(
            "bentoml_task_failed_1_submit",
            http(port, "POST", "/answer_job/submit", body={"question": "explode", "delay_s": 0.5}),
            "Submit of a job that will fail: accepted like any other.",
        )
        tid = task_id(sub)
        poll("bentoml_task_failed", tid, 2, " (failed)")
        rec.save(
            "bentoml_task_failed_3_get",
            http(port, "GET", f"/answer_job/get?task_id={tid}"),
            "Get of a failed job: 500 with a generic error body; the exception text is only in the server log.",
        )

        # Submit does not validate: a bad input is accepted, the job then fails.
        for label, body in (
            ("bad_input", {"wrong": 1}),
            ("wrong_type", {"question": 42}),
            ("malformed_json", '{"question": '),
        ):
            prefix = f"bentoml_task_{label}"
            hdrs = {"Content-Type": "application/json"} if isinstance(body, str) else None
            sub = rec.save(
                f"{prefix}_1_submit",
                http(port, "POST", "/answer_job/submit", body=body, headers=hdrs),
                "Submit with an input the api endpoint rejects.",
            )
            if sub.status == 200:
                tid = task_id(sub)
                poll(prefix, tid, 2)
                rec.save(
                    f"{prefix}_3_get",
                    http(port, "GET", f"/answer_job/get?task_id={tid}"),
                    "Get of the job made from a bad input.",
                )

        rec.save(
            "bentoml_task_status_unknown_id",
            http(port, "GET", "/answer_job/status?task_id=no-such-task"),
            "Status of an id the service never issued.",
        )
        rec.save(
            "bentoml_task_get_unknown_id",
            http(port, "GET", "/answer_job/get?task_id=no-such-task"),
            "Get of an id the service never issued.",
        )
        rec.save(
            "bentoml_task_status_no_id",
            http(port, "GET", "/answer_job/status"),
            "Status without the task_id query parameter.",
        )
    return rec.written


def capture_litellm(python: Path, out: Path) -> list[str]:
    port = free_port()
    cwd = EXAMPLES / "openai-compatible"
    rec = Recorder(
        "litellm-proxy", versions_of(python, ["litellm", "litellm-proxy-extras", "fastapi", "uvicorn"]), port, out
    )
    key = "sk-wire-test"  # a dummy master key, set for the capture only
    env = {"LITELLM_MASTER_KEY": key, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "HF_HUB_OFFLINE": "1"}
    argv = [str(python.parent / "litellm"), "--config", "config.yaml", "--host", "127.0.0.1", "--port", str(port)]
    auth = {"Authorization": f"Bearer {key}"}
    url = "/v1/chat/completions"
    msgs = [{"role": "user", "content": "What do mitochondria do?"}]

    def chat(model: str = "fake-tutor", headers: dict[str, str] | None = auth, **fields: Any) -> Exchange:
        return http(port, "POST", url, body={"model": model, "messages": msgs, **fields}, headers=headers)

    with server(argv, cwd, port, "/health/liveliness", env=env):
        rec.save(
            "openai_chat_ok",
            chat(),
            "Non-streaming: text at /choices/0/message/content, finish_reason at /choices/0/finish_reason, "
            "usage at /usage.",
        )
        rec.save(
            "openai_chat_stream_ok",
            chat(stream=True),
            "Streaming without stream_options: unnamed data events, each a chat.completion.chunk with text at "
            "/choices/0/delta/content; a last chunk with finish_reason; then data: [DONE].",
        )
        rec.save(
            "openai_chat_stream_usage",
            chat(stream=True, stream_options={"include_usage": True}),
            "Streaming with stream_options.include_usage: as above, and usage on a chunk before [DONE].",
        )
        multi = [*msgs, {"role": "assistant", "content": "They make ATP."}, {"role": "user", "content": "And?"}]
        rec.save(
            "openai_chat_multiturn",
            http(port, "POST", url, headers=auth, body={"model": "fake-tutor", "messages": multi}),
            "A second turn: the conversation is the growing messages array.",
        )
        rec.save(
            "openai_chat_stream_midstream_error",
            chat("fake-midstream", stream=True),
            "The backend fails after two chunks: the proxy sends the text chunks, then an in-band data event "
            '{"error": {...}} and no [DONE].',
            check_httpx=True,
        )
        rec.save(
            "openai_chat_midstream_model_nonstream",
            chat("fake-midstream"),
            "The same failing backend without streaming.",
        )
        rec.save(
            "openai_chat_stream_error_at_start",
            chat("fake-broken", stream=True),
            "LiteLLM's mock streaming error, raised before any chunk.",
            check_httpx=True,
        )
        rec.save(
            "openai_chat_error_at_start",
            chat("fake-broken"),
            "LiteLLM's mock streaming error model, without streaming.",
        )
        rec.save("openai_chat_ratelimit", chat("fake-ratelimit"), "A mock 429 from the backend, non-streaming.")
        rec.save(
            "openai_chat_stream_ratelimit",
            chat("fake-ratelimit", stream=True),
            "A mock 429 from the backend, streaming.",
            check_httpx=True,
        )
        rec.save(
            "openai_chat_missing_messages",
            http(port, "POST", url, headers=auth, body={"model": "fake-tutor"}),
            "Bad request: no messages.",
        )
        rec.save(
            "openai_chat_stream_missing_messages",
            http(port, "POST", url, headers=auth, body={"model": "fake-tutor", "stream": True}),
            "Bad request: no messages, streaming.",
            check_httpx=True,
        )
        rec.save("openai_chat_unknown_model", chat("no-such-model"), "A model the proxy does not serve.")
        rec.save(
            "openai_chat_malformed_json",
            http(
                port,
                "POST",
                url,
                body='{"model": "fake-tutor", "messages": ',
                headers={**auth, "Content-Type": "application/json"},
            ),
            "A body that is not JSON.",
        )
        rec.save(
            "openai_chat_no_key",
            chat(headers=None),
            "No Authorization header: 401. (Without the prisma package installed, LiteLLM 1.106.12 answers this "
            "with a bare 500 'Internal Server Error' instead: its error handler imports prisma.)",
        )
        rec.save(
            "openai_chat_stream_wrong_key",
            chat(headers={"Authorization": "Bearer sk-wrong"}, stream=True),
            "A key other than the master key, streaming: with no database configured LiteLLM cannot look up "
            "virtual keys and answers 400 no_db_connection (with a database it would be 401).",
            check_httpx=True,
        )
    return rec.written


def capture_webhook(python: Path, out: Path) -> list[str]:
    port = free_port()
    cwd = EXAMPLES / "webhook-github"
    rec = Recorder("githubkit-webhooks", versions_of(python, ["githubkit"]), port, out)
    secret = "It's a Secret to Everybody"  # the dummy secret of GitHub's documentation

    def sign(body: bytes, key: str, method: str = "sha256") -> str:
        code = (
            "import sys; from githubkit.webhooks import sign; "
            "print(sign(sys.argv[1], sys.stdin.buffer.read(), sys.argv[2]))"
        )
        return (
            subprocess.run([str(python), "-c", code, key, method], input=body, capture_output=True, check=True)
            .stdout.decode()
            .strip()
        )

    vector = sign(b"Hello, World!", secret)
    assert vector == "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17", vector
    body = json.dumps(
        {
            "action": "completed",
            "job": {
                "id": "job-42",
                "status": "completed",
                "output": {"text": "Le café est prêt.\nMitochondria make ATP.", "sources": ["biology/cells.md"]},
            },
        },
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()
    delivery = "72d3162e-cc78-11e3-81ab-4c9367dc0958"  # fixed, so the fixture is stable

    def headers(signature256: str | None, signature1: str | None = None) -> dict[str, str]:
        h = {
            "User-Agent": "GitHub-Hookshot/044aadd",
            "Content-Type": "application/json",
            "X-GitHub-Event": "job",
            "X-GitHub-Delivery": delivery,
            "X-GitHub-Hook-ID": "292430182",
        }
        if signature1:
            h["X-Hub-Signature"] = signature1
        if signature256:
            h["X-Hub-Signature-256"] = signature256
        return h

    scheme = {
        "header": "X-Hub-Signature-256",
        "prefix": "sha256=",
        "algorithm": "HMAC-SHA256 of the raw body bytes",
        "encoding": "lowercase hex",
        "secret": secret,
        "delivery_id_header": "X-GitHub-Delivery",
        "test_vector": {"secret": secret, "body": "Hello, World!", "signature": vector},
    }
    argv = [str(python), "receiver.py", str(port)]
    with server(argv, cwd, port, "/", env={"WEBHOOK_SECRET": secret}):
        good = headers(sign(body, secret), sign(body, secret, "sha1"))
        rec.save(
            "webhook_github_delivery_ok",
            http(port, "POST", "/hooks/job", body=body, headers=good),
            "A signed delivery as GitHub sends it (signature by githubkit.webhooks.sign); the receiver verifies "
            "with githubkit.webhooks.verify and answers 204. The exact signed bytes are in the .request.body "
            "file.",
            request_body_file=True,
            signature=scheme,
        )
        tampered = body.replace(b"job-42", b"job-43")
        rec.save(
            "webhook_github_delivery_tampered",
            http(port, "POST", "/hooks/job", body=tampered, headers=good),
            "The same headers over a body changed after signing: verify() fails, 401.",
            request_body_file=True,
            signature=scheme,
        )
        rec.save(
            "webhook_github_delivery_wrong_secret",
            http(port, "POST", "/hooks/job", body=body, headers=headers(sign(body, "not-the-secret"))),
            "Signed with another secret: 401.",
            request_body_file=True,
            signature=scheme,
        )
        rec.save(
            "webhook_github_delivery_unsigned",
            http(port, "POST", "/hooks/job", body=body, headers=headers(None)),
            "No X-Hub-Signature-256 header: 400.",
            request_body_file=True,
            signature=scheme,
        )
    return rec.written


FRAMEWORKS: dict[str, Callable[[Path, Path], list[str]]] = {
    "litellm": capture_litellm,
    "langserve": capture_langserve,
    "bentoml": capture_bentoml,
    "webhook": capture_webhook,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lab", type=Path, help="folder with one virtual environment per framework: LAB/<name>/.venv")
    parser.add_argument("--venv", action="append", default=[], metavar="NAME=PATH", help="a framework's venv")
    parser.add_argument("--only", default="", help="comma-separated framework names (default: all)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    venvs = {name: (args.lab / name / ".venv") if args.lab else None for name in FRAMEWORKS}
    for item in args.venv:
        name, _, path = item.partition("=")
        venvs[name] = Path(path)
    wanted = [n for n in args.only.split(",") if n] or list(FRAMEWORKS)
    args.out.mkdir(parents=True, exist_ok=True)
    failed = []
    for name in wanted:
        venv = venvs.get(name)
        if venv is None:
            parser.error(f"no virtual environment for {name}: give --lab DIR or --venv {name}=PATH")
        python = venv / "bin" / "python"
        print(f"{name} ({python})")
        try:
            FRAMEWORKS[name](python, args.out)
        except Exception as exc:
            print(f"  FAILED: {type(exc).__name__}: {exc}", file=sys.stderr)
            failed.append(name)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
