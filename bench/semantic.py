"""How well each similarity separates same meaning from changed meaning, on the project's paraphrase set.

``tests/data/paraphrases.yaml`` holds triples: a sentence, the same meaning in other words, and a changed meaning
that shares its words (a negation, another number, another entity). For each measure — the lexical word+bigram
cosine, the hashed bag-of-words stand-in the embedded model answered with before, and the learned model
(all-MiniLM-L6-v2) — this prints:

- ranked: triples whose paraphrase scores above their changed meaning;
- the threshold that classifies the most calibration pairs right (paraphrase >= t, changed < t), and the share of
  pairs right at it on the calibration and on the held-out set (which played no part in choosing it);
- the same at the documented default threshold, with the misjudged pairs of the learned model;
- issue 23's two criteria at the default, embeddings alone and with the fact check (``harness._verdict._facts``:
  numbers, negation and opposites, names, words swapped in a shared sentence): same meaning passes, changed
  meaning fails, on each set (calibration, development, held-out, and the minimal edits: one word swapped for a
  synonym or for another meaning), through the product's own local embedder;
- the learned model's first-load and per-text time;
- with ``--reference-answers``: the fact check on answers that vary only in wording (the in-process reference
  services, unseeded, asked the same question several times): how many pairs it would fail.

    python bench/semantic.py
    python bench/semantic.py --reference-answers
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import itertools
import math
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness._verdict import _minilm  # noqa: E402
from harness._verdict._embeddings import EmbeddingSimilarity, LocalEmbedder, cosine  # noqa: E402
from harness._verdict._facts import disagreements  # noqa: E402
from harness._verdict._parity import SEMANTIC_THRESHOLD  # noqa: E402
from harness._verdict._similarity import text_similarity  # noqa: E402
from reference_services.terms import content_terms  # noqa: E402

PAIRS = ROOT / "tests" / "data" / "paraphrases.yaml"
Similarity = Callable[[str, str], float]


@dataclass(frozen=True)
class Triple:
    text: str
    paraphrase: str
    changed: str
    kind: str


def load(part: str) -> list[Triple]:
    return [Triple(**t) for t in yaml.safe_load(PAIRS.read_text(encoding="utf-8"))[part]]


def stand_in(text: str, dimensions: int = 256) -> list[float]:
    """The embedded model's former /v1/embeddings: hashed content words and their trigrams (no synonyms)."""

    def features() -> Iterator[tuple[str, float]]:
        for word in content_terms(text):
            yield "w:" + word, 1.0
            padded = f"#{word}#"
            yield from (("c:" + padded[i : i + 3], 0.35) for i in range(len(padded) - 2))

    vector = [0.0] * dimensions
    for feature, weight in features():
        digest = hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest()
        vector[int.from_bytes(digest[:4], "little") % dimensions] += weight if digest[4] & 1 else -weight
    norm = math.sqrt(sum(v * v for v in vector))
    return [v / norm for v in vector] if norm else vector


def embedded(embed: Callable[[Sequence[str]], list[list[float]]], triples: Sequence[Triple]) -> Similarity:
    texts = list(dict.fromkeys(t for tr in triples for t in (tr.text, tr.paraphrase, tr.changed)))
    vectors = dict(zip(texts, embed(texts), strict=True))
    return lambda a, b: max(0.0, min(1.0, cosine(vectors[a], vectors[b])))


def product_judge(triples: Sequence[Triple]) -> EmbeddingSimilarity:
    """What ``semantic`` parity judges with when no embedder is given: the local model, through ``LocalEmbedder``,
    which also embeds the words the fact check finds swapped between any two texts of a triple."""
    vectors: dict[str, list[float]] = {}
    for t in triples:
        vectors.update(asyncio.run(LocalEmbedder().similarity([t.text, t.paraphrase, t.changed])).vectors)
    return EmbeddingSimilarity(vectors, _minilm.MODEL_NAME)


def scores(similarity: Similarity, triples: Sequence[Triple]) -> tuple[list[float], list[float]]:
    same = [similarity(t.text, t.paraphrase) for t in triples]
    changed = [similarity(t.text, t.changed) for t in triples]
    return same, changed


def right(same: Sequence[float], changed: Sequence[float], threshold: float) -> int:
    """Pairs judged right at ``threshold``: paraphrases pass, changed meanings fail."""
    return sum(s >= threshold for s in same) + sum(c < threshold for c in changed)


