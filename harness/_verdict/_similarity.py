"""Text similarity for ``lexical`` and ``semantic`` parity.

``text_similarity`` is lexical: the cosine of word unigram + bigram term-frequency vectors after Unicode
NFKC and case folding. It rewards shared content words and phrasing, tolerates reordering and small
rewordings, and drops sharply when content is missing; it does not know synonyms. Scores are in [0, 1].
It judges the ``lexical`` level; ``semantic`` is judged by embeddings (``harness._verdict._embeddings``: the run's
embedder or the local model), and by this measure only where a caller of ``compare`` passes no similarity.
"""

from __future__ import annotations

import itertools
import math
import re
import unicodedata
from collections import Counter
from typing import Protocol

_WORD = re.compile(r"\w+")


class TextSimilarity(Protocol):
    """A similarity in [0, 1] between two texts, and the name a parity report gives the judge."""

    @property
    def name(self) -> str:
        """E.g. ``lexical: word+bigram cosine`` or ``embeddings: text-embedding-3-small``."""
        ...

    def __call__(self, a: str, b: str) -> float: ...


class LexicalSimilarity:
    """``text_similarity`` as a ``TextSimilarity``."""

    name = "lexical: word+bigram cosine"

    def __call__(self, a: str, b: str) -> float:
        return text_similarity(a, b)


LEXICAL = LexicalSimilarity()


def terms(text: str) -> Counter[str]:
    """Unigram and bigram counts of ``text``."""
    words = _WORD.findall(unicodedata.normalize("NFKC", text).casefold())
    counts: Counter[str] = Counter(words)
    counts.update(f"{a} {b}" for a, b in itertools.pairwise(words))
    return counts


def text_similarity(a: str, b: str) -> float:
    """Cosine similarity of the unigram+bigram vectors of ``a`` and ``b``; 1.0 for two empty texts."""
    ta, tb = terms(a), terms(b)
    if not ta and not tb:
        return 1.0
    if not ta or not tb:
        return 0.0
    dot = sum(count * tb[term] for term, count in ta.items())
    norm = math.sqrt(sum(c * c for c in ta.values())) * math.sqrt(sum(c * c for c in tb.values()))
    return min(1.0, dot / norm)
