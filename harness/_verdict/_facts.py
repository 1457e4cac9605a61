"""Fact agreement for ``semantic`` parity: the facts a paraphrase keeps and a changed meaning breaks.

A sentence embedding places "the car is fast" and "the car is not fast" side by side, and "water boils at 100
degrees" next to "at 70 degrees": the words are the same. So ``semantic`` parity also compares what the two
texts state, with cheap heuristics:

- **numbers**: digits and number words (``text2num``), percentages and fractions of a thing (``two fifths of`` =
  ``40%``), times of day (``5 pm`` = ``five in the afternoon`` = ``17:00``), durations in one unit (``2 hours`` =
  ``120 minutes``, ``three decades`` = ``30 years``). Ordinals and list markers are left out; so is "one", which
  is as often a pronoun as a number, and "once" unless a unit follows ("once a week").
- **polarity**: per clause, the parity of its negation cues (``not``, ``n't``, ``no``, ``never``, ``without``,
  ``cannot``…; "not only", "no more than" and "with no" are no negation, and two cues cancel out), and the poles
  of the opposites it uses (rise/fall, more/less, open/closed, include/remove…), in order. A clause starts at
  "without", which negates what follows it. Clauses of the two texts are paired when they share at least two
  content words, so a clause restated in other words is seldom paired with the one it restates.
- **entities**: capitalised words not at a sentence start, and acronyms (forms of one name and a name's
  initials agree: "German" / "Germany", "US" / "United States"); and the first word of paired clauses that start
  a sentence, when it is capitalised, neither text uses it elsewhere and the clauses share most of their words
  ("Paris / Lyon is the capital of France").
- **word swaps** (``word_swaps``): a sentence both texts share but for a slot filled with other words. A word
  against its negative ("mutable" / "immutable") disagrees; so, given the run's embeddings (``related``), do
  words they score below ``SWAP_THRESHOLD`` ("price" / "output"). Another thing of the same kind ("pancreas" /
  "liver") scores like a synonym, and passes: that needs a judge that knows the world (``llm_judge``).

Numbers and entities compare as sets, and one side may omit what the other says: only when each side states
one the other lacks (``prod says 1990, qa says 1985``) do they disagree. Paired clauses disagree when one
negates what the other affirms (``negation: qa says "is not fast", prod "is fast"``), or uses the opposite
word (``opposite: qa says "cut", prod "raised"``); "is not open" and "is closed" agree.
"""

from __future__ import annotations

import difflib
import itertools
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

MAX_TEXT = 20_000
"""Characters of each text whose facts are compared (a long answer's start; the heuristics are linear, but a
huge text is no paraphrase anyone reads)."""


@dataclass(frozen=True)
class Clause:
    """One clause: its content words, whether it is negated, and the opposites it uses."""

    text: str
    terms: frozenset[str]
    negated: bool
    poles: tuple[tuple[str, int, str], ...]
    """(dimension, +1 or -1, the word) for each opposite the clause uses."""
    head: str = ""
    """The capitalised word that starts the clause when it starts a sentence (``Paris`` is the capital)."""


@dataclass(frozen=True)
class Facts:
    """What one text states: its numbers, entities, words (stemmed) and clauses."""

    numbers: dict[str, frozenset[str]]
    """As written -> the canonical forms it matches (``2 hours``: ``7200 s`` and ``2``)."""
    entities: dict[str, frozenset[str]]
    words: frozenset[str]
    clauses: tuple[Clause, ...]


Related = Callable[[str, str], float]
"""How alike in meaning two short runs of words are, in [0, 1] (the run's embeddings)."""

SWAP_THRESHOLD = 0.25
"""Below this, the words that fill one slot of a shared sentence are another meaning, not a synonym. Chosen on the
development half of the minimal-edit triples of ``tests/data/paraphrases.yaml`` (one word swapped for a synonym,
or for another meaning): the highest threshold that fails none of its synonyms. Synonyms of verbs score as low as
0.25-0.30 there ("covers" / "applies to"), so the swaps this catches are words plainly unrelated ("price" /
"output", 0.21); another thing of the same kind ("pancreas" / "liver", 0.44) scores like a synonym."""


def disagreements(qa: str, prod: str, related: Related | None = None) -> list[str]:
    """The facts on which ``qa`` and ``prod`` disagree, each as one line naming both sides; empty when they agree.

    A sentence both texts share but for one slot filled with a word and its negative (``mutable`` /
    ``immutable``) disagrees too; with ``related``, so does one filled with unrelated words (``word_swaps``).
    """
    return compare_facts(extract(qa), extract(prod)) or _swap_conflicts(qa, prod, related)


