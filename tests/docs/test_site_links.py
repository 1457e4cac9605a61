"""The built docs site has no broken internal link or anchor, as a real browser renders it.

The site is built with ``mkdocs build --strict``, served over loopback HTTP, and every page is opened in headless
Chromium (``--dump-dom``: the DOM after the theme's scripts ran). Every internal ``<a href>`` must reach a page
that answers, and its ``#anchor`` must be an ``id`` of the rendered target. Without Chromium the test is skipped,
outside CI only: in CI (``CI`` set) it must run.
"""

from __future__ import annotations

import concurrent.futures
import functools
import http.server
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest

from tests.support.docs import ROOT

BUILD_BOUND_S = 300.0
PAGE_BOUND_S = 90.0
RENDERERS = 4
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def _chromium() -> str | None:
    """The browser: ``CHROMIUM`` if set, else Debian's chromium or a Chrome on PATH."""
    if os.environ.get("CHROMIUM"):
        return os.environ["CHROMIUM"]
    names = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
    return next((found for name in names if (found := shutil.which(name))), None)


@pytest.fixture(scope="module")
def chromium() -> str:
    found = _chromium()
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("CI is set but no Chromium was found: install it (apt-get install chromium) or set CHROMIUM")
        pytest.skip("no Chromium on this machine (apt-get install chromium, or set CHROMIUM); CI runs this test")
    return found


def build_site(config: Path, into: Path) -> Path:
    """``mkdocs build --strict`` of ``config`` into ``into``; fails the test with mkdocs' output if it warns."""
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(config), "--site-dir", str(into)],
        capture_output=True,
        text=True,
        timeout=BUILD_BOUND_S,
        env=env,
    )
    if done.returncode != 0:
        pytest.fail(f"mkdocs build --strict failed:\n{done.stdout}{done.stderr}")
    return into


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def serve() -> Iterator[object]:
    """``serve(site_dir) -> base URL``: the folder over loopback HTTP until the test ends."""
    servers: list[http.server.ThreadingHTTPServer] = []

    def start(site: Path) -> str:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(site)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


class _Links(HTMLParser):
    """The hrefs of ``<a>`` elements and every ``id`` of a document."""

    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(str(values["id"]))
        if tag == "a" and values.get("href"):
            self.hrefs.append(str(values["href"]))


class Browser:
    """Pages as headless Chromium renders them, each rendered once."""

    def __init__(self, executable: str, profile: Path) -> None:
        self.executable = executable
        self.profile = profile
        profile.mkdir(parents=True, exist_ok=True)
        self._rendered: dict[str, _Links] = {}

    def render_all(self, urls: list[str]) -> None:
        """Render several pages at once: each Chromium spends much of its run starting up, not rendering."""
        with concurrent.futures.ThreadPoolExecutor(max_workers=RENDERERS) as pool:
            for url, links in zip(urls, pool.map(self._dump, urls), strict=True):
                self._rendered[url] = links

    def render(self, url: str) -> _Links:
        if url not in self._rendered:
            self._rendered[url] = self._dump(url)
        return self._rendered[url]

    def _dump(self, url: str) -> _Links:
        # A profile per run: Chromium locks its profile, and a second one on it would hand over to the first.
        profile = tempfile.mkdtemp(dir=self.profile)
        done = subprocess.run(
            [self.executable, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", url],
            capture_output=True,
            text=True,
            timeout=PAGE_BOUND_S,
        )
        if "<html" not in done.stdout:
            pytest.fail(f"Chromium rendered nothing for {url} (exit {done.returncode}):\n{done.stderr[-2000:]}")
        links = _Links()
        links.feed(done.stdout)
        return links


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def broken_links(browser: Browser, base: str, pages: list[str]) -> list[str]:
    """Every internal link of ``pages`` (URLs under ``base``) whose target does not answer or lacks its anchor."""
    broken: list[str] = []
    statuses: dict[str, int] = {}
    for page in pages:
        for href in browser.render(page).hrefs:
            target, anchor = urldefrag(urljoin(page, href))
            if not target.startswith(base):
                continue  # another site, mailto:, javascript:
            if target not in statuses:
                statuses[target] = _status(target)
            where = f"{page.removeprefix(base) or '/'} -> {href}"
            if statuses[target] != 200:
                broken.append(f"{where}: {target.removeprefix(base)} answers {statuses[target]}")
            elif anchor and _is_html(target) and anchor not in browser.render(target).ids:
                broken.append(f"{where}: no id {anchor!r} in the rendered {target.removeprefix(base) or '/'}")
    return broken


def _is_html(url: str) -> bool:
    path = urlsplit(url).path
    return path.endswith(("/", ".html"))


def site_pages(site: Path, base: str) -> list[str]:
    """The URL of every page of a built site (``404.html`` aside)."""
    pages = [path.parent.relative_to(site).as_posix() for path in site.rglob("index.html")]
    return sorted(base + (page + "/" if page != "." else "") for page in pages)


@pytest.mark.slow
def test_every_internal_link_and_anchor_of_the_site_resolves(chromium: str, serve, tmp_path: Path) -> None:
    site = build_site(ROOT / "mkdocs.yml", tmp_path / "site")
    base = serve(site)
    pages = site_pages(site, base)
    assert len(pages) >= 30, f"the site has only {len(pages)} pages: {pages}"
    browser = Browser(chromium, tmp_path / "profile")
    browser.render_all(pages)
    broken = broken_links(browser, base, pages)
    assert not broken, "broken internal links:\n" + "\n".join(broken)
    # The rendered pages are the real ones: the theme's navigation links every section from the home page.
    linked = {urljoin(base, href) for href in browser.render(base).hrefs}
    assert {base + "tutorial/", base + "reference/options/"} <= linked


def test_a_broken_link_or_anchor_is_reported(chromium: str, serve, tmp_path: Path) -> None:
    # Raw HTML links, which mkdocs' own validation does not read: only the browser check can catch them.
    docs = tmp_path / "docs"
    shutil.copytree(ROOT / "docs", docs)
    shutil.copy(ROOT / "mkdocs.yml", tmp_path / "mkdocs.yml")
    page = docs / "reference" / "cli.md"
    page.write_text(
        page.read_text(encoding="utf-8")
        + '\n<a href="../options/#no-such-option">a</a> <a href="../no-such-page/">b</a> <a href="../checks/">c</a>\n',
        encoding="utf-8",
    )
    site = build_site(tmp_path / "mkdocs.yml", tmp_path / "site")
    base = serve(site)
    broken = broken_links(Browser(chromium, tmp_path / "profile"), base, [base + "reference/cli/"])
    assert broken == [
        "reference/cli/ -> ../options/#no-such-option: no id 'no-such-option' in the rendered reference/options/",
        "reference/cli/ -> ../no-such-page/: reference/no-such-page/ answers 404",
    ]
