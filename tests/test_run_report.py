"""The run report of a real sample run: self-contained HTML, rendered offline in headless Chromium, and the
Prefect artifacts that point at it.

Chromium: /usr/bin/chromium (scripts/install-browser.sh installs it; RKPD_CHROMIUM overrides the path).
Without it the browser test is skipped, unless RKPD_REQUIRE_BROWSER=1 (CI), where it fails."""

from __future__ import annotations

import json
import os
import re
import struct
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from prefect import flow

from tasks.deliver.run_report import artifact_key, publish_artifacts, write_run_report
from tests.sample_run import SAMPLE_RUN_GROUP
from warehouse.db import create_engine

pytestmark = SAMPLE_RUN_GROUP  # the session's sample run: all on one xdist worker

TAHUN = 2025
CHARTS = ("rows", "funnel", "bidang", "kecamatan", "mapping", "quality")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


@pytest.fixture(scope="module")
def run(sample_run_sqlite):
    """The session's sample run, its report written again here (as the flow wrote it, beside the lake)."""
    tmp = sample_run_sqlite.root
    engine = create_engine(sample_run_sqlite.url)
    path = write_run_report(engine, sample_run_sqlite.report.run_id, tmp / "reports", report=sample_run_sqlite.report)
    engine.dispose()
    return sample_run_sqlite.report, path, tmp


def chromium_binary() -> str:
    return os.environ.get("RKPD_CHROMIUM", "/usr/bin/chromium")


def chromium() -> str:
    """The browser; missing, the test is skipped, or failed when RKPD_REQUIRE_BROWSER=1 (CI)."""
    binary = chromium_binary()
    if not os.access(binary, os.X_OK):
        if os.environ.get("RKPD_REQUIRE_BROWSER") == "1":
            pytest.fail(f"RKPD_REQUIRE_BROWSER=1 but no Chromium at {binary} (run scripts/install-browser.sh)")
        pytest.skip(f"no Chromium at {binary} (scripts/install-browser.sh installs it)")
    return binary


@pytest.fixture(scope="module")
def browser() -> bool:
    """Looked up before the (slow) sample run, so a missing browser skips at once; a required one that is
    missing still fails in the test itself."""
    if not os.access(chromium_binary(), os.X_OK) and os.environ.get("RKPD_REQUIRE_BROWSER") != "1":
        chromium()
    return True


def browse(page: Path, profile: Path, *args: str) -> subprocess.CompletedProcess:
    """Headless Chromium with every host name unresolvable: the page must render from the file alone."""
    command = [
        chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        f"--user-data-dir={profile}",
        "--virtual-time-budget=10000",
        *args,
        page.resolve().as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, timeout=180)
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    return done


class ChartCensus(HTMLParser):
    """Per <section data-chart>: plotly's main-svg elements and the marks (paths of bars, funnel stages,
    histogram bins) inside its g.point elements."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, set[str], str | None]] = []
        self.charts: dict[str, dict[str, int]] = {}

    def _chart(self) -> str | None:
        return next((c for _, _, c in reversed(self.stack) if c), None)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        classes = set((a.get("class") or "").split())
        chart = a.get("data-chart") if tag == "section" else None
        if chart:
            self.charts[chart] = {"main_svg": 0, "marks": 0}
        current = chart or self._chart()
        if current:
            if tag == "svg" and "main-svg" in classes:
                self.charts[current]["main_svg"] += 1
            if tag == "path" and any("point" in c for _, c, _ in self.stack[-2:]) and a.get("d"):
                self.charts[current]["marks"] += 1
        if tag not in VOID:
            self.stack.append((tag, classes, chart))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID and self.stack and self.stack[-1][0] == tag:
            self.stack.pop()

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                return


class ExternalRefs(HTMLParser):
    """src/href attributes of real tags (script bodies are data to the parser, not tags)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.refs: list[str] = []
        self.inline_scripts = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.refs += [a[k] for k in ("src", "href") if a.get(k)]
        if tag == "script" and not a.get("src"):
            self.inline_scripts += 1


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


