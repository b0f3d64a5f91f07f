"""The quality page of a run: a static HTML page planners can open, linking to the GX Data Docs."""

from __future__ import annotations

from pathlib import Path

import jinja2
import pandas as pd
import sqlalchemy as sa

from reference import store
from tasks.validate.gx import DATA_DOCS_SITE

PAGE = jinja2.Template("""<!doctype html>
<html lang="id"><head><meta charset="utf-8"><title>Kualitas data {{ run_id }}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem;color:#222} table{border-collapse:collapse;margin:.5rem 0 1.5rem}
th,td{border:1px solid #ccc;padding:.25rem .6rem;text-align:right} th{background:#f0f3f7}
td:first-child,th:first-child{text-align:left} .error{color:#a40000} .warning{color:#8a5a00}
</style></head><body>
<h1>Laporan kualitas data Musrenbang / Data quality report</h1>
<p>Run <b>{{ run_id }}</b>, tahun {{ tahun }}. {{ verdict }}</p>
<p>Great Expectations Data Docs (contract checks of every slice):
{% for region, link in data_docs %}<a href="{{ link }}">{{ region }}</a>{% if not loop.last %}, {% endif %}{% endfor %}.
Quarantined rows: warehouse table <code>quarantine</code> (severity <i>error</i> = kept out,
<i>warning</i> = loaded with <code>quality_flags</code>).</p>
<h2>Baris per forum / Rows per level and source</h2>{{ per_level }}
<h2>Aturan / Rules</h2>{{ per_rule }}
<h2>Kecamatan dengan masalah terbanyak / Kecamatan with most failing rows</h2>{{ per_kecamatan }}
</body></html>""")


def _table(frame: pd.DataFrame) -> str:
    return (
        frame.to_html(index=False, border=0, na_rep="", float_format=lambda v: f"{v:,.1f}")
        if len(frame)
        else "<p>(none)</p>"
    )


def write_quality_page(engine: sa.Engine, run_id: str, quality_dir: Path) -> Path:
    """Render `quality_dir/quality_<run_id>.html` from the run's load log and quality summary."""
    with engine.connect() as connection:
        log = pd.read_sql(sa.text("SELECT * FROM etl_load_log WHERE run_id = :r"), connection, params={"r": run_id})
        summary = pd.read_sql(
            sa.text("SELECT * FROM quality_summary WHERE run_id = :r"), connection, params={"r": run_id}
        )
        tahun = connection.execute(sa.text("SELECT tahun FROM etl_run WHERE run_id = :r"), {"r": run_id}).scalar()
    per_level = log.groupby(["level", "source", "load_status"], as_index=False)[
        ["rows_read", "rows_loaded", "rows_quarantined"]
    ].sum()
    failing = summary[summary.failed > 0]
    per_rule = failing.groupby(["rule", "severity", "level"], as_index=False)[["checked", "failed"]].sum()
    per_rule["% failed"] = 100 * per_rule.failed / per_rule.checked.where(per_rule.checked > 0)
    per_rule = per_rule.sort_values(["severity", "failed"], ascending=[True, False])
    kecamatan = failing.pivot_table(
        index="kode_kecamatan", columns="severity", values="failed", aggfunc="sum", fill_value=0
    ).reset_index()
    names = store.wilayah().drop_duplicates("kode", keep="last").set_index("kode").nama
    kecamatan.insert(1, "kecamatan", kecamatan.kode_kecamatan.map(names))
    sort_by = [c for c in ("error", "warning") if c in kecamatan.columns]
    kecamatan = kecamatan.sort_values(sort_by, ascending=False).head(15) if sort_by else kecamatan
    problems = log[log.load_status.isin(["failed", "stopped", "held_back"])]
    verdict = (
        "Semua slice dimuat / every slice published."
        if problems.empty
        else f"{len(problems)} file(s) not published: " + "; ".join(problems.message.dropna().unique())
    )
    quality_dir.mkdir(parents=True, exist_ok=True)
    page = quality_dir / f"quality_{run_id}.html"
    site = quality_dir / DATA_DOCS_SITE
    data_docs = [("Great Expectations", site.relative_to(quality_dir).as_posix())] if site.exists() else []
    page.write_text(
        PAGE.render(
            run_id=run_id,
            tahun=tahun,
            verdict=verdict,
            data_docs=data_docs,
            per_level=_table(per_level),
            per_rule=_table(per_rule),
            per_kecamatan=_table(kecamatan),
        ),
        encoding="utf-8",
    )
    return page
