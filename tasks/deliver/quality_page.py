"""The quality page of a run: a static HTML page planners can open, linking to the GX Data Docs.

It shows the rows per level and source, the top reasons rows were kept out or flagged, each with examples
(file, row, field and value as read; never a personal field's value), the trend of the error share across the
runs of the tahun, and the kecamatan with most failing rows. Every value and file name is escaped (the page is
rendered with autoescaping, tables by pandas with escaping on); times are in Asia/Jakarta.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import jinja2
import pandas as pd
import sqlalchemy as sa

from reference import store
from schemas import USULAN
from schemas.usulan import LEVEL_LABELS
from tasks.deliver.run_report import JAKARTA, jakarta_time
from tasks.validate.gx import DATA_DOCS_SITE, build_data_docs, validate_warehouse
from warehouse.db import scoped_engine

EXAMPLES = 3  # examples shown per reason
TOP_REASONS = 15

PAGE = jinja2.Environment(autoescape=True).from_string("""<!doctype html>
<html lang="id"><head><meta charset="utf-8"><title>Kualitas data {{ run_id }}</title>
<style>
body{font-family:"DejaVu Sans","Liberation Sans",Arial,sans-serif;margin:2rem;color:#222;background:#fafbfc}
table{border-collapse:collapse;margin:.5rem 0 1.5rem;background:#fff}
th,td{border:1px solid #ccc;padding:.25rem .6rem;text-align:right;vertical-align:top} th{background:#e4ecf4}
td:first-child,th:first-child,td.t,th.t{text-align:left} .error{color:#a40000} .warning{color:#8a5a00}
.bar{display:inline-block;height:.7rem;background:#d55e00;vertical-align:middle;margin-right:.3rem}
ul.ex{margin:0;padding-left:1rem;text-align:left;font-size:.85rem}
</style></head><body>
<h1>Laporan kualitas data Musrenbang <small>/ data quality report</small></h1>
<p>Run <b>{{ run_id }}</b>, tahun {{ tahun }}, mulai / started {{ started }} WIB. {{ verdict }}</p>
<p>Great Expectations Data Docs (contract checks of every slice):
{% for region, link in data_docs %}<a href="{{ link }}">{{ region }}</a>{% if not loop.last %}, {% endif %}{% endfor %}.
Baris karantina / quarantined rows: view <code>v_karantina</code> (severity <i>error</i> = tidak dimuat / kept
out, <i>warning</i> = dimuat dengan catatan / loaded with <code>quality_flags</code>).</p>
{% if problems %}<p class="error">File tidak dimuat / files not published:</p><ul class="error">
{% for p in problems %}<li>{{ p }}</li>{% endfor %}</ul>{% endif %}

<h2>Baris per forum / Rows per level and source</h2>{{ per_level|safe }}
<p>File / files: {{ files }}.</p>

<h2>Alasan terbanyak, dengan contoh / Top reasons, with examples</h2>
{% if reasons %}<table><thead><tr><th>Aturan (rule)</th><th>Field</th><th>Tingkat (severity)</th><th>Baris (rows)</th>
<th class="t">Alasan (reason)</th><th class="t">Contoh (examples: file, baris, nilai)</th></tr></thead><tbody>
{% for r in reasons %}<tr><td>{{ r.rule }}</td><td class="t">{{ r.field }}</td>
<td class="{{ r.severity }}">{{ r.severity }}</td><td>{{ r.rows }}</td><td class="t">{{ r.reason }}</td>
<td class="t"><ul class="ex">
{% for e in r.examples %}<li>{{ e }}</li>{% endfor %}</ul></td></tr>
{% endfor %}</tbody></table>{% else %}<p>(tidak ada / none)</p>{% endif %}

<h2>Tren porsi baris bermasalah / Trend of the error share across runs of tahun {{ tahun }}</h2>
{% if trend %}<table><thead><tr><th>Run</th><th>Mulai (WIB)</th><th>Dibaca (read)</th><th>Dikarantina (quarantined)</th>
<th>Porsi error (error share)</th></tr></thead><tbody>
{% for t in trend %}<tr><td>{% if t.current %}<b>{{ t.run_id }}</b>{% else %}{{ t.run_id }}{% endif %}</td>
<td>{{ t.started }}</td><td>{{ t.read }}</td><td>{{ t.quarantined }}</td>
<td><span class="bar" style="width:{{ t.bar }}px"></span>{{ t.share }}</td></tr>
{% endfor %}</tbody></table>{% else %}<p>(tidak ada / none)</p>{% endif %}

<h2>Aturan / Rules</h2>{{ per_rule|safe }}
<h2>Kecamatan dengan masalah terbanyak / Kecamatan with most failing rows</h2>{{ per_kecamatan|safe }}
<p><small>Dibuat / generated {{ generated }} WIB. Tanpa data pribadi / no personal data.</small></p>
</body></html>""")


def _table(frame: pd.DataFrame) -> str:
    """An HTML table of `frame`, every cell escaped."""
    return (
        frame.to_html(index=False, border=0, na_rep="", escape=True, float_format=lambda v: f"{v:,.1f}")
        if len(frame)
        else "<p>(none)</p>"
    )


def _percent(share: float) -> str:
    return f"{100 * share:.2f}%".replace(".", ",")


def top_reasons(quarantine: pd.DataFrame, limit: int = TOP_REASONS, examples: int = EXAMPLES) -> list[dict]:
    """The reasons most rows were set aside or flagged for (rule, field, severity), each with up to `examples`
    examples 'file, baris N: value' in file order; a personal field's value is never shown."""
    if quarantine.empty:
        return []
    q = quarantine.sort_values(["source_file", "source_row"], kind="mergesort")
    personal = q.field.isin(USULAN.personal_columns)
    shown = q.value.astype(object).where(~personal & q.value.notna(), None)
    q = q.assign(
        example=[
            f"{f}, baris {int(r)}" + (f": {v!r}" if v not in (None, "") else "")
            for f, r, v in zip(q.source_file, q.source_row, shown)
        ]
    )
    out = []
    groups = q.groupby(["rule", "field", "severity"], dropna=False, sort=False)
    for (rule, field, severity), g in sorted(groups, key=lambda kv: (-len(kv[1]), kv[0][2] != "error", kv[0][0])):
        out.append(
            {
                "rule": rule,
                "field": "" if pd.isna(field) else field,
                "severity": severity,
                "rows": f"{len(g):,}".replace(",", "."),
                "reason": g.reason_id.iloc[0],
                "examples": g.example.head(examples).tolist(),
            }
        )
    return out[:limit]


def error_trend(runs: pd.DataFrame, run_id: str) -> list[dict]:
    """Per run of the tahun (oldest first): rows read, quarantined and their share, from etl_load_log."""
    if runs.empty:
        return []
    runs = runs.sort_values("started_at", kind="mergesort")
    top = max(float(runs.share.max()), 1e-9)
    return [
        {
            "run_id": r.run_id,
            "started": jakarta_time(r.started_at),
            "read": f"{int(r.rows_read):,}".replace(",", "."),
            "quarantined": f"{int(r.rows_quarantined):,}".replace(",", "."),
            "share": _percent(r.share),
            "bar": round(120 * float(r.share) / top),
            "current": r.run_id == run_id,
        }
        for r in runs.itertuples()
    ]


def write_quality_page(engine: sa.Engine, run_id: str, quality_dir: Path) -> Path:
    """Render `quality_dir/quality_<run_id>.html` from the run's load log, quarantine and quality summary, and
    the load logs of the earlier runs of its tahun."""
    with engine.connect() as connection:
        run = connection.execute(
            sa.text("SELECT tahun, started_at FROM etl_run WHERE run_id = :r"), {"r": run_id}
        ).one()
        tahun = run.tahun
        log = pd.read_sql(sa.text("SELECT * FROM etl_load_log WHERE run_id = :r"), connection, params={"r": run_id})
        summary = pd.read_sql(
            sa.text("SELECT * FROM quality_summary WHERE run_id = :r"), connection, params={"r": run_id}
        )
        quarantine = pd.read_sql(
            sa.text(
                "SELECT source_file, source_row, rule, field, value, severity, reason_id FROM quarantine "
                "WHERE tahun = :t AND kode_pemda IN (SELECT DISTINCT kode_pemda FROM etl_load_log WHERE run_id = :r)"
            ),
            connection,
            params={"t": tahun, "r": run_id},
        )
        runs = pd.read_sql(
            sa.text(
                "SELECT r.run_id, r.started_at, SUM(l.rows_read) AS rows_read, "
                "SUM(l.rows_quarantined) AS rows_quarantined FROM etl_run r JOIN etl_load_log l ON l.run_id = r.run_id "
                "WHERE r.tahun = :t GROUP BY r.run_id, r.started_at"
            ),
            connection,
            params={"t": tahun},
        )
    runs["share"] = (
        runs.rows_quarantined.astype(float) / runs.rows_read.astype(float).where(runs.rows_read > 0)
    ).fillna(0)
    per_level = log.groupby(["level", "source", "load_status"], as_index=False)[
        ["rows_read", "rows_loaded", "rows_quarantined"]
    ].sum()
    per_level["level"] = per_level.level.map(lambda lv: LEVEL_LABELS.get(lv, lv))
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
        else f"{len(problems)} file tidak dimuat / file(s) not published."
    )
    files = (
        f"{len(log)} dibaca (read), {int((log.load_status == 'unchanged').sum())} tidak berubah (unchanged), "
        f"{int((log.load_status == 'failed').sum())} gagal (failed)"
    )
    quality_dir.mkdir(parents=True, exist_ok=True)
    page = quality_dir / f"quality_{run_id}.html"
    site = quality_dir / DATA_DOCS_SITE
    data_docs = [("Great Expectations", site.relative_to(quality_dir).as_posix())] if site.exists() else []
    page.write_text(
        PAGE.render(
            run_id=run_id,
            tahun=tahun,
            started=jakarta_time(run.started_at),
            verdict=verdict,
            problems=[f"{r.source_file}: {r.message or r.load_status}" for r in problems.itertuples()],
            data_docs=data_docs,
            per_level=_table(per_level),
            files=files,
            reasons=top_reasons(quarantine),
            trend=error_trend(runs, run_id),
            per_rule=_table(per_rule),
            per_kecamatan=_table(kecamatan),
            generated=datetime.now(JAKARTA).strftime("%Y-%m-%d %H:%M"),
        ),
        encoding="utf-8",
    )
    return page


def publish_quality(warehouse_url: str, run_id: str, quality_dir: Path) -> tuple[Path, list[str]]:
    """Great Expectations on the rows the run loaded (in SQL), Data Docs (escaped, few examples, libraries
    shipped: readable offline), and the run's quality page; returns the page and what the contract record
    found broken."""
    from tasks.deliver.data_docs import make_offline, sanitise_results

    record = validate_warehouse(warehouse_url, run_id, quality_dir)
    sanitise_results(quality_dir)
    if (site := build_data_docs(quality_dir)) is not None:
        make_offline(site, rebuild=False)
    with scoped_engine(warehouse_url) as engine:
        return write_quality_page(engine, run_id, quality_dir), record.problems()
