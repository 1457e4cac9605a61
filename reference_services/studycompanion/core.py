"""``StudyCompanionCore``: validation, retrieval, memory, model call and redaction shared by prod and QA."""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from reference_services.channels import Channel, reported_model_version
from reference_services.faults import FaultSet
from reference_services.llm import ModelClient, SamplingParams
from reference_services.postprocess import redact_pii
from reference_services.prompts import build_chat_system_message
from reference_services.settings import Settings
from reference_services.studycompanion.memory import ConversationMemory
from reference_services.studycompanion.retrieval import CourseIndex, load_courses
from reference_services.terms import content_terms

MAX_MESSAGE_CHARS = 4000
# Redaction patterns never span one of these cuts (see postprocess), so a stream can be redacted piecewise.
_SAFE_CUT = re.compile(r"[.!?:][ \t]+|\n+")


class ChatRequest(BaseModel):
    """The body of both studycompanion endpoints."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    user_id: str = Field(min_length=1, max_length=200)
    course: str = Field(min_length=1, max_length=200)
    conversation_id: str = Field(min_length=1, max_length=200)
    message: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS)


@dataclass(frozen=True)
class ChatReply:
    """A finished reply."""

    reply: str
    sources: list[str]
    model_version: str


@dataclass
class PreparedChat:
    """Everything decided before the model call; the stream's ``end`` event needs sources up front."""

    request: ChatRequest
    channel: Channel
    messages: list[dict[str, str]]
    sources: list[str]
    model_version: str


class StudyCompanionCore:
    """Answers a student's message from the course materials, remembering the conversation.

    Conversations are kept per channel as well as per (user_id, conversation_id): QA traffic never
    lands in a real user's conversation, and a QA replay of a conversation sees the same history as prod.
    """

    def __init__(self, settings: Settings, faults: FaultSet, model: ModelClient) -> None:
        self._settings = settings
        self._faults = faults
        self._model = model
        self._index = CourseIndex(
            load_courses(settings.courses_dir), exclude_past_exams=faults.on("unindexed_past_exams")
        )
        self._memory = ConversationMemory(
            max_turns=settings.conversation_max_turns, max_conversations=settings.conversation_max_count
        )

    @property
    def course_titles(self) -> list[str]:
        return self._index.course_titles

    def resolve_course(self, course: str) -> str | None:
        """The canonical course title (case-insensitive match), or None if unknown."""
        wanted = course.casefold()
        return next((t for t in self._index.course_titles if t.casefold() == wanted), None)

    def prepare(self, request: ChatRequest, channel: Channel) -> PreparedChat:
        """Retrieve passages and build the prompt; ``request.course`` must be a known course."""
        course = self.resolve_course(request.course)
        if course is None:
            raise ValueError(f"unknown course {request.course!r}")
        history = self._memory.history(self._memory_key(request, channel))
        query = request.message
        previous_user = [m["content"] for m in history if m["role"] == "user"]
        if previous_user and len(content_terms(query)) < 3:
            query = f"{previous_user[-1]} {query}"  # a terse follow-up ("why?") leans on the last question
        passages = self._index.search(course, query, self._settings.retrieval_top_k)
        sources = list(dict.fromkeys(p.doc_id for p in passages))
        messages = [
            build_chat_system_message(course, passages),
            *history,
            {"role": "user", "content": request.message},
        ]
        version = reported_model_version(self._settings.model_name, self._faults, channel)
        return PreparedChat(request, channel, messages, sources, version)

    async def reply(self, request: ChatRequest, channel: Channel) -> ChatReply:
        """The whole reply at once (raises ``ModelUnavailableError``)."""
        prepared = self.prepare(request, channel)
        completion = await self._model.complete(prepared.messages, self._sampling())
        text = self._redact(completion.text, channel)
        self._remember(prepared, text)
        return ChatReply(text, prepared.sources, prepared.model_version)

    async def stream(self, prepared: PreparedChat) -> AsyncGenerator[str, None]:
        """The reply as redacted text pieces whose concatenation equals ``reply()``'s text."""
        buffer = ""
        pieces: list[str] = []
        async for delta in self._model.stream(prepared.messages, self._sampling()):
            buffer += delta
            cut = 0
            for match in _SAFE_CUT.finditer(buffer):
                cut = match.end()
            if cut:
                piece = self._redact(buffer[:cut], prepared.channel)
                buffer = buffer[cut:]
                pieces.append(piece)
                yield piece
        if buffer:
            piece = self._redact(buffer, prepared.channel)
            pieces.append(piece)
            yield piece
        self._remember(prepared, "".join(pieces))

    def _sampling(self) -> SamplingParams:
        return SamplingParams(self._settings.temperature, self._settings.top_p, self._settings.seed)

    def _redact(self, text: str, channel: Channel) -> str:
        if channel == "prod" and self._faults.on("pii_leak"):
            return text
        return redact_pii(text)

    def _memory_key(self, request: ChatRequest, channel: Channel) -> tuple[str, str, str]:
        return (channel, request.user_id, request.conversation_id)

    def _remember(self, prepared: PreparedChat, reply: str) -> None:
        self._memory.add_turn(self._memory_key(prepared.request, prepared.channel), prepared.request.message, reply)
