"""Content terms of English text: the tokeniser shared by retrieval and the reference model."""

from __future__ import annotations

import re

_WORD = re.compile(r"[0-9A-Za-zÀ-ÖØ-öø-ÿ]+(?:['\u2019][A-Za-z]+)?")

STOPWORDS = frozenset(
    """
    a about above after again all also am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further got had
    has have having he her here hers him his how i if in into is it its itself just me more most my
    no nor not now of off on once only or other our out over own same she should so some such than
    that the their them then there these they this those through to too under until up very was we
    were what when where which while who whom why will with would you your yours explain tell
    describe please okay ok thanks thank know mean does did say says said
    """.split()  # noqa: SIM905 - a word list reads best as words
)


def stem(word: str) -> str:
    """A deliberately tiny stemmer: enough to match 'rises' with 'rise' and 'topics' with 'topic'."""
    w = word.lower()
    for suffix in ("'s", "\u2019s"):
        w = w.removesuffix(suffix)
    if len(w) > 4 and w.endswith("ies"):
        w = w[:-3] + "y"
    elif len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
        w = w[:-1]
    if len(w) > 5 and w.endswith("ing"):
        w = w[:-3]
    elif len(w) > 4 and w.endswith("ed"):
        w = w[:-2]
    if len(w) > 3 and w.endswith("e"):
        w = w[:-1]
    return w


def content_terms(text: str) -> list[str]:
    """Stemmed words of ``text`` without stopwords or one-character tokens, in order."""
    out: list[str] = []
    for match in _WORD.finditer(text):
        word = match.group(0).lower()
        if len(word) < 2 or word in STOPWORDS:
            continue
        out.append(stem(word))
    return out