def best_threshold(same: Sequence[float], changed: Sequence[float]) -> float:
    """The threshold (a midpoint between two scores) that judges the most pairs right."""
    values = sorted({*same, *changed, 0.0, 1.0})
    candidates = [(a + b) / 2 for a, b in itertools.pairwise(values)]
    return max(candidates, key=lambda t: (right(same, changed, t), -abs(t - 0.5)))


def share(count: int, total: int) -> str:
    return f"{count}/{total} ({count / total:.0%})"


def others(triples: Sequence[Triple]) -> list[Triple]:
    """Another answer altogether (a wrong or off-topic reply): each sentence against the next triple's paraphrase."""
    return [
        Triple(t.text, t.paraphrase, n.paraphrase, "other")
        for t, n in zip(triples, [*triples[1:], triples[0]], strict=True)
    ]


def row(name: str, similarity: Similarity, calibration: list[Triple], held_out: list[Triple], default: float) -> str:
    cal_same, cal_changed = scores(similarity, calibration)
    held_same, held_changed = scores(similarity, held_out)
    t = best_threshold(cal_same, cal_changed)
    cal, held = 2 * len(calibration), 2 * len(held_out)
    return (
        f"{name:32} {t:6.2f} {share(right(cal_same, cal_changed, t), cal):>12} "
        f"{share(right(held_same, held_changed, t), held):>12} "
        f"{share(right(cal_same, cal_changed, default), cal):>12} "
        f"{share(right(held_same, held_changed, default), held):>12}"
    )


QUESTIONS = [
    ("Macroeconomics 201", "Can you explain the difference between nominal and real GDP?"),
    ("Macroeconomics 201", "What are the three big topics for exam 1?"),
    ("Macroeconomics 201", "What is GDP?"),
    ("Macroeconomics 201", "How is unemployment measured?"),
    ("Macroeconomics 201", "What causes inflation?"),
    ("Introduction to Biology", "What do mitochondria do in a cell?"),
    ("Introduction to Biology", "What is photosynthesis?"),
]
EXAMS = [("Chemistry", "Atoms", 8), ("Introduction to Biology", "Cells", 4)]