def compare_facts(qa: Facts, prod: Facts) -> list[str]:
    """``disagreements`` on facts extracted beforehand."""
    found = []
    numbers = _set_conflict(qa.numbers, prod.numbers, qa.words, prod.words)
    if numbers:
        found.append("numbers: " + numbers)
    entities = _set_conflict(qa.entities, prod.entities, qa.words, prod.words)
    if entities:
        found.append("entities: " + entities)
    found.extend(_clause_conflicts(qa, prod))
    return found


# --- extraction -----------------------------------------------------------------------------------


@lru_cache(maxsize=256)  # a case compares each text with a few others; bounded, texts can be long
def extract(text: str) -> Facts:
    """The facts ``text`` states."""
    text = unicodedata.normalize("NFKC", text[:MAX_TEXT]).replace("\u2019", "'")
    words = frozenset(_stem(w) for w in _WORD.findall(text.casefold()))
    return Facts(_numbers(text), _entities(text), words, tuple(_clauses(text)))


_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


def _stem(word: str) -> str:
    """A crude stem, enough to pair ``restarts`` with ``restart`` and ``rising`` with ``rises``."""
    word = word.casefold()
    if word.endswith("'s"):
        word = word[:-2]
    for suffix in ("ing", "ied", "ies", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            word = word[: -len(suffix)]
            break
    return word[:-1] if word.endswith("e") and len(word) > 3 else word


# --- numbers --------------------------------------------------------------------------------------

_YEAR_S = 365.25 * 86400
_DURATION_S = {
    "second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 604800, "month": _YEAR_S / 12, "year": _YEAR_S,
    "decade": 10 * _YEAR_S, "century": 100 * _YEAR_S, "centurie": 100 * _YEAR_S,  # + "s": "centuries"
}  # fmt: skip
_MULTIPLES = {"twice": "2", "thrice": "3", "trio": "3", "dozen": "12", "dozens": "12"}
_LIST_MARKER = re.compile(r"(?m)^(\s*)\d{1,3}[.)](?=\s)")
_SPOKEN_TIME = re.compile(
    r"\b(?:(?P<quarter>quarter|half)\s+(?P<rel>past|to)\s+)?(?P<h>\d{1,2})(?::(?P<m>\d{2}))?\s*"
    r"(?P<part>a\.?m\.?|p\.?m\.?|o'clock|in the (?:morning|afternoon|evening)|at night)(?![\w])",
    re.IGNORECASE,
)
_CLOCK = re.compile(r"(?<![\w:.])(?P<h>\d{1,2}):(?P<m>\d{2})(?![\w:])")
_QUARTER = re.compile(r"\b(?P<quarter>quarter|half)\s+(?P<rel>past|to)\s+(?P<h>\d{1,2})(?![\w:])", re.IGNORECASE)
_NAMED_TIME = re.compile(r"\b(?P<name>noon|midday|midnight)\b", re.IGNORECASE)
# "one minute before midnight" = 23:59, "ten minutes past noon" = 12:10: a time of day follows.
_OFFSET = re.compile(r"\b(?P<n>\d+|an?|one)\s+minutes?\s+(?P<rel>before|after|past|to)\s+", re.IGNORECASE)
_NUMBER = re.compile(
    r"(?<![\w.,:/-])[$€£]?(?P<value>\d{1,3}(?:,\d{3})+|\d+)(?P<fraction>\.\d+)?"
    r"(?:\s*(?P<percent>%|percent\b|per cent\b)|\s*(?P<unit>" + "|".join(_DURATION_S) + r")s?\b)?"
    r"(?![\w.,:]\d|[\w%])"
)
# "once a week", "once every 2 days" state a count; "once a full day has passed" is a conjunction.
_ONCE = re.compile(
    r"\bonce\s+(?=(?:a|an|per|every|each)\s+(?:\d+\s+)?(?:second|minute|hour|day|night|week|fortnight|month|"
    r"quarter|year|term|semester|session)s?\b)",
    re.IGNORECASE,
)
# A fraction of something ("two fifths of", "a tenth of", "three quarters of") as a percentage; number words are
# digits and denominators ordinals by then ("2 5ths of").
_FRACTION = re.compile(
    r"\b(?P<count>\d+|an?|one)\s+(?:(?P<den>[3-9]|\d\d+)(?:st|nd|rd|th)s?|(?P<word>halfs?|halves|quarters?))\s+"
    r"(?=of\b(?!\s+(?:an?\s+)?(?:second|minute|hour|day|week|month|year)s?\b))",
    re.IGNORECASE,
)  # "2nd" is never a half ("a second of delay"); "a quarter of an hour" is a duration


def _numbers(text: str) -> dict[str, frozenset[str]]:
    """Each number as written -> its canonical forms."""
    text = _LIST_MARKER.sub(r"\1", text)  # "1. First point" numbers a list, it states nothing
    text = re.sub(r"\b(?:a\s+)?(" + "|".join(_MULTIPLES) + r")\b", lambda m: _MULTIPLES[m[1].casefold()], text)
    text = _ONCE.sub("1 ", _spelled_out(text))
    found: dict[str, frozenset[str]] = {}
    taken: list[tuple[int, int]] = []

    def add(match: re.Match[str], *keys: str, end: int | None = None) -> None:
        span = (match.start(), match.end() if end is None else end)
        if not any(start < span[1] and span[0] < stop for start, stop in taken):
            found.setdefault(" ".join(text[span[0] : span[1]].split()).rstrip("."), frozenset(keys))
            taken.append(span)

    for match in _OFFSET.finditer(text):
        base = _time_at(text, match.end())
        if base is not None:
            minutes = 1 if not match["n"][0].isdigit() else int(match["n"])
            sign = -1 if match["rel"].casefold() in ("before", "to") else 1
            clock = (base[0] + sign * minutes) % (24 * 60)
            add(match, f"{clock // 60:02d}:{clock % 60:02d}", end=base[1])
    for match in _SPOKEN_TIME.finditer(text):
        add(match, _clock(match))
    for match in _QUARTER.finditer(text):
        add(match, _clock(match))
    for match in _CLOCK.finditer(text):
        if int(match["h"]) < 24 and int(match["m"]) < 60:
            add(match, f"{int(match['h']):02d}:{match['m']}")
    for match in _NAMED_TIME.finditer(text):
        add(match, "12:00" if match["name"].casefold() in ("noon", "midday") else "00:00")
    for match in _NUMBER.finditer(text):
        value = float(match["value"].replace(",", "") + (match["fraction"] or ""))
        # A percentage or a duration also matches its bare number ("5 days" = "five working days").
        if match["percent"]:
            add(match, f"{value:g}%", f"{value:g}", f"{round(value)}%")  # "two thirds" (66.7%) is "67%"
        elif match["unit"]:
            seconds = value * _DURATION_S[match["unit"].casefold()]
            days = {f"{round(seconds / 86400)} d"} if seconds >= 86400 else set()  # "a month" is "30 days"
            add(match, f"{seconds:g} s", f"{value:g}", *days)
        else:
            add(match, f"{value:g}")
    return found


def _time_at(text: str, position: int) -> tuple[int, int] | None:
    """The time of day written at ``position`` (minutes after midnight) and where it ends; None if none is."""
    for pattern in (_SPOKEN_TIME, _NAMED_TIME, _CLOCK):
        match = pattern.match(text, position)
        if match is None:
            continue
        if pattern is _NAMED_TIME:
            return (12 * 60 if match["name"].casefold() in ("noon", "midday") else 0), match.end()
        if pattern is _CLOCK and not (int(match["h"]) < 24 and int(match["m"]) < 60):
            return None
        hours, minutes = _clock(match).split(":") if pattern is _SPOKEN_TIME else (match["h"], match["m"])
        return int(hours) * 60 + int(minutes), match.end()
    return None


def _clock(match: re.Match[str]) -> str:
    """``5 pm``, ``five in the afternoon``, ``quarter past eight``, ``12 at night`` as ``HH:MM``."""
    hour, minute = int(match["h"]), int(match.groupdict().get("m") or 0)
    if match["quarter"]:
        minute = 15 if match["quarter"].casefold() == "quarter" else 30
        if match["rel"].casefold() == "to":
            hour, minute = hour - 1, 60 - minute
    part = (match.groupdict().get("part") or "").casefold().replace(".", "")
    if part in ("pm", "in the afternoon", "in the evening") and hour < 12:
        hour += 12
    elif part in ("am", "at night") and hour == 12:
        hour = 0  # 12 am and 12 at night are midnight
    elif part == "at night" and 6 <= hour < 12:
        hour += 12
    return f"{hour % 24:02d}:{minute:02d}"


def _spelled_out(text: str) -> str:
    """Number words as digits (``two thousand`` -> ``2000``), fractions of a thing as percentages (``a tenth of``
    -> ``10% of``); "one" and ordinals stay words."""
    from text_to_num import alpha2digit  # lazy: only when facts are compared

    converted: str = alpha2digit(text, "en", 1.5)  # isolated numbers from 2: "one" stays a word
    converted = _FRACTION.sub(_percent, converted)
    # alpha2digit writes ordinals as digits ("second" -> "2nd"): an ordinal is as often a rank or a
    # time unit as a number, so it counts as none.
    return re.sub(r"\b\d+(?:st|nd|rd|th)\b", "", converted)


def _percent(match: re.Match[str]) -> str:
    count = 1 if not match["count"][0].isdigit() else int(match["count"])
    word = (match["word"] or "").casefold()
    denominator = int(match["den"]) if match["den"] else 4 if word.startswith("quarter") else 2
    return f"{100 * count / denominator:.3g}% "


# --- entities -------------------------------------------------------------------------------------

_CAPITALISED = re.compile(r"\b[A-Z][\w'-]*")
# A line that starts a list item ("- ", "1. ", "a) ", as an exam's choices) starts a sentence too.
_SENTENCE_START = re.compile(r"(?:^|[.!?:]['\")\]]*\s+|\n)\s*(?:[-*•#>]+\s*|(?:\d{1,3}|[a-z])[.)]\s*)*['\"(\[*_]*$")
_NOT_NAMES = frozenset({"I", "AM", "PM", "OK", "NOT", "NO", "A", "AN", "THE"})


def _entities(text: str) -> dict[str, frozenset[str]]:
    """Capitalised words not at a sentence start, and acronyms: as written -> casefolded (and, for a word of a
    name of several, the name's initials: "United States" matches "US")."""
    initials: dict[str, set[str]] = {}
    for run in _NAME_RUN.finditer(text):
        words = [w for w in run[0].split() if w not in _NAME_FILLERS][:_MAX_NAME_WORDS]
        # Every stretch of two or more of its words: "In the United States" holds "United States", so "US".
        for start, end in itertools.combinations(range(len(words) + 1), 2):
            if end - start >= 2:
                for word in words[start:end]:
                    initials.setdefault(word, set()).add("".join(w[0] for w in words[start:end]).casefold())
    found: dict[str, frozenset[str]] = {}
    for match in _CAPITALISED.finditer(text):
        word = re.sub(r"'s$", "", match[0]).rstrip("'-")
        if word in _NOT_NAMES or len(word) < 2:
            continue
        acronym = sum(c.isupper() for c in word) >= 2  # GDP, CO2, McDonald: a name even at a sentence start
        if acronym or not _SENTENCE_START.search(text[max(0, match.start() - 12) : match.start()]):
            found.setdefault(word, frozenset({word.casefold(), *initials.get(word, ())}))
    return found


_NAME_RUN = re.compile(r"\b[A-Z][\w'-]*(?:\s+(?:of\s+|the\s+|and\s+)?[A-Z][\w'-]*)+")
_NAME_FILLERS = frozenset({"of", "the", "and", "The", "A", "An"})
_MAX_NAME_WORDS = 6


def _same_name(a: str, b: str) -> bool:
    """Two forms of one name: "German" / "Germany", "Canada" / "Canadian", "Japan" / "Japanese": four letters
    or more shared from the start, then a place's or a people's ending ("Niger" / "Nigeria" and "George" /
    "Georgia" are other names)."""
    shared = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    return a.isalpha() and b.isalpha() and shared >= 4 and a[shared:] in _NAME_ENDINGS and b[shared:] in _NAME_ENDINGS


_NAME_ENDINGS = frozenset({"", "a", "e", "y", "n", "s", "an", "ian", "ese", "ish", "i"})


def _set_conflict(
    qa: dict[str, frozenset[str]], prod: dict[str, frozenset[str]], qa_words: frozenset[str], prod_words: frozenset[str]
) -> str:
    """Each side states one the other lacks (even as a plain word): ``qa says X, prod says Y``; else empty."""
    qa_keys, prod_keys = frozenset().union(*qa.values()), frozenset().union(*prod.values())

    def stated(keys: frozenset[str], shown: str, other_keys: frozenset[str], other_words: frozenset[str]) -> bool:
        """Not said by the other side, even as a plain word or in another form of the name."""
        return (
            not keys & other_keys
            and _stem(shown) not in other_words
            and not any(_same_name(key, other) for key in keys for other in other_keys)
        )

    only_qa = [shown for shown, keys in qa.items() if stated(keys, shown, prod_keys, prod_words)]
    only_prod = [shown for shown, keys in prod.items() if stated(keys, shown, qa_keys, qa_words)]
    if not only_qa or not only_prod:
        return ""  # one side omits or adds: a paraphrase may say less, it does not say otherwise
    return f"qa says {_listed(only_qa)}, prod says {_listed(only_prod)}"


def _listed(items: list[str]) -> str:
    shown = ", ".join(items[:3])
    return shown + (f" (+{len(items) - 3} more)" if len(items) > 3 else "")


# --- polarity -------------------------------------------------------------------------------------

_NEGATIONS = frozenset(
    {"not", "no", "never", "none", "nothing", "nobody", "neither", "nor", "nowhere", "cannot", "without"}
)
_AUXILIARIES = frozenset(
    {"do", "does", "did", "is", "are", "was", "were", "will", "would", "can", "could", "should", "may", "might",
     "must", "has", "have", "had", "shall"}
)  # fmt: skip
_NOT_NEGATIONS = re.compile(
    r"\b(?:not\s+only|not\s+just|not\s+merely|no\s+doubt|nothing\s+but|no\s+sooner|no\s+matter|"
    r"if\s+not|whether\s+or\s+not|not\s+to\s+mention)\b",
    re.IGNORECASE,
)
# Phrases whose "no" or "not" states a bound or a side, said as the word for it before negation is counted:
# "no more than ten" is "at most ten" (and disagrees with "more than ten"), "no later than Friday" is "before
# Friday", "with no delay" is "without delay". A comparison's "more" or "less" ("more expensive than") is left
# out: "rail is more expensive than bus" and "bus is less expensive than rail" say the same.
_REWORDED = [
    (re.compile(r"\b(?:no|not)\s+(?:more|greater|higher|longer)\s+than\b|\bat\s+most\b|\bup\s+to\b", re.I), "atmost"),
    (re.compile(r"\b(?:no|not)\s+(?:less|fewer|lower|shorter)\s+than\b|\bat\s+least\b", re.I), "atleast"),
    (re.compile(r"\b(?:no|not)\s+(?:later|after)\s+than\b", re.I), "before"),
    (re.compile(r"\b(?:no|not)\s+(?:earlier|sooner)\s+than\b", re.I), "after"),
    (re.compile(r"\bwith\s+no\b", re.I), "without"),
    (re.compile(r"\b(?:more|less)\s+(?=[^\W\d_]+\s+than\b)", re.I), ""),
]
_SENTENCE = re.compile(r"(?<=[.!?])['\")\]]*\s+|\n+")
_CLAUSE_BREAK = re.compile(
    r"(?=\bwithout\b)|[.!?;:,()]+|\s[-\u2013\u2014]\s|\b(?:and|but|or|while|whereas|because|so|although|though|when|whenever|if|unless|"
    r"that|which|who|whom|where|since|as)\b",
    re.IGNORECASE,
)
# fmt: off
_OPPOSITES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "up/down": (
        ("rise", "rose", "risen", "increase", "raise", "grow", "grew", "grown", "climb", "gain", "boost", "higher"),
        ("fall", "fell", "fallen", "decrease", "cut", "lower", "reduce", "drop", "dropped", "decline", "shrink",
         "shrank", "erode", "diminish", "lessen"),
    ),
    "more/less": (("more", "atleast"), ("less", "fewer", "atmost")),
    "fast/slow": (("fast", "faster", "quick", "quicker", "speed", "accelerate"), ("slow", "slower", "decelerate")),
    "open/closed": (("open", "opened"), ("close", "closed", "shut")),
    "include/remove": (("include", "contain", "add"), ("exclude", "remove", "omit", "strip")),
    "free/paid": (("free",), ("charge", "paid", "pay", "fee", "cost")),
    "allow/forbid": (
        ("allow", "permit", "permitted", "accept", "approve", "grant"),
        ("forbid", "forbidden", "forbade", "prohibit", "ban", "banned", "reject", "refuse", "deny", "block",
         "disallow"),
    ),
    "required/optional": (("required", "mandatory", "compulsory", "obligatory"), ("optional", "voluntary")),
    "pass/fail": (("pass", "succeed", "win"), ("fail", "lose", "lost")),
    "before/after": (("before", "earlier"), ("after", "later")),
    "true/false": (("true", "correct", "valid"), ("false", "incorrect", "wrong", "invalid")),
    "start/stop": (("start", "begin", "began", "begun", "enable"), ("stop", "stopped", "finish", "disable")),
}
# fmt: on
_POLE = {
    _stem(word): (dimension, sign)
    for dimension, poles in _OPPOSITES.items()
    for sign, words in zip((1, -1), poles, strict=True)
    for word in words
}
_STOPWORDS = frozenset(
    {
        "a", "an", "the", "is", "are", "was", "were", "be", "been", "being", "am", "do", "does", "did", "has",
        "have", "had", "it", "its", "this", "these", "those", "there", "their", "they", "them", "he", "she", "his",
        "her", "we", "our", "you", "your", "of", "to", "in", "on", "at", "by", "for", "from", "with", "into", "up",
        "out", "over", "under", "about", "than", "then", "also", "can", "could", "may", "might", "must", "should",
        "will", "would", "shall", "each", "every", "any", "all", "some", "such", "what", "how", "one", "most",
        "very", "just", "only", "usually", "typically", "s", "t", "n't", "down", "off", "too",
    }
)  # fmt: skip


