"""Parity: does the QA endpoint answer like the prod endpoint, at the level a case declares?

Levels, strictest first:

- ``exact``: the texts are identical (the bodies, when neither side has text).
- ``normalized``: identical after Unicode NFC, case folding, whitespace collapsing and stripping markdown
  emphasis (``**``, ``__``, ``*``, ``_``, backticks).
- ``structural``: the same shape. Texts have the same structure for every registered text structure
  (``_structures.register_text_structure``; the built-in exam extension: the same questions, choice labels and
  answer keys); sources are the same set; the JSON bodies have the same types at
  the same keys (key sets only when both endpoints use the same delivery, since a callback payload and a sync
  response carry different envelopes). Values, ids and wording may differ.
- ``semantic``: similarity of meaning at or above a threshold (``SEMANTIC_THRESHOLD``): the cosine of embeddings
  (``harness._verdict._embeddings``: the run's embedder, else all-MiniLM-L6-v2 in this process), passed in as
  ``similarity``; a caller that passes none gets the lexical similarity, and the summary says so. The texts must
  also agree on their facts (``harness._verdict._facts``: numbers, negation and opposites, names).
- ``lexical``: word+bigram cosine similarity (``harness._verdict._similarity``) at or above a threshold.
- ``none``: always passes; the report still carries the diffs.

Whatever the level (except ``none``), when either side answered non-2xx the two are compared as errors: same
status and same error-body structure (e.g. FastAPI ``detail`` locs and types), messages ignored.
``compare_with_noise`` judges QA-vs-prod variation against each endpoint's variation with itself.
"""

from __future__ import annotations

import difflib
import itertools
import json
import re
import statistics
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from harness._delivery._outcome import Outcome
from harness._errors import HarnessError
from harness._model._case import PARITY_LEVELS, ParityLevel
from harness._report.excerpts import clip, excerpt, first_difference
from harness._verdict._checks import classify_error_body
from harness._verdict._facts import disagreements
from harness._verdict._similarity import LEXICAL, TextSimilarity
from harness._verdict._structures import text_structures

SEMANTIC_THRESHOLD = 0.45
"""``semantic``'s default minimum similarity, chosen on the calibration pairs of ``tests/data/paraphrases.yaml``
with all-MiniLM-L6-v2 (``bench/semantic.py``): the same meaning in other words scores 0.34..0.88 (median 0.74),
another answer altogether 0.00..0.38 (median 0.03). A changed meaning that keeps the words (a negation, another
number) scores as high as a paraphrase: no threshold separates those; the fact check (``_facts``) catches most."""
LEXICAL_THRESHOLD = 0.8
"""``lexical``'s default (and ``semantic``'s when a caller passes no similarity): word+bigram cosine."""

TEXT_DIFF_LINES = 80
JSON_DIFF_LINES = 40
_SUMMARY_ITEMS = 5


@dataclass
class ParityReport:
    """The verdict of one QA-vs-prod comparison, with the diffs a person needs to see why."""

    level: str
    passed: bool
    summary: str
    """One line: what matched or what differs first."""
    text_diff: str = ""
    """Unified diff of the texts, labelled ``qa`` / ``prod``, trimmed to a readable size."""
    json_diff: str = ""
    """deepdiff report of the bodies (``ignore_paths`` excluded), trimmed."""
    similarity: float | None = None
    threshold: float | None = None
    noise: dict[str, float] | None = None
    """Noise-aware mode: ``qa_self``, ``prod_self``, ``cross``."""
    judge: str | None = None
    """Which similarity judged (``semantic``, ``lexical``, noise-aware): e.g. ``embeddings: <model>``."""


