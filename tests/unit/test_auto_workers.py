"""``-n auto``: how many workers a run of case files gets, from what its files hold before any worker starts."""

from __future__ import annotations

from pathlib import Path

from harness._model._specs import SpecCatalog
from harness._run._workers import Workload, auto_workers, count_workload

NEGATIVE_SPEC = "service: s\nnegative: {schema: openapi, count: 20}\n"


def test_cases_that_fit_in_one_window_run_in_one_process_whatever_the_target() -> None:
    few = Workload(cases=6)
    assert auto_workers(few, 2, concurrency=8, latency_s=None) == 0
    assert auto_workers(few, 2, concurrency=8, latency_s=5.0) == 0
    assert auto_workers(Workload(cases=9), 2, concurrency=8, latency_s=None) == 2


def test_python_tests_beside_the_cases_keep_xdists_count() -> None:
    assert auto_workers(Workload(cases=1, python_tests=True), 4, concurrency=8, latency_s=0.0) == 4


def test_a_deployed_target_gets_a_worker_per_window_up_to_xdists_count() -> None:
    assert auto_workers(Workload(cases=20), 8, concurrency=8, latency_s=None) == 3
    assert auto_workers(Workload(cases=2000), 8, concurrency=8, latency_s=None) == 8


def test_in_process_services_get_workers_only_when_waits_and_cpu_outweigh_their_start_up() -> None:
    shipped = Workload(cases=40, negative=40)  # the repository's cases/ without its dataset
    for latency_s in (1.0, 0.2, 0.0):
        assert auto_workers(shipped, 2, concurrency=8, latency_s=latency_s) == 0
    assert auto_workers(shipped, 2, concurrency=8, latency_s=2.0) == 2
    with_dataset = Workload(cases=280, negative=40)
    for latency_s in (1.0, 0.2, 0.0):
        assert auto_workers(with_dataset, 2, concurrency=8, latency_s=latency_s) == 2


def test_counting_reads_cases_and_negative_cases_and_looks_for_python_tests(tmp_path: Path) -> None:
    (tmp_path / "cases" / "s").mkdir(parents=True)
    (tmp_path / "cases" / "s" / "service.yaml").write_text(NEGATIVE_SPEC)
    (tmp_path / "cases" / "s" / "a.yaml").write_text("cases:\n  - id: a\n  - id: b\n  - id: c\n")
    (tmp_path / "cases" / "s" / "broken.yaml").write_text("cases: [\n")
    catalog = SpecCatalog(tmp_path, ("cases",))
    options = {"python_files": ["test_*.py"], "norecursedirs": [".*", "venv"]}
    assert count_workload(catalog, ["cases"], tmp_path, **options) == Workload(cases=4, negative=20)
    assert count_workload(catalog, ["."], tmp_path, **options) == Workload(cases=4, negative=20)
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "test_no.py").write_text("")
    assert not count_workload(catalog, ["."], tmp_path, **options).python_tests
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_x.py").write_text("")
    assert count_workload(catalog, ["."], tmp_path, **options).python_tests
    assert not count_workload(catalog, ["cases/s/a.yaml"], tmp_path, **options).python_tests
