"""Presets: what a serving framework's service looks like, so its service.yaml is two or three lines.

A preset is written like a check: a bare name (``openai-chat``) or a one-key mapping
(``{langserve: /chat}``). It expands to spec keys that the spec's own keys are deep-merged over
(mappings merge key by key, anything else the spec says replaces the preset's value). The shapes
below were checked against transcripts captured from the real frameworks (``tests/wire/``).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

__all__ = ["PRESETS", "deep_merge", "expand_preset"]

# The chat-completions fields both endpoints report; usage needs stream_options.include_usage on the stream.
_OPENAI_METADATA = {
    "model": "/model",
    "finish_reason": "/choices/0/finish_reason",
    "usage": "/usage",
}


def _openai_chat(arg: Any) -> dict[str, Any]:
    """One URL for both sides; ``"stream": true`` selects SSE of JSON chunks ending with ``[DONE]``."""
    if arg is not None:
        raise ValueError("openai-chat takes no argument: write 'preset: openai-chat'")
    endpoint = {"method": "POST", "path": "/v1/chat/completions"}
    return {
        "qa": {
            **endpoint,
            "delivery": "sync",
            "set": {"/stream": False},
            "output": {"text": "/choices/0/message/content", "metadata": dict(_OPENAI_METADATA)},
        },
        "prod": {
            **endpoint,
            "delivery": "sse",
            "set": {"/stream": True, "/stream_options": {"include_usage": True}},
            "sse": {
                "delta": "json",
                "text": "/choices/0/delta/content",
                "terminator": "[DONE]",
                "end_event": None,
                "error_event": "error",
                # A mid-stream failure is an in-band {"error": ...} chunk, then the body ends.
                "error": "/error",
            },
            "output": {"metadata": dict(_OPENAI_METADATA)},
        },
        "conversation": {"messages": "/messages"},
    }


def _langserve(arg: Any) -> dict[str, Any]:
    """``{langserve: ROUTE}``: invoke for QA, stream (named events, JSON-string deltas) for prod."""
    if not isinstance(arg, str) or not arg.startswith("/"):
        raise ValueError(f"langserve takes the route's path, e.g. {{langserve: /chat}}, got {arg!r}")
    route = arg.rstrip("/")
    body = {"input": "$input"}
    return {
        "qa": {
            "method": "POST",
            "path": f"{route}/invoke",
            "delivery": "sync",
            "body": body,
            "output": {"text": "/output"},
        },
        "prod": {
            "method": "POST",
            "path": f"{route}/stream",
            "delivery": "sse",
            "body": copy.deepcopy(body),
            "sse": {
                "delta_event": "data",
                "delta": "json_string",
                # No terminator: the end event (no data) ends the stream; an error event, then a dropped connection.
                "terminator": None,
                "end_event": "end",
                "metadata_event": "metadata",
                "error_event": "error",
            },
        },
    }


def _bentoml_task(arg: Any) -> dict[str, Any]:
    """``{bentoml-task: {api, task}}``: the @bentoml.api for QA; submit, poll status, get for prod."""
    if not isinstance(arg, dict) or set(arg) != {"api", "task"} or not all(isinstance(v, str) for v in arg.values()):
        raise ValueError(f"bentoml-task takes {{api: NAME, task: NAME}}, got {arg!r}")
    api, task = (str(arg[key]).strip("/") for key in ("api", "task"))
    return {
        "qa": {"method": "POST", "path": f"/{api}", "delivery": "sync"},
        "prod": {
            "method": "POST",
            "path": f"/{task}/submit",
            "delivery": "poll",
            "poll": {
                "job_id": "/task_id",
                "status": {
                    "path": f"/{task}/status",
                    "query": "task_id",
                    "pointer": "/status",
                    "pending": ["in_progress"],
                    "success": ["completed"],
                    "failure": ["failed"],
                },
                # Get answers 400 before the job is done; it is only asked once the status says so.
                "result": {"path": f"/{task}/get", "query": "task_id"},
            },
        },
    }


PRESETS: dict[str, Callable[[Any], dict[str, Any]]] = {
    "bentoml-task": _bentoml_task,
    "langserve": _langserve,
    "openai-chat": _openai_chat,
}

PRESET_ARG_SCHEMAS: dict[str, dict[str, Any]] = {
    "bentoml-task": {
        "type": "object",
        "properties": {"api": {"type": "string"}, "task": {"type": "string"}},
        "required": ["api", "task"],
        "additionalProperties": False,
    },
    "langserve": {"type": "string", "pattern": "^/"},
}


def expand_preset(preset: Any) -> dict[str, Any]:
    """The spec keys a preset stands for; ``ValueError`` naming the fix for an unknown name or bad argument."""
    if isinstance(preset, str):
        name, arg = preset, None
    elif isinstance(preset, dict) and len(preset) == 1:
        ((name, arg),) = preset.items()
    else:
        raise ValueError("a preset is a name or a one-key mapping {name: argument}")
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}: use one of {', '.join(sorted(PRESETS))}")
    if arg is None and name in PRESET_ARG_SCHEMAS:
        raise ValueError(f"preset {name!r} needs an argument: {PRESETS[name].__doc__}")
    return PRESETS[name](arg)


def deep_merge(base: Any, over: Any) -> Any:
    """``over`` merged onto ``base``: mappings key by key, anything else replaced by ``over``."""
    if isinstance(base, dict) and isinstance(over, dict):
        merged = dict(base)
        for key, value in over.items():
            merged[key] = deep_merge(base[key], value) if key in base else value
        return merged
    return copy.deepcopy(over)