def compare(
    level: ParityLevel,
    qa: Outcome,
    prod: Outcome,
    *,
    threshold: float | None = None,
    ignore_paths: Sequence[str] = (),
    similarity: TextSimilarity | None = None,
    labels: tuple[str, str] = ("qa", "prod"),
) -> ParityReport:
    """Compare the QA and prod outcomes of one case at ``level``.

    ``threshold`` applies to ``semantic`` and ``lexical`` (None: ``SEMANTIC_THRESHOLD`` for semantic judged by
    embeddings, else ``LEXICAL_THRESHOLD``); ``similarity`` judges ``semantic`` (the run's embeddings; None:
    lexical, said in the summary). ``ignore_paths`` name body values to leave out of the JSON
    comparison: JSON pointers (``/callback-id``, ``*`` matches any key or index), deepdiff paths
    (``root['callback-id']``) or bare top-level keys (``callback-id``). ``labels`` name the two sides in
    summaries and diffs (golden outputs compare ``golden`` with an endpoint's output).
    """
    if level not in PARITY_LEVELS:
        raise HarnessError(f"unknown parity level {level!r}; use one of {', '.join(PARITY_LEVELS)}")
    excluded = _exclusions(ignore_paths)
    text_diff = render_text_diff(qa.text, prod.text, labels=labels)
    if qa.succeeded and prod.succeeded and qa.delivery != prod.delivery:
        # Different deliveries wrap the same output differently (a callback payload carries its job id and
        # status): diff what the spec declares as output, not the envelopes.
        json_diff = render_json_diff(_output_view(qa), _output_view(prod), excluded)
    else:
        json_diff = render_json_diff(qa.body, prod.body, excluded)

    def report(passed: bool, summary: str, **extra: Any) -> ParityReport:
        return ParityReport(level, passed, summary, text_diff, json_diff, **extra)

    if not (qa.succeeded and prod.succeeded):
        passed, summary = _error_parity(qa, prod, labels)
        if level == "none":
            return report(True, f"{summary} (parity level none: not enforced)")
        return report(passed, summary)

    if level == "none":
        same = "identical" if qa.text == prod.text and _bodies_equal(qa.body, prod.body, excluded) else "different"
        return report(True, f"parity not enforced (level none); outputs are {same}")

    presence = _text_presence(qa, prod, labels)
    if presence:
        return report(False, presence)

    if level == "exact":
        if qa.text is None or prod.text is None:
            equal = _bodies_equal(qa.body, prod.body, excluded)
            return report(
                equal, "bodies are equal" if equal else "bodies differ (no text on either side); see json diff"
            )
        if qa.text == prod.text:
            return report(True, f"texts are identical ({len(qa.text)} characters)")
        return report(False, "texts differ " + _where_texts_differ(qa.text, prod.text, labels))

    if level == "normalized":
        if qa.text is None or prod.text is None:
            equal = _bodies_equal(qa.body, prod.body, excluded)
            return report(
                equal, "bodies are equal" if equal else "bodies differ (no text on either side); see json diff"
            )
        qa_norm, prod_norm = normalize_text(qa.text), normalize_text(prod.text)
        if qa_norm == prod_norm:
            return report(True, "texts are equal after normalisation")
        return report(False, "texts differ after normalisation " + _where_texts_differ(qa_norm, prod_norm, labels))

    if level == "structural":
        problems = _structural_differences(qa, prod, excluded, labels)
        if not problems:
            return report(True, "same structure: " + _structure_description(qa))
        shown = problems[:_SUMMARY_ITEMS]
        more = f" (+{len(problems) - _SUMMARY_ITEMS} more)" if len(problems) > _SUMMARY_ITEMS else ""
        return report(False, "structure differs: " + "; ".join(shown) + more)

    judge = similarity if level == "semantic" and similarity is not None else LEXICAL
    if threshold is None:
        threshold = SEMANTIC_THRESHOLD if judge is similarity else LEXICAL_THRESHOLD
    score = judge(comparable_text(qa), comparable_text(prod))
    passed = score >= threshold
    relation = ">=" if passed else "<"
    fallback = "; no embedder configured" if level == "semantic" and similarity is None else ""
    summary = f"similarity {score:.2f} {relation} threshold {threshold:.2f} ({judge.name}{fallback})"
    if passed and level == "semantic" and qa.text is not None and prod.text is not None:
        # An embedding scores "is fast" / "is not fast" or "1919" / "1945" like a paraphrase: the facts decide.
        # Word swaps are judged by the same embeddings (none: the lexical fallback judges no synonyms).
        differing = [_relabel(line, labels) for line in disagreements(qa.text, prod.text, similarity)]
        if differing:
            passed, summary = False, f"facts differ: {_listed(differing)}, though {summary}"
    return report(passed, summary, similarity=score, threshold=threshold, judge=judge.name + fallback)


