"""The documentation site's API reference is generated from the docstrings (mkdocs.yml,
docs/reference/): every module must have a page, and every public name a docstring to show."""

import html
import inspect
import json
import pathlib
import pkgutil
import re
import shutil
import subprocess
from html.parser import HTMLParser
from urllib.parse import unquote, urlsplit

import pytest

import tinygrad_reg

ROOT = pathlib.Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "docs" / "reference"


def documented_modules() -> set[str]:
    text = "\n".join(page.read_text() for page in REFERENCE.glob("*.md"))
    return set(re.findall(r"^::: (tinygrad_reg[\w.]*)", text, flags=re.M))


def test_every_module_has_a_reference_page():
    documented = documented_modules()
    modules = {
        info.name
        for info in pkgutil.walk_packages(tinygrad_reg.__path__, "tinygrad_reg.")
        if not info.name.split(".")[-1].startswith("_")
    }
    # tinygrad_reg.ops is rendered with its submodules (show_submodules in ops.md)
    missing = {m for m in modules if m not in documented and not m.startswith("tinygrad_reg.ops.")}
    assert not missing, f"modules without a page in docs/reference/: {sorted(missing)}"


def test_every_public_name_has_a_docstring():
    undocumented = [
        name
        for name in tinygrad_reg.__all__
        if not inspect.getdoc(getattr(tinygrad_reg, name))
        or (
            inspect.ismodule(getattr(tinygrad_reg, name)) is False
            and not callable(getattr(tinygrad_reg, name))
        )
    ]
    assert not undocumented, f"public names without a docstring: {undocumented}"


def test_every_page_is_in_the_navigation():
    nav = (ROOT / "mkdocs.yml").read_text()
    pages = [p.relative_to(ROOT / "docs").as_posix() for p in (ROOT / "docs").rglob("*.md")]
    assert [p for p in pages if p not in nav] == []


# --- the built site ------------------------------------------------------------------------------


class PageParser(HTMLParser):
    """The links (href, src) of one HTML page, the text of its <pre> blocks, and whether it
    has a <blockquote> (what a doctest becomes when Markdown reads it as prose)."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.pre_texts: list[str] = []
        self.blockquotes = 0
        self._pre_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.links += [value for name, value in attrs if name in ("href", "src") and value]
        if tag == "pre":
            if self._pre_depth == 0:
                self.pre_texts.append("")
            self._pre_depth += 1
        self.blockquotes += tag == "blockquote"

    def handle_endtag(self, tag: str) -> None:
        if tag == "pre" and self._pre_depth:
            self._pre_depth -= 1

    def handle_data(self, data: str) -> None:
        if self._pre_depth:
            self.pre_texts[-1] += data


def parse(page: pathlib.Path) -> PageParser:
    parser = PageParser()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> pathlib.Path:
    """The site, built once from mkdocs.yml into a scratch folder."""
    for package in ("mkdocs", "material", "mkdocstrings_handlers.python"):
        pytest.importorskip(
            package, reason='the docs extra is not installed: pip install -e ".[docs]"'
        )
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    folder = tmp_path_factory.mktemp("site")
    build(load_config(str(ROOT / "mkdocs.yml"), site_dir=str(folder)))
    return folder


def test_every_internal_link_of_the_built_site_resolves_to_a_file(site):
    """Opened from disk (file://), a link to a folder shows a directory listing, not a page."""
    # 404.html is the one page a server sends from any folder, so its links start at the root.
    pages = sorted(set(site.rglob("*.html")) - {site / "404.html"})
    assert len(pages) > 20
    broken = []
    for page in pages:
        for link in parse(page).links:
            address = urlsplit(link)
            if address.scheme or address.netloc or not address.path:  # external, or #anchor
                continue
            target = (page.parent / unquote(address.path)).resolve()
            if not target.is_file():
                broken.append(f"{page.relative_to(site)}: {link}")
    assert not broken, f"{len(broken)} internal links lead to no file: {broken[:10]}"


def test_every_page_loads_the_sites_stylesheet(site):
    """docs/stylesheets/extra.css wraps long code lines; every page must load it."""
    missing = [
        page.relative_to(site).as_posix()
        for page in site.rglob("*.html")
        if not any(link.endswith("stylesheets/extra.css") for link in parse(page).links)
    ]
    assert not missing
    assert "pre-wrap" in (site / "stylesheets" / "extra.css").read_text()


def test_docstring_examples_render_as_code_one_line_each(site):
    """Every ``>>>`` line of a docstring appears as a line of a code block in the API
    reference, and no reference page has a blockquote (Markdown's reading of ``>>>``)."""
    source_lines = {
        line.strip()
        for path in (ROOT / "tinygrad_reg").rglob("*.py")
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip().startswith(">>> ")
    }
    assert len(source_lines) > 5
    rendered: set[str] = set()
    quoted = []
    for page in (site / "reference").glob("*.html"):
        parsed = parse(page)
        rendered.update(line.strip() for text in parsed.pre_texts for line in text.splitlines())
        if parsed.blockquotes:
            quoted.append(page.name)
    assert not quoted, f"reference pages with a blockquote (a doctest read as prose?): {quoted}"
    missing = sorted(source_lines - rendered)
    assert not missing, f"docstring examples not rendered as code lines: {missing}"


# --- the built site, opened as files in a headless browser --------------------------------------

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "chrome")

