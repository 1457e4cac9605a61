"""A LangServe app on langchain-core's fake chat model: the smallest real LangServe service.

Routes (each from langserve.add_routes):
  /chat    prompt | GenericFakeChatModel | StrOutputParser     -- answers with a canned reply
  /broken  the same chain, then a step that raises after two chunks -- a failure mid-stream
  /broken_early  the same chain, then a step that raises before the first chunk

The fake model splits its reply on whitespace and keeps each whitespace character as its own chunk, so the
reply "Le café\\n\\nest prêt." streams "Le", " ", "café", "\\n", "", "\\n", ... (note the empty chunk between
the two newlines): non-ASCII text, a newline and an empty payload all show up on the wire.

Run:  uvicorn app:app --host 127.0.0.1 --port 8100
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator

from fastapi import FastAPI
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableGenerator
from langserve import add_routes

REPLY = "Le café\n\nest prêt. Mitochondria make ATP."

prompt = ChatPromptTemplate.from_messages([("system", "You are a tutor."), ("human", "{question}")])


def fake_model() -> GenericFakeChatModel:
    # itertools.repeat: the fake model pops one message per call; repeat never runs dry.
    return GenericFakeChatModel(messages=itertools.repeat(AIMessage(content=REPLY)))


async def fail_after_two(chunks: AsyncIterator[str]) -> AsyncIterator[str]:
    n = 0
    async for chunk in chunks:
        if n == 2:
            raise RuntimeError("fake model backend went away")
        n += 1
        yield chunk


async def fail_at_once(chunks: AsyncIterator[str]) -> AsyncIterator[str]:
    async for _ in chunks:
        raise RuntimeError("fake model backend refused the request")
    yield ""  # never reached; makes this an async generator


chat = prompt | fake_model() | StrOutputParser()
broken = prompt | fake_model() | StrOutputParser() | RunnableGenerator(fail_after_two)
broken_early = prompt | fake_model() | StrOutputParser() | RunnableGenerator(fail_at_once)

app = FastAPI(title="langserve wire example")
add_routes(app, chat, path="/chat")
add_routes(app, broken, path="/broken")
add_routes(app, broken_early, path="/broken_early")