def compare_with_noise(
    qa_samples: Sequence[Outcome],
    prod_samples: Sequence[Outcome],
    *,
    margin: float = 0.05,
    similarity: TextSimilarity | None = None,
) -> ParityReport:
    """Noise-aware semantic parity (Diffy's idea) over repeated samples of each endpoint.

    ``similarity`` measures every pair (the run's embeddings; None: lexical).

    ``qa_self`` / ``prod_self`` are the lowest pairwise similarity of each endpoint with itself, ``cross``
    the mean similarity of every QA sample with every prod sample. The pair passes when
    ``cross >= min(qa_self, prod_self) - margin``: QA and prod may differ as much as each differs from
    itself, and no more. A single sample per side cannot measure noise and counts as 1.0. The texts must also
    agree on their facts (``harness._verdict._facts``) wherever each endpoint's samples agree among themselves.
    """
    if not qa_samples or not prod_samples:
        raise HarnessError("compare_with_noise needs at least one sample from each endpoint")
    failing = next(
        (
            (qa, prod)
            for qa, prod in itertools.zip_longest(qa_samples, prod_samples)
            if (qa is not None and not qa.succeeded) or (prod is not None and not prod.succeeded)
        ),
        None,
    )
    if failing is not None:
        qa, prod = failing[0] or qa_samples[0], failing[1] or prod_samples[0]
        passed, summary = _error_parity(qa, prod)
        return ParityReport(
            "noise", passed, summary, render_text_diff(qa.text, prod.text), render_json_diff(qa.body, prod.body, [])
        )
    judge = similarity or LEXICAL
    qa_texts = [comparable_text(o) for o in qa_samples]
    prod_texts = [comparable_text(o) for o in prod_samples]
    qa_self = _min_pairwise(qa_texts, judge)
    prod_self = _min_pairwise(prod_texts, judge)
    cross = statistics.fmean(judge(a, b) for a in qa_texts for b in prod_texts)
    floor = min(qa_self, prod_self) - margin
    passed = cross >= floor
    note = (
        " (one sample per side: self-noise unknown, taken as 1.00)" if len(qa_texts) < 2 or len(prod_texts) < 2 else ""
    )
    summary = (
        f"cross similarity {cross:.2f} {'>=' if passed else '<'} noise floor {floor:.2f} "
        f"(qa vs itself {qa_self:.2f}, prod vs itself {prod_self:.2f}, margin {margin:.2f}; "
        f"{len(qa_texts)} qa and {len(prod_texts)} prod samples; {judge.name}){note}"
    )
    if passed:
        differing, unstable = _stable_fact_disagreements(qa_samples, prod_samples, similarity)
        if differing:
            passed, summary = False, f"facts differ: {_listed(differing)}, though {summary}"
        elif unstable:
            summary += f"; facts not judged: {unstable} disagrees with itself on them"
    return ParityReport(
        "noise",
        passed,
        summary,
        text_diff=render_text_diff(qa_samples[0].text, prod_samples[0].text),
        json_diff=render_json_diff(qa_samples[0].body, prod_samples[0].body, []),
        similarity=cross,
        threshold=floor,
        noise={"qa_self": qa_self, "prod_self": prod_self, "cross": cross},
        judge=judge.name,
    )