def _clauses(text: str) -> Iterator[Clause]:
    """The text cut at punctuation and conjunctions, each piece with its content words and polarity."""
    for pattern, word in _REWORDED:
        text = pattern.sub(word, text)
    for sentence in _SENTENCE.split(_NOT_NEGATIONS.sub(" ", text)):
        for index, piece in enumerate(_CLAUSE_BREAK.split(sentence)):
            clause = _clause(piece)
            if clause is not None:
                found = _WORD.match(piece.lstrip(" \t*_#>-\"'(["))
                head = found[0] if found and index == 0 else ""
                # A capitalised word that may be a name: not a function word, nor an opposite ("Raising rates ...").
                if head[:1].isupper() and head.casefold() not in _STOPWORDS and _stem(head) not in _POLE:
                    clause = replace(clause, head=head)
                yield clause


def _clause(piece: str) -> Clause | None:
    """One clause's content words (stemmed; an opposite counts as its dimension), negation and opposites."""
    words = [w.casefold() for w in _WORD.findall(piece)]
    if not words:
        return None
    cues = sum(w in _NEGATIONS or w.endswith("n't") for w in words)
    if words[-1].endswith("n't") or (len(words) > 1 and words[-1] == "not" and words[-2] in _AUXILIARIES):
        # "even if real output does not": the negated verb is left out, so what is denied is not known here.
        cues -= 1
    terms: set[str] = set()
    poles = []
    for word in words:
        stem = _stem(word.removesuffix("n't"))
        if word in _NEGATIONS or word in _STOPWORDS or stem in _STOPWORDS or len(stem) < 2:
            continue
        if stem in _POLE:
            dimension, sign = _POLE[stem]
            poles.append((dimension, sign, word))
            terms.add("~" + dimension)  # opposites count as a shared word: "demand falls" ~ "demand rises"
        else:
            terms.add(stem)
    return Clause(" ".join(piece.split()), frozenset(terms), cues % 2 == 1, tuple(poles))


