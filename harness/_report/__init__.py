"""From an item's verdict to the files people read; no pytest here (``harness.plugin._report`` is the glue).

records.py   an item's record: its case result as a plain dict (travels from xdist workers)
run.py       pytest's reports collected into the run record (``run.json``) and per-endpoint stats
baseline.py  a saved run record, and the regressions of this run against it
render.py    ``summary.md`` and the terminal summary
allure.py    allure labels, steps and attachments for the running item
"""