# --- normalisation and rendering ------------------------------------------------------------------

_EMPHASIS = re.compile(r"\*\*|__|`+|(?<!\w)[*_]|[*_](?!\w)")


def normalize_text(text: str) -> str:
    """NFC, markdown emphasis stripped, case folded, runs of whitespace made one space."""
    text = unicodedata.normalize("NFC", text)
    text = _EMPHASIS.sub("", text)
    return " ".join(text.casefold().split())


DIFF_INPUT_LIMIT = 50_000
"""Characters of each text the readable diff is computed over (the verdict always judges whole texts)."""


def render_text_diff(
    qa: str | None, prod: str | None, *, max_lines: int = TEXT_DIFF_LINES, labels: tuple[str, str] = ("qa", "prod")
) -> str:
    """A unified diff ``qa`` → ``prod``, empty when equal; long single-line texts are split at sentences."""
    if qa == prod or (qa is None and prod is None):
        return ""
    # difflib is quadratic in the worst case: a person reads the start of a diff, so diff only the start.
    a, b = _diff_lines((qa or "")[:DIFF_INPUT_LIMIT]), _diff_lines((prod or "")[:DIFF_INPUT_LIMIT])
    lines = list(difflib.unified_diff(a, b, fromfile=labels[0], tofile=labels[1], lineterm="", n=2))
    if len(lines) > max_lines:
        lines = [*lines[:max_lines], f"... {len(lines) - max_lines} more lines"]
    return "\n".join(lines)


def _diff_lines(text: str) -> list[str]:
    lines = text.splitlines()
    if any(len(line) > 160 for line in lines):
        # A chat reply is often one long line; sentences make a diff a person can read.
        lines = [part for line in lines for part in re.split(r"(?<=[.!?])\s+", line)]
    return lines


def render_json_diff(
    qa: Any, prod: Any, excluded: Sequence[re.Pattern[str]], *, max_lines: int = JSON_DIFF_LINES
) -> str:
    """deepdiff's report of the bodies ``qa`` → ``prod`` (excluded paths left out), empty when equal."""
    if qa is None and prod is None:
        return ""
    from deepdiff import DeepDiff  # lazy: 0.25 s of import, only when outputs are compared

    diff = DeepDiff(qa, prod, exclude_regex_paths=list(excluded), verbose_level=1)
    if not diff:
        return ""
    lines = [clip(line, 200) for line in diff.pretty().splitlines()]
    if len(lines) > max_lines:
        lines = [*lines[:max_lines], f"... {len(lines) - max_lines} more lines"]
    return "\n".join(lines)


def _exclusions(paths: Sequence[str]) -> list[re.Pattern[str]]:
    """Regexes over deepdiff paths (``root['a'][0]``) for JSON pointers, deepdiff paths or bare keys."""
    patterns = []
    for path in paths:
        if path.startswith("root"):
            patterns.append(re.compile("^" + re.escape(path) + "$"))
            continue
        segments = path[1:].split("/") if path.startswith("/") else [path]
        regex = "^root"
        for raw in segments:
            segment = raw.replace("~1", "/").replace("~0", "~")
            if segment == "*":
                regex += r"\[[^\]]+\]"
            elif segment.isdigit():
                regex += rf"\[(?:{segment}|'{segment}')\]"
            else:
                regex += r"\[['\"]" + re.escape(segment) + r"['\"]\]"
        patterns.append(re.compile(regex + "$"))
    return patterns


# --- comparisons ----------------------------------------------------------------------------------


def _output_view(outcome: Outcome) -> dict[str, Any]:
    """The declared output besides the text (which has its own diff): sources and metadata."""
    return {"sources": outcome.sources, "metadata": outcome.metadata}


def _answered(outcome: Outcome) -> str:
    return "got no response" if outcome.status is None else f"answered {outcome.status}"


