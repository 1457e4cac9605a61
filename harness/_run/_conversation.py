"""One endpoint's side of a multi-turn case: the conversation id it sends, or the messages it has exchanged."""

from __future__ import annotations

import copy
from typing import Any

from harness._model._pointer import resolve_pointer, set_pointer
from harness._model._spec import ConversationSpec


class Conversation:
    """One endpoint's side of a multi-turn case: the id it sends, or the messages it has exchanged."""

    def __init__(self, spec: ConversationSpec | None, conversation_id: str) -> None:
        self.spec = spec
        self.conversation_id = conversation_id
        self.history: list[Any] = []
        self._sent: list[Any] = []

    def place(self, case_input: Any, turn_input: dict[str, Any] | None) -> Any:
        """The case input for this turn: the turn's fields merged over it, the conversation applied."""
        spec = self.spec
        pointer = spec.messages if spec is not None else None
        base = resolve_pointer(case_input, pointer) if pointer is not None else None
        new = resolve_pointer(turn_input, pointer) if pointer is not None and turn_input else None
        if isinstance(case_input, dict) and turn_input:
            case_input.update(copy.deepcopy(turn_input))
        if pointer is not None:
            # Per endpoint: its own earlier messages and its own assistant replies, then this turn's.
            self._sent = copy.deepcopy(new) if isinstance(new, list) else []
            messages = [*(base if isinstance(base, list) else []), *self.history, *self._sent]
            if base is not None or messages:
                set_pointer(case_input, pointer, copy.deepcopy(messages))
        elif spec is not None and isinstance(case_input, dict) and spec.id_field in case_input:
            # Per run and endpoint: QA and prod histories never mix, reruns never collide.
            case_input[str(spec.id_field)] = self.conversation_id
        return case_input

    def answered(self, text: str | None) -> None:
        """Record this turn's messages and the endpoint's reply for the next turn."""
        if self.spec is not None and self.spec.messages is not None:
            self.history += [*self._sent, {"role": "assistant", "content": text or ""}]
            self._sent = []