def _clause_conflicts(qa: Facts, prod: Facts) -> list[str]:
    """Paired clauses (two content words or more in common) where one negates or opposes what the other says,
    or that start a sentence with another name."""
    found: list[str] = []
    for a, b in _pairs(qa.clauses, prod.clauses):
        message = _clause_conflict(a, b) or _head_conflict(a, b, qa.words, prod.words)
        if message and message not in found:
            found.append(message)
    return found


def _pairs(qa: tuple[Clause, ...], prod: tuple[Clause, ...]) -> Iterator[tuple[Clause, Clause]]:
    """Each clause with the other text's clause it shares the most content words with (two at least)."""
    seen: set[tuple[int, int]] = set()
    for mine, theirs, flip in ((qa, prod, False), (prod, qa, True)):
        index: dict[str, list[int]] = {}  # term -> the clauses holding it: counts shared words in one pass
        for j, other in enumerate(theirs):
            for term in other.terms:
                index.setdefault(term, []).append(j)
        for i, clause in enumerate(mine):
            shared = Counter(j for term in clause.terms for j in index.get(term, ()))
            most = max(shared.values(), default=0)
            if most < 2:
                continue
            # Of the clauses sharing as many words, one that agrees is the pair: restating a point twice, once
            # each way round, is not a contradiction.
            tied = sorted(j for j, count in shared.items() if count == most)
            j = next((j for j in tied if not _clause_conflict(clause, theirs[j])), tied[0])
            key = (j, i) if flip else (i, j)
            if key not in seen:
                seen.add(key)
                yield (theirs[j], clause) if flip else (clause, theirs[j])