def _error_parity(qa: Outcome, prod: Outcome, labels: tuple[str, str] = ("qa", "prod")) -> tuple[bool, str]:
    """Same status and same error structure (messages may differ)."""
    a, b = labels
    if qa.status != prod.status:
        return False, f"{a} {_answered(qa)}, {b} {_answered(prod)}"
    if qa.status is None:
        return False, "neither endpoint answered"
    qa_shape, prod_shape = classify_error_body(qa.body), classify_error_body(prod.body)
    if qa_shape is not None and prod_shape is not None:
        if qa_shape.signature() == prod_shape.signature():
            return True, f"both answered {qa.status} with the same error ({qa_shape.describe()})"
        return False, (
            f"both answered {qa.status} but the errors differ: {a} {qa_shape.describe()}; {b} {prod_shape.describe()}"
        )
    if qa_shape is None and prod_shape is None:
        differences = _body_structure_differences(qa.body, prod.body, [], compare_keys=True, labels=labels)
        if not differences:
            return True, f"both answered {qa.status} with error bodies of the same structure"
        return False, f"both answered {qa.status} but the error bodies differ: {'; '.join(differences[:3])}"
    known, unknown = (a, b) if qa_shape is not None else (b, a)
    shape = qa_shape or prod_shape
    assert shape is not None
    return (
        False,
        f"both answered {qa.status} but only {known} sent a recognised error body "
        f"({shape.describe()}), {unknown} did not",
    )


def _text_presence(qa: Outcome, prod: Outcome, labels: tuple[str, str] = ("qa", "prod")) -> str:
    if (qa.text is None) == (prod.text is None):
        return ""
    has, lacks = labels if qa.text is not None else labels[::-1]
    return f"{has} returned output text, {lacks} returned none"


def _bodies_equal(qa: Any, prod: Any, excluded: Sequence[re.Pattern[str]]) -> bool:
    from deepdiff import DeepDiff  # lazy: 0.25 s of import, only when outputs are compared

    return not DeepDiff(qa, prod, exclude_regex_paths=list(excluded))


def _where_texts_differ(a: str, b: str, labels: tuple[str, str] = ("qa", "prod")) -> str:
    at = first_difference(a, b)
    line = a.count("\n", 0, at) + 1
    return f"at line {line}, offset {at}: {labels[0]} {_snippet(a, at)}, {labels[1]} {_snippet(b, at)}"


def _snippet(text: str, at: int) -> str:
    return excerpt(text, at, width=25, before=10, ellipses=False, empty="«» (ends here)")


def comparable_text(outcome: Outcome) -> str:
    """What similarity levels compare: the text, else the body as canonical JSON."""
    if outcome.text is not None:
        return outcome.text
    return json.dumps(outcome.body, sort_keys=True, ensure_ascii=False) if outcome.body is not None else ""


def _listed(differing: Sequence[str]) -> str:
    more = f" (+{len(differing) - _SUMMARY_ITEMS} more)" if len(differing) > _SUMMARY_ITEMS else ""
    return "; ".join(differing[:_SUMMARY_ITEMS]) + more


def _stable_fact_disagreements(
    qa: Sequence[Outcome], prod: Sequence[Outcome], related: TextSimilarity | None
) -> tuple[list[str], str]:
    """The facts QA and prod state differently, judged only where each endpoint agrees with itself on its facts
    (an endpoint that says 3 one call and 4 the next is noisy, not regressed); else which endpoint varied.
    ``related`` (the run's embeddings) also judges swapped words; None (lexical) does not."""
    qa_texts, prod_texts = [o.text or "" for o in qa], [o.text or "" for o in prod]
    if any(o.text is None for o in (*qa, *prod)):
        return [], ""

    def differ(a: str, b: str) -> list[str]:
        return disagreements(a, b, related)

    for name, texts in (("qa", qa_texts), ("prod", prod_texts)):
        if any(differ(a, b) for a, b in itertools.combinations(texts, 2)):
            return [], name
    return next((found for a in qa_texts for b in prod_texts if (found := differ(a, b))), []), ""


