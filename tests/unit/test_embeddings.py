"""Semantic parity by embeddings: the embedder client against the embedded reference model on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

import harness
from harness._errors import HarnessUsageError
from harness._verdict._checks import CheckSettings
from harness._verdict._embeddings import Embedder, EmbeddingError, parity_similarity
from harness._verdict._parity import compare, compare_with_noise
from harness.serving import ServerThread, bind, quiet_config
from reference_services.model import create_model_app

GDP = "Nominal GDP is measured at current prices, real GDP at base-year prices, which removes inflation."
PARAPHRASE = "Real GDP uses base-year prices and so removes inflation; nominal GDP uses current prices."
CELLS = "The mitochondria produce energy for the cell, and ribosomes build its proteins."


@pytest.fixture(scope="module")
def model_url() -> Iterator[str]:
    sock = bind("127.0.0.1", 0)
    serving = ServerThread([(quiet_config(create_model_app(), lifespan="on"), sock)], name="test-model")
    serving.start(10.0)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
    serving.stop(5.0)


def test_paraphrases_are_close_and_other_topics_far(model_url: str) -> None:
    similarity = asyncio.run(Embedder(model_url, "reference-embedding").similarity([GDP, PARAPHRASE, CELLS]))
    assert similarity.name == "embeddings: reference-embedding"
    assert similarity(GDP, PARAPHRASE) > 0.7
    assert similarity(GDP, CELLS) < 0.2
    assert similarity(GDP, GDP) == pytest.approx(1.0)
    assert similarity("", " ") == 1.0  # empty texts are never sent: OpenAI rejects empty input
    assert similarity(GDP, "") == 0.0


def test_the_same_texts_embed_the_same_way(model_url: str) -> None:
    first = asyncio.run(Embedder(model_url, "m").similarity([GDP, CELLS]))
    second = asyncio.run(Embedder(model_url, "m").similarity([CELLS, GDP]))
    assert first.vectors == second.vectors


def test_semantic_parity_says_which_embedder_judged(model_url: str, make_outcome: Any) -> None:
    qa, prod = make_outcome(GDP), make_outcome(PARAPHRASE, endpoint="prod")
    settings = CheckSettings(embeddings_base_url=model_url, embeddings_model="reference-embedding")
    similarity = asyncio.run(parity_similarity(settings, "semantic", False, [qa, prod]))
    assert similarity is not None
    report = compare("semantic", qa, prod, threshold=0.7, similarity=similarity)
    assert report.passed, report.summary
    assert report.judge == "embeddings: reference-embedding"
    assert report.summary.endswith("(embeddings: reference-embedding)")
    # The same pair, judged lexically, falls below the threshold: the wording differs, the meaning does not.
    assert not compare("lexical", qa, prod, threshold=0.7, similarity=similarity).passed
    noise = compare_with_noise([qa, qa], [prod, prod], similarity=similarity)
    assert noise.judge == "embeddings: reference-embedding"


def test_the_python_compare_asks_the_embedder_it_is_given(model_url: str, make_outcome: Any) -> None:
    qa, prod = make_outcome(GDP), make_outcome(PARAPHRASE, endpoint="prod")
    settings = CheckSettings(embeddings_base_url=model_url, embeddings_model="reference-embedding")
    judged = harness.compare(qa, prod, level="semantic", threshold=0.7, settings=settings)
    assert (judged.passed, judged.judge) == (True, "embeddings: reference-embedding"), judged.summary
    lexical = harness.compare(qa, prod, level="semantic", threshold=0.7)  # no embedder given
    assert not lexical.passed
    assert lexical.judge != judged.judge

    async def in_a_loop() -> str:
        with pytest.raises(HarnessUsageError, match=r"harness.compare\(\) was called inside a running event loop"):
            harness.compare(qa, prod, level="semantic", settings=settings)
        report = await harness.acompare(qa, prod, level="semantic", threshold=0.7, settings=settings)
        return report.judge

    assert asyncio.run(in_a_loop()) == "embeddings: reference-embedding"
    gone = CheckSettings(embeddings_base_url="http://127.0.0.1:9/v1", embeddings_model="m")
    unjudged = harness.compare(qa, prod, level="semantic", settings=gone)
    assert not unjudged.passed
    assert unjudged.summary.startswith("parity not judged: ")


def test_embeddings_only_where_they_judge(model_url: str, make_outcome: Any) -> None:
    qa, prod = make_outcome(GDP), make_outcome(CELLS, endpoint="prod")
    settings = CheckSettings(embeddings_base_url=model_url)
    assert asyncio.run(parity_similarity(settings, "lexical", False, [qa, prod])) is None
    assert asyncio.run(parity_similarity(settings, "structural", False, [qa, prod])) is None
    assert asyncio.run(parity_similarity(settings, "structural", True, [qa, prod])) is not None  # noise-aware
    assert asyncio.run(parity_similarity(CheckSettings(), "semantic", False, [qa, prod])) is None
    failed = make_outcome(None, endpoint="prod", status=422, body={"detail": "bad"})
    assert asyncio.run(parity_similarity(settings, "semantic", False, [qa, failed])) is None


def test_an_unreachable_embedder_is_an_error_naming_it() -> None:
    sock = bind("127.0.0.1", 0)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
    sock.close()  # nothing listens there now
    with pytest.raises(
        EmbeddingError, match=r"could not get embeddings from the embedder at http://127\.0\.0\.1:\d+/v1"
    ):
        asyncio.run(Embedder(url, "m", timeout_s=5.0).similarity([GDP]))