def _clause_conflict(qa: Clause, prod: Clause) -> str:
    """Why two paired clauses disagree, or empty."""
    qa_poles, prod_poles = _poles_of(qa), _poles_of(prod)
    shared = qa_poles.keys() & prod_poles.keys()
    for dimension in sorted(shared):
        differing = _opposed(qa_poles[dimension], prod_poles[dimension])
        if differing:
            qa_said, prod_said = _said(qa, differing[0]), _said(prod, differing[1])
            return f"opposite ({dimension}): qa says {_quoted(qa_said)}, prod {_quoted(prod_said)}"
    if not shared and qa.negated != prod.negated:
        return f"negation: qa says {_quoted(qa.text)}, prod {_quoted(prod.text)}"
    return ""


def _poles_of(clause: Clause) -> dict[str, list[tuple[int, str]]]:
    """Dimension -> the sides the clause takes on it, in order, each with its word (a negated clause's flipped)."""
    sign = -1 if clause.negated else 1
    poles: dict[str, list[tuple[int, str]]] = {}
    for dimension, pole, word in clause.poles:
        poles.setdefault(dimension, []).append((pole * sign, word))
    return poles


def _opposed(qa: list[tuple[int, str]], prod: list[tuple[int, str]]) -> tuple[str, str] | None:
    """The words where two clauses take opposite sides of one dimension. Clauses that use it as often are compared
    in order ("raising rates reduces / increases inflation"); else only a clause taking one side throughout can
    oppose another ("raising rates reduces inflation" relates both sides, "higher rates" names one)."""
    if len(qa) == len(prod):
        return next(((a, b) for (sa, a), (sb, b) in zip(qa, prod, strict=True) if sa != sb), None)
    qa_sides, prod_sides = {side for side, _ in qa}, {side for side, _ in prod}
    if len(qa_sides) == 1 and len(prod_sides) == 1 and qa_sides != prod_sides:
        return qa[-1][1], prod[-1][1]
    return None


