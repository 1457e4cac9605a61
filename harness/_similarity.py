"""Lexical text similarity for semantic parity.

No embedding model is available offline, so "semantic" here is lexical: the cosine of word unigram +
bigram term-frequency vectors after Unicode NFKC and case folding. It rewards shared content words and
phrasing, tolerates reordering and small rewordings, and drops sharply when content is missing; it does not
know synonyms. Scores are in [0, 1].
"""

from __future__ import annotations

import itertools
import math
import re
import unicodedata
from collections import Counter

_WORD = re.compile(r"\w+")


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