# --- tests -------------------------------------------------------------------------------------------
def test_report_is_one_self_contained_file(run):
    report, path, tmp = run
    assert path.name == f"run_{report.run_id}.html" and path.parent == tmp / "reports"
    html = path.read_text(encoding="utf-8")
    refs = ExternalRefs()
    refs.feed(html)
    assert refs.inline_scripts >= 1
    external = [r for r in refs.refs if re.match(r"^(https?:)?//", r)]
    assert not external, external
    # the run's numbers, in Indonesian notation
    totals = report.per_level().sum(numeric_only=True)
    for value in (totals.rows_read, totals.rows_loaded, totals.rows_quarantined):
        assert f"{int(value):,}".replace(",", ".") in html
    # links to the quality page and the GX Data Docs, relative and pointing at files that exist
    quality = [r for r in refs.refs if r.endswith(f"quality_{report.run_id}.html")]
    docs = [r for r in refs.refs if r.endswith("data_docs/local_site/index.html")]
    assert quality and docs
    for link in quality + docs:
        assert not link.startswith("/") and (path.parent / link).resolve().exists(), link
    assert "pengusul" not in html and "kontak" not in html


def test_report_renders_offline_in_headless_chromium(browser, run, tmp_path):
    chromium()
    _report, path, _ = run
    dom = browse(path, tmp_path / "profile", "--window-size=1400,1000", "--dump-dom").stdout.decode("utf-8")
    census = ChartCensus()
    census.feed(dom)
    assert set(census.charts) == set(CHARTS), census.charts
    for name, seen in census.charts.items():
        assert seen["main_svg"] >= 1, (name, seen)  # plotly drew the chart
        assert seen["marks"] >= 3, (name, seen)  # with its bars / funnel stages / bins
    assert census.charts["kecamatan"]["marks"] >= 28  # 28 kecamatan of Lampung Tengah, several series

    shot = tmp_path / "report.png"
    browse(path, tmp_path / "profile2", "--window-size=1400,6000", f"--screenshot={shot}")
    blank_page = tmp_path / "blank.html"
    blank_page.write_text("<!doctype html><html><body style='background:#f5f7fa'></body></html>")
    blank = tmp_path / "blank.png"
    browse(blank_page, tmp_path / "profile3", "--window-size=1400,6000", f"--screenshot={blank}")
    assert png_size(shot) == (1400, 6000)
    # charts, text and tables compress far worse than an empty page of the same size
    assert shot.stat().st_size > 100_000 and shot.stat().st_size > 10 * blank.stat().st_size, (
        shot.stat().st_size,
        blank.stat().st_size,
    )


def test_artifacts_on_the_flow_run(run):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId
    from prefect.context import get_run_context

    report, path, _ = run
    per_level = report.per_level()

    @flow(name="publish-report-test")
    def publish() -> tuple[dict, str]:
        return publish_artifacts(path, per_level, report.run_id), str(get_run_context().flow_run.id)

    created, flow_run_id = publish()
    assert created["key"] == artifact_key(report.run_id) == f"rkpd-run-{TAHUN}"
    assert re.fullmatch(r"[a-z0-9-]+", created["key"])
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
        )
    by_type = {a.type: a for a in artifacts}
    assert set(by_type) >= {"table", "markdown"}
    table = by_type["table"].data
    rows = json.loads(table) if isinstance(table, str) else table
    assert len(rows) == len(per_level) and {"level", "source", "rows_read"} <= set(rows[0])
    assert sum(r["rows_loaded"] for r in rows) == int(per_level.rows_loaded.sum())
    assert by_type["table"].key == f"rkpd-run-{TAHUN}"
    assert str(path.resolve()) in by_type["markdown"].data
    # outside a flow run there is nothing to attach to
    assert publish_artifacts(path, per_level, report.run_id) == {}


