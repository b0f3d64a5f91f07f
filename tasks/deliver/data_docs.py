"""Great Expectations Data Docs that render offline and show no raw markup.

GX's page templates load Bootstrap, jQuery, bootstrap-table, Font Awesome and Vega from CDNs, so an offline
planner sees an unstyled page and an empty index (its table is drawn by JavaScript). GX also prints the
unexpected values of a failed expectation into table cells as they are, so a `<script>` sent in kode_skpd runs
in the planner's browser.

`make_offline(site)` fixes both for one Data Docs site (`.../gx/uncommitted/data_docs/local_site`), after
`build_data_docs`:

1. the stored validation results of the site's GX project keep only a few examples of unexpected values,
   HTML-escaped (none for a personal field), and the site is rendered again from them when that changed;
2. every page loads the copies of those libraries shipped in `assets/data_docs/` (versions GX 1.x asks for;
   licences beside them), copied to `<site>/static/vendor/`; a remote script or style without a copy is
   removed (Vega: no expectation of the contract draws a chart), and remote images point at GX's own copies.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
from pathlib import Path

from schemas import USULAN

ASSETS = Path(__file__).resolve().parent / "assets" / "data_docs"
VENDOR = "static/vendor"
# The file name a CDN address ends with -> the shipped copy (relative to ASSETS).
COPIES = {
    "bootstrap.min.css": "css/bootstrap.min.css",
    "bootstrap.min.js": "js/bootstrap.min.js",
    "jquery-3.7.1.min.js": "js/jquery.min.js",
    "popper.min.js": "js/popper.min.js",
    "bootstrap-table.min.css": "css/bootstrap-table.min.css",
    "bootstrap-table.min.js": "js/bootstrap-table.min.js",
    "bootstrap-table-filter-control.css": "css/bootstrap-table-filter-control.min.css",
    "bootstrap-table-filter-control.min.css": "css/bootstrap-table-filter-control.min.css",
    "bootstrap-table-filter-control.min.js": "js/bootstrap-table-filter-control.min.js",
    "bootstrap-datepicker.min.css": "css/bootstrap-datepicker.min.css",
    "bootstrap-datepicker.min.js": "js/bootstrap-datepicker.min.js",
    "all.min.css": "css/fontawesome.min.css",
}
# Remote images of the GX navbar and footer -> GX's own copy in the site's static/images.
IMAGES = {"logo-long.png": "static/images/logo-long.png", "full_logo_dark.png": "static/images/logo-long.png"}
EXAMPLES = 5  # unexpected values kept per expectation
RAW_LISTS = ("partial_unexpected_list", "partial_unexpected_index_list")
FULL_LISTS = ("unexpected_list", "unexpected_index_list", "unexpected_index_query")
SAFE_MARK = "rkpd_values_escaped"

_REMOTE = r"""(?:https?:)?//[^"'\s>]+"""
_TAG = re.compile(
    rf"""<(?P<tag>script|link|img)\b[^>]*?\b(?:src|href)=(?P<q>["'])(?P<url>{_REMOTE})(?P=q)"""
    r"""[^>]*>""",
    re.IGNORECASE,
)
_SRI = re.compile(r"""\s+(?:integrity|crossorigin)=(["'])[^"']*\1""", re.IGNORECASE)


def _escaped(value):
    if isinstance(value, str):
        return html.escape(value)
    if isinstance(value, dict):
        return {k: _escaped(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_escaped(v) for v in value]
    return value


def sanitise_result(result: dict) -> bool:
    """Keep at most EXAMPLES unexpected values of each expectation result, HTML-escaped (none for a personal
    column), and drop the full lists; returns whether the stored result changed (False when done before)."""
    meta = result.setdefault("meta", {})
    if meta.get(SAFE_MARK):
        return False
    for item in result.get("results", []):
        outcome = item.get("result") or {}
        column = ((item.get("expectation_config") or {}).get("kwargs") or {}).get("column")
        personal = column in USULAN.personal_columns
        for key in FULL_LISTS:
            outcome.pop(key, None)
        for key in RAW_LISTS:
            if key in outcome:
                outcome[key] = [] if personal else _escaped(list(outcome[key] or [])[:EXAMPLES])
        if "partial_unexpected_counts" in outcome:
            counts = [] if personal else list(outcome["partial_unexpected_counts"] or [])[:EXAMPLES]
            outcome["partial_unexpected_counts"] = [{**c, "value": _escaped(c.get("value"))} for c in counts]
    meta[SAFE_MARK] = True
    return True


def sanitise_results(project: Path) -> int:
    """Sanitise every stored validation result of the GX project at `project` (the folder holding `gx/`);
    returns how many files changed."""
    changed = 0
    for path in sorted((Path(project) / "gx" / "uncommitted" / "validations").rglob("*.json")):
        result = json.loads(path.read_text(encoding="utf-8"))
        if sanitise_result(result):
            tmp = path.with_suffix(".json.tmp")
            tmp.write_text(json.dumps(result, indent=2), encoding="utf-8")
            os.replace(tmp, path)
            changed += 1
    return changed


def _rebuild(project: Path) -> None:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx

    gx.get_context(mode="file", project_root_dir=str(project)).build_data_docs()


def localise_page(text: str, prefix: str) -> tuple[str, list[str]]:
    """The page with every remote script, style and image replaced by the local copy under `prefix` (the
    relative path from the page to the site root), or removed; returns the page and the removed addresses."""
    removed: list[str] = []

    def local(match: re.Match) -> str:
        name = match["url"].split("?")[0].rstrip("/").rsplit("/", 1)[-1]
        tag = match["tag"].lower()
        target = IMAGES.get(name) if tag == "img" else COPIES.get(name)
        if target is None:
            removed.append(match["url"])
            return ""
        path = f"{prefix}{target}" if tag == "img" else f"{prefix}{VENDOR}/{target}"
        return _SRI.sub("", match.group(0).replace(match["url"], path, 1))

    return _TAG.sub(local, text), removed


def make_offline(site: Path, rebuild: bool = True) -> list[str]:
    """Make the Data Docs site at `site` (its folder or index.html) safe and offline, as the module says;
    returns the remote addresses removed from its pages (those without a shipped copy)."""
    site = Path(site)
    site = site.parent if site.suffix == ".html" else site
    project = site.parents[3]  # <project>/gx/uncommitted/data_docs/<site>
    if sanitise_results(project) and rebuild:
        _rebuild(project)
    shutil.copytree(ASSETS, site / VENDOR, dirs_exist_ok=True, ignore=shutil.ignore_patterns("licenses"))
    removed: set[str] = set()
    for page in site.rglob("*.html"):
        depth = len(page.relative_to(site).parts) - 1
        original = page.read_text(encoding="utf-8")
        text, gone = localise_page(original, "../" * depth)
        removed.update(gone)
        if text != original:  # pages made offline by an earlier run are left as they are
            page.write_text(text, encoding="utf-8")
    return sorted(removed)
