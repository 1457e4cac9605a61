"""MkDocs hook: a stand-in for each page another branch is writing, so the nav and links build until it lands.

Once a page exists in docs/, its stand-in is not made; when all three exist, delete this hook and its
``hooks:`` entry in mkdocs.yml.
"""

from __future__ import annotations

from typing import Any

from mkdocs.structure.files import File, Files

RESERVED = {
    "how-to/init-and-try.md": ("Start with harness init and try", "`harness init` and the dry run `harness try`"),
    "how-to/traffic-to-cases.md": ("Turn recorded traffic into cases", "recording traffic into case files"),
    "explanation/semantic-parity.md": ("Semantic parity", "`semantic` parity by embeddings"),
}


def on_files(files: Files, config: Any) -> Files:
    for path, (title, topic) in RESERVED.items():
        if files.get_file_from_path(path) is None:
            text = f"# {title}\n\nThis page, on {topic}, is being written on another branch.\n"
            files.append(File.generated(config, path, content=text))
    return files