# One page of the site's own folder that opens every other page in an iframe, in turn, and
# writes what the browser made of each (the links as it resolved them, the ">>>" lines of its
# code blocks as they display, its blockquotes) into #report, which --dump-dom prints.
DRIVER = """<!DOCTYPE html><html><body><pre id="report"></pre><script>
const pages = PAGES;
const report = [];
async function visit(page) {
  const frame = document.createElement("iframe");
  document.body.appendChild(frame);
  await new Promise(loaded => { frame.onload = loaded; frame.src = page; });
  const doc = frame.contentDocument;
  const links = [...doc.querySelectorAll("a[href], link[href], img[src], script[src]")]
    .map(element => element.href || element.src);
  const doctests = [...doc.querySelectorAll("pre")].flatMap(pre =>
    pre.textContent.split("\\n").filter(line => line.trim().startsWith(">>> ")));
  report.push({page, links, doctests, blockquotes: doc.querySelectorAll("blockquote").length});
  frame.remove();
}
(async () => {
  for (const page of pages) { await visit(page); }
  document.getElementById("report").textContent = JSON.stringify(report);
})();
</script></body></html>"""


def browser_report(site: pathlib.Path) -> list[dict]:
    """What a headless Chromium shows of each page of the site opened from disk (file://)."""
    browser = next((shutil.which(name) for name in BROWSERS if shutil.which(name)), None)
    if browser is None:
        pytest.skip("no Chromium on this machine (Debian: apt-get install chromium)")
    pages = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))
    pages.remove("404.html")  # served from any folder, its links start at the site's root
    driver = site / "browser-check.html"
    driver.write_text(DRIVER.replace("PAGES", json.dumps(pages)), encoding="utf-8")
    command = [
        browser,
        "--headless",
        "--no-sandbox",  # CI runs as root, where Chromium's sandbox refuses to start
        "--disable-gpu",
        "--allow-file-access-from-files",  # the driver reads its iframes' documents
        "--host-resolver-rules=MAP * ~NOTFOUND",  # offline: web fonts fail at once
        "--virtual-time-budget=120000",  # wait for the driver's script to finish
        "--dump-dom",
        driver.as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    found = re.search(r'<pre id="report">(.*?)</pre>', done.stdout, flags=re.S)
    assert found and found.group(1), f"the browser wrote no report: {done.stderr[-2000:]}"
    report = json.loads(html.unescape(found.group(1)))
    assert [entry["page"] for entry in report] == pages
    return report


def test_the_site_opened_as_files_in_a_browser_has_no_broken_link_and_no_joined_doctest(site):
    report = browser_report(site)
    broken = sorted(
        f"{entry['page']}: {link}"
        for entry in report
        for link in entry["links"]
        if link.startswith("file:") and not pathlib.Path(unquote(urlsplit(link).path)).is_file()
    )
    assert not broken, f"{len(broken)} links lead to no file in the browser: {broken[:10]}"
    assert sum(len(entry["links"]) for entry in report) > 1000
    quoted = [e["page"] for e in report if e["page"].startswith("reference/") and e["blockquotes"]]
    assert not quoted, f"reference pages with a blockquote in the browser: {quoted}"
    shown = {line.strip() for entry in report for line in entry["doctests"]}
    written = {
        line.strip()
        for path in (ROOT / "tinygrad_reg").rglob("*.py")
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip().startswith(">>> ")
    }
    assert written and not written - shown, f"not one line each: {sorted(written - shown)}"
