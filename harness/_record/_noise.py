"""Golden outputs from observed answers, with the noise learned from several answers to one input.

The paths of the JSON body that differ between answers to the same request (ids, timestamps) go to the
golden's ``ignore``. Texts that do not vary are compared ``normalized``; texts that do are compared
``semantic`` with the threshold set just under the lowest similarity between the answers, the way
noise-aware parity sets its floor (``compare_with_noise``: self-similarity less a margin).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

from harness._delivery._outcome import Outcome
from harness._model._case import GoldenLevel, GoldenOutput
from harness._verdict import _checks  # noqa: F401  # before _parity: the registry loads first (import cycle)
from harness._verdict._parity import comparable_text, normalize_text
from harness._verdict._similarity import LEXICAL

NOISE_MARGIN = 0.05
"""How far under the answers' own lowest similarity the semantic threshold is set (parity's default margin)."""


def golden_from(outcomes: Sequence[Outcome], *, level: GoldenLevel | None = None, scrub: Any = None) -> GoldenOutput:
    """The golden output of the first answer, with ``ignore`` and the level learned from all of them.

    ``level`` forces a level (the threshold is still learned); ``scrub`` (a ``Scrubber.scrub``) cleans the
    text, sources and body before they are kept.
    """
    first = outcomes[0]
    clean = scrub or (lambda value: value)
    answered = [o for o in outcomes if o.succeeded and not o.problems]
    ignore = _varying_paths([o.body for o in answered]) if first.text is None else []
    texts = [comparable_text(o) for o in answered]  # bodies as JSON when there is no text: noise, not drift
    self_similarity = _min_pairwise(texts) if len(texts) >= 2 else None
    learned: GoldenLevel = "normalized"
    if first.text is not None and len({normalize_text(t) for t in texts}) > 1:
        learned = "semantic"
    threshold = 0.8 if self_similarity is None else max(0.0, round(self_similarity - NOISE_MARGIN, 2))
    return GoldenOutput(
        status=first.status,
        text=clean(first.text) if first.text is not None else None,
        sources=clean(first.sources) if first.sources is not None else None,
        body=clean(first.body) if first.text is None else None,
        level=level or learned,
        threshold=threshold,
        ignore=ignore,
        endpoint=first.endpoint if first.endpoint in ("qa", "prod") else None,
        samples=len(outcomes),
        self_similarity=None if self_similarity is None else round(self_similarity, 3),
    )


def _min_pairwise(texts: Sequence[str]) -> float:
    return min(LEXICAL(a, b) for a, b in itertools.combinations(texts, 2))


def _varying_paths(bodies: Sequence[Any]) -> list[str]:
    """JSON pointers of the values that differ between any body and the first."""
    if len(bodies) < 2:
        return []
    from deepdiff import DeepDiff  # lazy: only when noise is learned

    found: set[str] = set()
    for other in bodies[1:]:
        diff = DeepDiff(bodies[0], other, view="tree")
        for items in diff.values():
            for item in items:
                found.add(_pointer(item.path(output_format="list")))
    return sorted(found)


def _pointer(parts: list[Any]) -> str:
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts) or "/"