def reference_answers(samples: int) -> None:
    """Fact disagreements between answers of the unseeded reference services to the same request."""
    import httpx

    from reference_services.inprocess import start_stack

    stack = start_stack(settings_overrides={"seed": None, "temperature": 0.5})
    headers = {"Authorization": f"Bearer {stack.qa_token}"}
    found: list[tuple[str, list[str]]] = []
    pairs = 0
    try:
        with httpx.Client(base_url=stack.base_url, headers=headers, timeout=60) as client:
            asked: list[tuple[str, list[str]]] = []
            for n, (course, message) in enumerate(QUESTIONS):
                bodies = [
                    {"user_id": f"u{n}", "course": course, "conversation_id": f"c{n}-{k}", "message": message}
                    for k in range(samples)
                ]
                asked.append(
                    (message, [client.post("/studycompanion/chat/qa", json=b).json()["reply"] for b in bodies])
                )
            for title, topic, count in EXAMS:
                body = {"course_title": title, "course_topic": topic, "num_questions": count}
                exams = [client.post("/examgenerator/create/qa", json=body).json()["text"] for _ in range(samples)]
                asked.append((f"exam {title} / {topic}", exams))
    finally:
        stack.stop()
    for request, texts in asked:
        judge = asyncio.run(LocalEmbedder().similarity(texts))  # word swaps judged as a run judges them
        for a, b in itertools.combinations(texts, 2):
            pairs += 1
            if differing := disagreements(a, b, judge):
                found.append((request, differing))
    print(f"\nfacts on the reference services' unseeded answers ({samples} per request, {len(asked)} requests):")
    print(f"  pairs the fact check would fail: {share(len(found), pairs)}")
    for request, differing in found:
        print(f"    {request}: {'; '.join(differing)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threshold", type=float, default=SEMANTIC_THRESHOLD, help="the default to report at")
    parser.add_argument(
        "--reference-answers", action="store_true", help="also check facts on unseeded reference answers"
    )
    parser.add_argument("--samples", type=int, default=4, help="answers per request with --reference-answers")
    args = parser.parse_args()
    default = args.threshold
    calibration, development, held_out = load("calibration"), load("development"), load("held_out")
    minimal = {"minimal dev": load("minimal_development"), "minimal held": load("minimal_held_out")}
    everything = [*calibration, *development, *held_out]

    started = time.perf_counter()
    _minilm.embed(["warm up"])
    load_s = time.perf_counter() - started
    texts = list(dict.fromkeys(t for tr in everything for t in (tr.text, tr.paraphrase, tr.changed)))
    started = time.perf_counter()
    _minilm.embed(texts)
    per_text_ms = (time.perf_counter() - started) / len(texts) * 1000

    measures: dict[str, Similarity] = {
        "lexical (word+bigram cosine)": text_similarity,
        "stand-in (hashed words, former)": embedded(lambda ts: [stand_in(t) for t in ts], everything),
        f"learned ({_minilm.MODEL_NAME})": embedded(_minilm.embed, everything),
    }
    print(
        f"{len(calibration)} calibration, {len(development)} development and {len(held_out)} held-out triples "
        f"from {PAIRS.relative_to(ROOT)}"
    )
    print("pairs judged right: same meaning >= threshold, the other pair < threshold; best t chosen on calibration")
    header = f"{'measure':32} {'best t':>6} {'calib @t':>12} {'held-out @t':>12}"
    header += f" {'calib @' + format(default, '.2f'):>12} {'held @' + format(default, '.2f'):>12}"
    for title, pick in (
        ("\nA. same meaning in other words vs another answer altogether", others),
        ("\nB. same meaning in other words vs changed meaning with shared words", lambda ts: list(ts)),
    ):
        print(title)
        print(header)
        for name, similarity in measures.items():
            print(row(name, similarity, pick(calibration), pick(held_out), default))
    print("\nB, ranked (paraphrase above changed meaning), all triples:")
    for name, similarity in measures.items():
        same, changed = scores(similarity, everything)
        print(f"  {name:32} {share(sum(s > c for s, c in zip(same, changed, strict=True)), len(everything))}")

    learned = measures[f"learned ({_minilm.MODEL_NAME})"]
    same, changed = scores(learned, everything)
    _, other = scores(learned, others(everything))
    by_kind: dict[str, list[float]] = {}
    for score, triple in zip(changed, everything, strict=True):
        by_kind.setdefault(triple.kind, []).append(score)
    print(f"\n{_minilm.MODEL_NAME} at {default:.2f}, all triples:")
    for label, values, wanted in (
        ("same meaning in other words", same, "pass"),
        ("another answer altogether", other, "fail"),
        *(
            (
                f"changed meaning: {kind}",
                [c for c, t in zip(changed, everything, strict=True) if t.kind == kind],
                "fail",
            )
            for kind in ("negation", "number", "entity")
        ),
    ):
        judged = sum((v >= default) == (wanted == "pass") for v in values)
        print(
            f"  {label:32} {share(judged, len(values)):>12} {wanted}   scores {min(values):.2f}..{max(values):.2f}, "
            f"median {statistics.median(values):.2f}"
        )
    print(f"\nsemantic parity at {default:.2f}: same meaning passes, changed meaning (shared words) fails")
    print(f"{'judge':34} {'set':12} {'same passes':>14} {'changed fails':>14}")
    judge = product_judge([*everything, *(t for ts in minimal.values() for t in ts)])  # as a run embeds them

    def passes(a: str, b: str, facts: bool) -> bool:
        return judge(a, b) >= default and not (facts and disagreements(a, b, judge))

    for name, facts in (("embeddings alone", False), ("embeddings + facts", True)):
        sets = {"calibration": calibration, "development": development, "held-out": held_out, **minimal}
        for part, triples in sets.items():
            same_ok = sum(passes(t.text, t.paraphrase, facts) for t in triples)
            changed_ok = sum(not passes(t.text, t.changed, facts) for t in triples)
            print(f"  {name:32} {part:12} {share(same_ok, len(triples)):>14} {share(changed_ok, len(triples)):>14}")
    for label, pair in (("same meanings that fail", "paraphrase"), ("changed meanings that pass", "changed")):
        wrong = [t for t in held_out if passes(t.text, getattr(t, pair), True) != (pair == "paraphrase")]
        print(f"  held-out {label}:", *(f"\n    {t.kind:9} {getattr(t, pair)}" for t in wrong))
    print(f"\nfirst load {load_s:.2f} s, then {per_text_ms:.1f} ms per text (one CPU thread)")
    if args.reference_answers:
        reference_answers(args.samples)


if __name__ == "__main__":
    main()