def _head_conflict(qa: Clause, prod: Clause, qa_words: frozenset[str], prod_words: frozenset[str]) -> str:
    """Paired clauses that start a sentence with different capitalised words neither text uses elsewhere: the
    subject changed ("Paris / Lyon is the capital of France") while the rest of the clause stayed (``SHARED_FRAME``
    of its content words; a clause reworded from its first word on shares fewer)."""
    if not qa.head or not prod.head or _stem(qa.head) in prod_words or _stem(prod.head) in qa_words:
        return ""
    if len(qa.terms & prod.terms) < SHARED_FRAME * min(len(qa.terms), len(prod.terms)):
        return ""
    return f"entities: qa says {qa.head}, prod says {prod.head}"


def _said(clause: Clause, word: str) -> str:
    shown = {"atmost": "at most", "atleast": "at least"}.get(word.casefold(), word)  # as ``_REWORDED`` wrote it
    return ("not " if clause.negated else "") + shown


def _quoted(text: str) -> str:
    return '"' + (text if len(text) <= 80 else text[:77] + "...") + '"'


# --- word swaps -----------------------------------------------------------------------------------

SHARED_FRAME = 0.6
"""Share of the shorter sentence's content words the other must repeat, in order, for the two to be one sentence
with slots filled differently (a rewording shares far fewer)."""
_MAX_SLOT = 4
"""Content words one slot may hold: a longer run is a rewording, not a swapped word."""
_MAX_SWAP_TOKENS = 80
"""Words of a sentence aligned for swaps: the alignment grows faster than the square of its length, and a longer
"sentence" is a run-on text (a list, a loop) where swaps mean little."""
_TOKEN = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)?")  # unlike ``_WORD``, with digits: a slot holding one is skipped


