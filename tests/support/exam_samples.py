"""Exam texts shared by the parser, check and parity tests: the seed format and what a choice-stripping prod leaves."""

from __future__ import annotations

import re

SEED = """\
1. Which organelle generates ATP?
a)  Nucleus
b)  Endoplasmic Reticulum
c)  Mitochondria
d)  Golgi Apparatus
Correct Answer: c)

2. The cell wall is a feature of which cell(s)?
a)  Animal cell
b)  Fungal cell
c)  Protozoan cell
d)  Bacterial cell
Correct Answers: b) and d)
"""

# What prod post-processing that strips choices leaves behind.
STRIPPED = re.sub(r"^[a-d]\)  .*\n", "", SEED, flags=re.MULTILINE)
