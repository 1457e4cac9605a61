"""``ExamGeneratorCore``: validation, prompt, model call and post-processing shared by prod and QA."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from reference_services.channels import Channel, reported_model_version
from reference_services.faults import FaultSet
from reference_services.llm import ModelClient, SamplingParams
from reference_services.postprocess import normalize_exam, redact_pii, strip_choice_lines
from reference_services.prompts import build_exam_messages
from reference_services.settings import Settings

MAX_QUESTIONS = 50


class ExamRequest(BaseModel):
    """The body of both examgenerator endpoints."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    course_title: str = Field(min_length=1, max_length=200)
    course_topic: str = Field(min_length=1, max_length=200)
    num_questions: StrictInt = Field(ge=1, le=MAX_QUESTIONS)


@dataclass(frozen=True)
class ExamResult:
    """A finished exam."""

    text: str
    model_version: str


class ExamGeneratorCore:
    """Writes an exam for a request; the entryways only deliver the result."""

    def __init__(self, settings: Settings, faults: FaultSet, model: ModelClient) -> None:
        self._settings = settings
        self._faults = faults
        self._model = model

    def _sampling(self, channel: Channel) -> SamplingParams:
        temperature, top_p = self._settings.temperature, self._settings.top_p
        if channel == "prod" and self._faults.on("swap_temperature_top_p"):
            temperature, top_p = top_p, temperature
        return SamplingParams(temperature=temperature, top_p=top_p, seed=self._settings.seed)

    async def generate(self, request: ExamRequest, channel: Channel) -> ExamResult:
        """The exam text; raises ``ModelUnavailableError`` when the model fails."""
        messages = build_exam_messages(request.course_title, request.course_topic, request.num_questions)
        completion = await self._model.complete(messages, self._sampling(channel))
        text = normalize_exam(completion.text)
        if channel == "prod" and self._faults.on("prod_drops_choices"):
            text = strip_choice_lines(text)
        if not (channel == "prod" and self._faults.on("pii_leak")):
            text = redact_pii(text)
        return ExamResult(text, reported_model_version(self._settings.model_name, self._faults, channel))
