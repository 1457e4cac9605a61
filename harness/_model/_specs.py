"""Which service spec a case file uses: the case folders, the ``service.yaml`` files in them, parsed once."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from harness._errors import CaseFileError

if TYPE_CHECKING:
    from harness._model._spec import ServiceSpec

SPEC_FILENAME = "service.yaml"


class SpecCatalog:
    """The service specs under the case folders (ini ``harness_case_paths``), each parsed on first use."""

    def __init__(self, rootpath: Path, case_paths: Sequence[str]) -> None:
        self.rootpath = rootpath
        self.case_roots = [Path(rootpath, p).resolve() for p in case_paths]
        self.specs: dict[Path, ServiceSpec] = {}

    def display(self, path: Path) -> str:
        """``path`` as messages show it: relative to the rootdir where possible."""
        try:
            return str(path.relative_to(self.rootpath))
        except ValueError:
            return str(path)

    def holds_cases(self, path: Path) -> bool:
        """Whether ``path`` lies under one of the case folders."""
        resolved = path.resolve()
        return any(resolved.is_relative_to(root) for root in self.case_roots)

    def may_run_cases(self, args: Sequence[str], invocation_dir: Path) -> bool:
        """Whether a run on these path arguments can hold case files (``pytest tests`` cannot)."""
        for arg in args:
            path = Path(invocation_dir, arg.partition("::")[0]).resolve()
            if any(path.is_relative_to(root) or root.is_relative_to(path) for root in self.case_roots):
                return True
        return False

    def spec_at(self, path: Path) -> ServiceSpec:
        """The service spec in ``path`` (parsed once)."""
        if path not in self.specs:
            from harness._model._spec import parse_service_spec  # lazy: pydantic loads with the first spec

            self.specs[path] = parse_service_spec(path, self.display(path))
        return self.specs[path]

    def spec_for(self, case_file: Path, wanted: str | None, *, line: int | None = None) -> ServiceSpec:
        """The spec a case file uses: ``service:`` by name, else the nearest ``service.yaml`` above it."""
        folder = case_file.resolve().parent
        candidates: list[Path] = []
        while True:
            if (folder / SPEC_FILENAME).is_file():
                candidates.append(folder / SPEC_FILENAME)
            if folder in self.case_roots or folder == folder.parent:
                break
            folder = folder.parent
        if wanted:
            for root in self.case_roots:
                candidates += sorted(root.rglob(SPEC_FILENAME))
        specs = [self.spec_at(p) for p in dict.fromkeys(candidates)]
        for spec in specs:
            if wanted in (None, spec.service):
                return spec
        known = sorted({s.service for s in specs})
        raise CaseFileError(
            self.display(case_file),
            line,
            f"no service spec for {wanted or 'this case file'}" + (f" (known: {', '.join(known)})" if known else ""),
            f"add a {SPEC_FILENAME} beside the case file, or name a known service with 'service:'",
        )