@lru_cache(maxsize=1024)  # the embedder asks for a pair's swaps, and the fact check again; bounded
def word_swaps(qa: str, prod: str) -> tuple[tuple[str, str], ...]:
    """Slots of a sentence both texts share, filled with other words: ``("erodes", "increases")``.

    Each sentence of ``qa`` is paired with the ``prod`` sentence sharing most of its content words; a pair that
    repeats at least ``SHARED_FRAME`` of them in order is one sentence, and each run of words one side replaced
    after words both keep (so never at the sentence start, where a rewording begins) is a slot. A slot that
    holds a number, no content word on a side, or more than ``_MAX_SLOT`` content words is left to the other
    facts.
    """
    found: list[tuple[str, str]] = []
    theirs = _sentences(prod)
    repeated = {sentence for sentence, _, _ in theirs}  # a sentence prod repeats has no slot
    for sentence, mine, content in _sentences(qa):
        if sentence in repeated or not theirs:
            continue
        best = max(theirs, key=lambda other: len(content & other[2]))[1]
        for swap in _slots(mine, best):
            if swap not in found:
                found.append(swap)
    return tuple(found)


Token = tuple[str, str]
"""A word as written, and its stem."""


@lru_cache(maxsize=256)  # each text is paired with every other of its case: split and tokenised once
def _sentences(text: str) -> tuple[tuple[str, tuple[Token, ...], frozenset[str]], ...]:
    """Each sentence of ``text`` that has words (first occurrence; ties then go to the first), with its words and
    its content words' stems."""
    found = []
    for sentence in dict.fromkeys(_SENTENCE.split(text[:MAX_TEXT])):
        tokens = _tokens(sentence)
        if tokens:
            found.append((sentence, tuple(tokens), frozenset(_content(tokens))))
    return tuple(found)


MAX_SWAP_TEXTS = 12
"""Texts whose word swaps are looked for and embedded (every ordered pair of them, so the work grows with the
square): a noise-aware case with more samples has the swaps among its first twelve texts judged, the others not."""
MAX_SWAPPED_WORDS = 256
"""Runs of swapped words embedded with a case's texts, at most."""


def swapped_words(texts: Sequence[str]) -> list[str]:
    """Every run of words ``word_swaps`` finds between any two of ``texts`` (the first ``MAX_SWAP_TEXTS``): what a
    judge of word swaps must have embedded along with the texts. A swap whose words were not embedded is not
    judged."""
    found: dict[str, None] = {}
    for a, b in itertools.permutations(list(dict.fromkeys(texts))[:MAX_SWAP_TEXTS], 2):
        for swap in word_swaps(a, b):
            found.update(dict.fromkeys(swap))
            if len(found) >= MAX_SWAPPED_WORDS:
                return list(found)[:MAX_SWAPPED_WORDS]
    return list(found)


