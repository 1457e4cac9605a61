"""Conversation memory: the last turns of each conversation, bounded in turns and in conversations (LRU)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable


class ConversationMemory:
    """Messages per conversation key; oldest turns and least recently used conversations are dropped."""

    def __init__(self, *, max_turns: int, max_conversations: int) -> None:
        self._max_messages = 2 * max_turns
        self._max_conversations = max_conversations
        self._conversations: OrderedDict[Hashable, list[dict[str, str]]] = OrderedDict()
        self._lock = threading.Lock()

    def history(self, key: Hashable) -> list[dict[str, str]]:
        """A copy of the conversation's messages, oldest first ([] for a new one)."""
        with self._lock:
            messages = self._conversations.get(key)
            if messages is None:
                return []
            self._conversations.move_to_end(key)
            return list(messages)

    def add_turn(self, key: Hashable, user: str, assistant: str) -> None:
        """Append one user message and its reply."""
        with self._lock:
            messages = self._conversations.setdefault(key, [])
            self._conversations.move_to_end(key)
            messages += [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]
            del messages[: max(0, len(messages) - self._max_messages)]
            while len(self._conversations) > self._max_conversations:
                self._conversations.popitem(last=False)

    def __len__(self) -> int:
        return len(self._conversations)
