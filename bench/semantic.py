"""How well each similarity separates same meaning from changed meaning, on the project's paraphrase set.

``tests/data/paraphrases.yaml`` holds triples: a sentence, the same meaning in other words, and a changed meaning
that shares its words (a negation, another number, another entity). For each measure — the lexical word+bigram
cosine, the hashed bag-of-words stand-in the embedded model answered with before, and the learned model
(all-MiniLM-L6-v2) — this prints:

- ranked: triples whose paraphrase scores above their changed meaning;
- the threshold that classifies the most calibration pairs right (paraphrase >= t, changed < t), and the share of
  pairs right at it on the calibration and on the held-out set (which played no part in choosing it);
- the same at the documented default threshold, with the misjudged pairs of the learned model;
- the learned model's first-load and per-text time.

    python bench/semantic.py
"""

from __future__ import annotations

import argparse
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
from harness._verdict._embeddings import cosine  # noqa: E402
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threshold", type=float, default=SEMANTIC_THRESHOLD, help="the default to report at")
    args = parser.parse_args()
    default = args.threshold
    calibration, held_out = load("calibration"), load("held_out")
    everything = [*calibration, *held_out]

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
    print(f"{len(calibration)} calibration and {len(held_out)} held-out triples from {PAIRS.relative_to(ROOT)}")
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
    print(f"\nfirst load {load_s:.2f} s, then {per_text_ms:.1f} ms per text (one CPU thread)")


if __name__ == "__main__":
    main()