def _tokens(sentence: str) -> list[Token]:
    """(as written, stem) of each word."""
    return [(word, _stem(word)) for word in _TOKEN.findall(sentence)]


def _content(tokens: Sequence[Token]) -> set[str]:
    return {stem for word, stem in tokens if not _is_function_word(word, stem)}


def _is_function_word(word: str, stem: str) -> bool:
    folded = word.casefold()
    return folded in _STOPWORDS or stem in _STOPWORDS or (folded in _NEGATIONS and folded != "without")


def _slots(a: Sequence[Token], b: Sequence[Token]) -> Iterator[tuple[str, str]]:
    content_a, content_b = (
        [s for w, s in a if not _is_function_word(w, s)],
        [s for w, s in b if not _is_function_word(w, s)],
    )
    if not content_a or not content_b or max(len(a), len(b)) > _MAX_SWAP_TOKENS:
        return
    matcher = difflib.SequenceMatcher(a=[s for _, s in a], b=[s for _, s in b], autojunk=False)
    if matcher.quick_ratio() < SHARED_FRAME / 2:
        return  # too few words in common for a shared sentence: skip the costly alignment
    opcodes = matcher.get_opcodes()
    kept = sum(
        not _is_function_word(*a[block.a + k]) for block in matcher.get_matching_blocks() for k in range(block.size)
    )
    # A word against its negative keeps the sentence ("Tuples are immutable" / "Tuples are mutable").
    kept += sum(
        op == "replace" and i2 - i1 == j2 - j1 == 1 and _opposite_forms(a[i1][0], b[j1][0])
        for op, i1, i2, j1, j2 in opcodes
    )
    if kept < SHARED_FRAME * min(len(content_a), len(content_b)):
        return
    for op, i1, i2, j1, j2 in opcodes:
        if op != "replace" or i1 == 0 or j1 == 0:
            continue
        slot_a, slot_b = a[i1:i2], b[j1:j2]
        words_a = [w for w, s in slot_a if not _is_function_word(w, s)]
        words_b = [w for w, s in slot_b if not _is_function_word(w, s)]
        if not words_a or not words_b or max(len(words_a), len(words_b)) > _MAX_SLOT:
            continue
        text_a, text_b = " ".join(w for w, _ in slot_a), " ".join(w for w, _ in slot_b)
        if any(c.isdigit() for c in text_a + text_b) or _numbers(text_a) or _numbers(text_b):
            continue  # numbers are compared as numbers
        yield text_a, text_b


_NEGATIVE_PREFIXES = ("un", "in", "im", "il", "ir", "non-", "non", "dis")
_NOT_NEGATIVE = frozenset(
    {"inflammable", "invaluable", "intend", "intended", "intends", "inform", "informed", "impress", "impressed",
     "impart", "income", "insight", "install", "invest", "involve", "display", "dispatch", "disease", "discover",
     "unravel", "unloose", "irradiate"}
)  # fmt: skip
"""Words that start like a negative and are none ("inflammable" means flammable)."""


def _negative_of(a: str, b: str) -> bool:
    """``a`` is ``b`` with a negative prefix: "immutable" / "mutable", "unavailable" / "available"."""
    a, b = a.casefold(), b.casefold()
    if len(b) < 4 or " " in a + b or a in _NOT_NEGATIVE:
        return False
    return any(a == prefix + b for prefix in _NEGATIVE_PREFIXES)


def _opposite_forms(a: str, b: str) -> bool:
    return _negative_of(a, b) or _negative_of(b, a)


def _same_pole(a: str, b: str) -> bool:
    """Both runs use a word of the same side of one dimension ("erodes" / "reduces"): a synonym, as far as the
    list of opposites knows; an opposite side is the clauses' business."""
    poles_a = {_POLE[_stem(w)] for w in _TOKEN.findall(a) if _stem(w) in _POLE}
    return bool(poles_a & {_POLE[_stem(w)] for w in _TOKEN.findall(b) if _stem(w) in _POLE})


def _swap_conflicts(qa: str, prod: str, related: Related | None) -> list[str]:
    found = []
    for a, b in word_swaps(qa, prod):
        if _opposite_forms(a, b):
            found.append(f"opposite: qa says {_quoted(a)}, prod {_quoted(b)}")
            continue
        if related is None or _same_pole(a, b):
            continue  # no measure of synonyms (other words may be a paraphrase), or synonyms by the list
        try:
            score = related(a, b)
        except KeyError:  # a judge built without these words' embeddings: the swap is not judged
            continue
        if score < SWAP_THRESHOLD:
            found.append(f"words: qa says {_quoted(a)}, prod {_quoted(b)} (related {score:.2f})")
    return found