def _min_pairwise(texts: Sequence[str], judge: TextSimilarity) -> float:
    pairs = list(itertools.combinations(texts, 2))
    return min((judge(a, b) for a, b in pairs), default=1.0)


def _structural_differences(
    qa: Outcome, prod: Outcome, excluded: Sequence[re.Pattern[str]], labels: tuple[str, str] = ("qa", "prod")
) -> list[str]:
    problems: list[str] = []
    if qa.text is not None and prod.text is not None:
        for structure in text_structures():
            problems.extend(_relabel(line, labels) for line in structure.differences(qa.text, prod.text))
    if qa.sources is not None or prod.sources is not None:
        if qa.sources is None or prod.sources is None:
            has = labels[0] if qa.sources is not None else labels[1]
            problems.append(f"only {has} returned sources")
        elif set(qa.sources) != set(prod.sources):
            only_qa = sorted(set(qa.sources) - set(prod.sources))
            only_prod = sorted(set(prod.sources) - set(qa.sources))
            problems.append(f"sources differ: only {labels[0]} {only_qa}, only {labels[1]} {only_prod}")
    same_delivery = qa.delivery == prod.delivery
    problems.extend(
        _body_structure_differences(qa.body, prod.body, excluded, compare_keys=same_delivery, labels=labels)
    )
    return problems


def _relabel(line: str, labels: tuple[str, str]) -> str:
    """A text structure's line about ``qa`` and ``prod`` (its two arguments), said of the sides compared."""
    if labels == ("qa", "prod"):
        return line
    names = {"qa": labels[0], "prod": labels[1]}
    return re.sub(r"\b(qa|prod)\b", lambda m: names[m.group(1)], line)


def _body_structure_differences(
    qa: Any,
    prod: Any,
    excluded: Sequence[re.Pattern[str]],
    *,
    compare_keys: bool,
    labels: tuple[str, str] = ("qa", "prod"),
) -> list[str]:
    """Type changes at shared keys, plus added/removed keys when ``compare_keys``; values ignored."""
    if qa is None or prod is None:
        return []
    from deepdiff import DeepDiff  # lazy: 0.25 s of import, only when outputs are compared

    diff = DeepDiff(qa, prod, exclude_regex_paths=list(excluded), ignore_numeric_type_changes=True)
    found = [
        f"{_path(path)} is {_type_name(change['old_type'])} on {labels[0]}, "
        f"{_type_name(change['new_type'])} on {labels[1]}"
        for path, change in diff.get("type_changes", {}).items()
    ]
    if compare_keys:
        found += [f"{_path(path)} only on {labels[1]}" for path in diff.get("dictionary_item_added", [])]
        found += [f"{_path(path)} only on {labels[0]}" for path in diff.get("dictionary_item_removed", [])]
    return found


def _path(deepdiff_path: str) -> str:
    """``root['a'][0]`` → ``body.a[0]``."""
    return "body" + re.sub(r"\['([^']*)'\]", r".\1", deepdiff_path[len("root") :])


def _type_name(kind: type) -> str:
    names = {str: "a string", int: "a number", float: "a number", bool: "a boolean", list: "a list", dict: "an object"}
    return names.get(kind, "null" if kind is type(None) else kind.__name__)


def _structure_description(outcome: Outcome) -> str:
    parts = []
    if outcome.text is not None:
        text = outcome.text
        found = (structure.describe(text) for structure in text_structures())
        parts.append(next((d for d in found if d), "text on both sides"))
    if outcome.sources is not None:
        parts.append(f"{len(set(outcome.sources))} sources")
    if isinstance(outcome.body, dict):
        parts.append("body types agree")
    return ", ".join(parts) or "nothing to compare"