class LoadedRefs(HTMLParser):
    """Addresses a page loads by itself: scripts, stylesheets and images (not links a reader may follow)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.refs: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("script", "img") and a.get("src"):
            self.refs.append(a["src"])
        if tag == "link" and a.get("href") and "stylesheet" in (a.get("rel") or ""):
            self.refs.append(a["href"])


def screenshot(page: Path, profile: Path, shot: Path) -> int:
    browse(page, profile, "--window-size=1400,2000", f"--screenshot={shot}")
    assert png_size(shot) == (1400, 2000)
    return shot.stat().st_size


def test_quality_page_and_data_docs_render_offline_and_styled_in_headless_chromium(browser, run, tmp_path):
    """Screenshots of the quality page and of the Data Docs index and a validation page: each is far from blank,
    and differs from the same page with its stylesheets taken out (the local styles applied)."""
    from tasks.validate.gx import DATA_DOCS_SITE

    chromium()
    report, _path, _ = run
    quality = Path(report.quality_page)
    index = quality.parent / DATA_DOCS_SITE
    validation = next(index.parent.glob("validations/**/*.html"))
    for page in index.parent.rglob("*.html"):
        refs = LoadedRefs()
        refs.feed(page.read_text(encoding="utf-8"))
        assert refs.refs, page
        for ref in refs.refs:
            assert not re.match(r"^(https?:)?//", ref) and (page.parent / ref.split("?")[0]).exists(), (page, ref)
    dom = browse(index, tmp_path / "dom", "--window-size=1400,1000", "--dump-dom").stdout.decode("utf-8")
    assert 'data-index="0"' in dom  # bootstrap-table (the shipped copy) drew the index's table of validations

    blank_page = tmp_path / "blank.html"
    blank_page.write_text("<!doctype html><html><body style='background:#fff'></body></html>")
    blank = screenshot(blank_page, tmp_path / "p0", tmp_path / "blank.png")
    for i, page in enumerate((quality, index, validation)):
        html = page.read_text(encoding="utf-8")
        bare = re.sub(r"<style.*?</style>|<link[^>]*stylesheet[^>]*>", "", html, flags=re.S | re.I)
        unstyled_page = page.with_name(f"unstyled-{page.name}")
        unstyled_page.write_text(bare, encoding="utf-8")
        try:
            styled = screenshot(page, tmp_path / f"s{i}", tmp_path / f"styled{i}.png")
            unstyled = screenshot(unstyled_page, tmp_path / f"u{i}", tmp_path / f"unstyled{i}.png")
        finally:
            unstyled_page.unlink()
        assert styled > 5 * blank, (page.name, styled, blank)
        assert (tmp_path / f"styled{i}.png").read_bytes() != (tmp_path / f"unstyled{i}.png").read_bytes()
        assert abs(styled - unstyled) > 0.05 * styled, (page.name, styled, unstyled)


def test_figures_read_beforehand_stand_only_for_the_runs_own_regions(sample_run_sqlite, tmp_path):
    """The flow reads the report's heavy figures while Great Expectations runs and hands them over: the report
    shows them when they are those of the run's tahun and regions, and reads its own otherwise."""
    from tasks.deliver.run_report import run_figures

    engine = create_engine(sample_run_sqlite.url)
    run_id = sample_run_sqlite.report.run_id
    figures = run_figures(engine, TAHUN, ["18.02"])
    assert figures["funnel"].n_usulan_desa > 0 and figures["backlog"] >= 0
    marked = dict(figures, backlog=987_654)  # a backlog no sample run has: shows whose figures were drawn
    used = write_run_report(engine, run_id, tmp_path / "a", figures=marked).read_text(encoding="utf-8")
    other = dict(marked, pemda=["18.72"])
    read_again = write_run_report(engine, run_id, tmp_path / "b", figures=other).read_text(encoding="utf-8")
    engine.dispose()
    assert "987.654" in used
    assert "987.654" not in read_again and f">{figures['backlog']:,}".replace(",", ".") in read_again
