"""A BentoML service with a fake model, exposing the same answer two ways.

  POST /answer                      @bentoml.api: the synchronous QA side
  POST /answer_job/submit           @bentoml.task: the production side, a job
  GET  /answer_job/status?task_id=  ...polled until completed or failed
  GET  /answer_job/get?task_id=     ...its result (or its error)

The fake model answers from a tiny table. ``delay_s`` makes the job slow enough to be seen in progress;
the question "explode" makes the model raise, so the job ends failed.

Run:  bentoml serve service:Answers --port 3000
"""

from __future__ import annotations

import time

import bentoml

NOTES = {
    "mitochondria": ("Mitochondria make ATP, the cell's energy currency.", ["biology/cells.md"]),
    "gdp": ("GDP is the market value of all final goods and services produced in a period.", ["macro/gdp.md"]),
}


def fake_model(question: str) -> dict:
    if question == "explode":
        raise RuntimeError("fake model crashed on purpose")
    for key, (text, sources) in NOTES.items():
        if key in question.lower():
            return {"text": text, "sources": sources, "model_version": "fake-1"}
    return {"text": "Sorry, the course notes do not cover that.", "sources": [], "model_version": "fake-1"}


@bentoml.service(workers=1)
class Answers:
    @bentoml.api
    def answer(self, question: str, delay_s: float = 0.0) -> dict:
        return fake_model(question)

    @bentoml.task
    def answer_job(self, question: str, delay_s: float = 0.0) -> dict:
        time.sleep(delay_s)
        return fake_model(question)
