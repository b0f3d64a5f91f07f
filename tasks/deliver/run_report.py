"""The run report: one static HTML page per run that planners open from disk (no server, no network).

`write_run_report` renders `<out_dir>/run_<run_id>.html` with the counts of the run (read / loaded /
quarantined per level and source, from `etl_load_log`), the funnel desa -> RKPD, usulan and anggaran per
bidang urusan and per kecamatan, the mapping's confidence and review backlog, and the quality summary with
links to the run's quality page and the Great Expectations Data Docs. Charts are plotly figures whose
JavaScript is inlined once in the page, so it works offline. The warehouse figures (funnel, bidang,
kecamatan, mapping) are the warehouse's state for the run's tahun and pemda after the run, which includes
slices the run skipped as unchanged; a flow follows the funnel in the lake it published the same rows to
(`run_figures`).

`publish_artifacts` puts a table and a markdown summary on the current Prefect flow run.
"""

from __future__ import annotations

import json
import logging
import os
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import jinja2
import pandas as pd
import plotly.graph_objects as go
import sqlalchemy as sa
from markupsafe import escape
from plotly.subplots import make_subplots

from reference import store
from schemas import LEVELS
from schemas.usulan import LEVEL_LABELS, MAPPING_METHODS
from tasks.deliver.funnel import Funnel, lake_funnel
from tasks.validate.gx import DATA_DOCS_SITE

logger = logging.getLogger(__name__)

_RUN_ID = re.compile(r"^[0-9A-Za-z_.-]+$")
JAKARTA = ZoneInfo("Asia/Jakarta")
_ORDER = {level: i for i, level in enumerate(LEVELS)}
REKAP_LEVELS = ("desa", "kabkota")  # the forums the rekap charts show
_REKAP_IN = "(" + ", ".join(f"'{level}'" for level in REKAP_LEVELS) + ")"
BIN_WIDTH = 0.05  # confidence histogram bins; 1.0 falls in the last one
# the bin of a confidence: floor(20 * confidence) (CAST truncates on SQLite and rounds on PostgreSQL)
_FLOOR = {"postgresql": "FLOOR(mapping_confidence * 20)", "sqlite": "CAST(mapping_confidence * 20 AS INTEGER)"}
# Colours (Okabe-Ito, readable for colour-blind readers): desa / kab-kota / accepted; loaded / quarantined.
C_DESA, C_KAB, C_OK, C_BAD, C_WARN, C_GREY = "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#999999"
METHOD_LABELS = {
    "sumber": "sumber (forum source)",
    "koreksi_planner": "koreksi planner (planner's correction)",
    "kamus": "kamus",
    "kamus_fuzzy": "kamus, kemiripan teks (kamus, fuzzy match)",
    "klasifikasi": "model teks (classifier)",
    None: "belum dipetakan (unmapped)",
}
METHOD_COLOURS = {
    "sumber": "#56B4E9",
    "koreksi_planner": C_KAB,
    "kamus": C_OK,
    "kamus_fuzzy": "#7FBF7F",
    "klasifikasi": C_DESA,
    None: C_BAD,
}


def report_path(out_dir: Path, run_id: str) -> Path:
    if not _RUN_ID.match(run_id):
        raise ValueError(f"run id {run_id!r} cannot name a file")
    return Path(out_dir) / f"run_{run_id}.html"


def _id(n) -> str:
    """An integer the Indonesian way: 12.345."""
    try:
        return f"{round(float(n)):,}".replace(",", ".")
    except (TypeError, ValueError):
        return ""


def jakarta_time(value) -> str:
    """A stored UTC time (timezone-aware or naive, as SQLite returns it) as 'YYYY-MM-DD HH:MM:SS' in Jakarta."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    stamp = pd.Timestamp(value)
    stamp = stamp.tz_localize(UTC) if stamp.tzinfo is None else stamp
    return stamp.tz_convert(JAKARTA).strftime("%Y-%m-%d %H:%M:%S")


def _rupiah(v) -> str:
    return f"Rp {_id(v)}"


def _miliar(v) -> float:
    return round(float(v or 0) / 1e9, 3)


# --- data --------------------------------------------------------------------------------------------
def _read(connection, sql: str, **params) -> pd.DataFrame:
    statement = sa.text(sql)
    if "pemda" in params:
        statement = statement.bindparams(sa.bindparam("pemda", expanding=True))
    return pd.read_sql(statement, connection, params=params)


def _numeric(frame: pd.DataFrame) -> pd.DataFrame:
    """PostgreSQL NUMERIC comes back as Decimal: make every measure a float."""
    for column in frame.columns:
        if column.startswith(("n_", "anggaran", "rows_", "checked", "failed", "files_")):
            frame[column] = pd.to_numeric(
                frame[column].map(lambda v: float(v) if v is not None else None), errors="coerce"
            ).fillna(0)
    return frame


def per_level_from_log(log: pd.DataFrame) -> pd.DataFrame:
    """RunReport.per_level() computed from the run's etl_load_log rows."""
    if log.empty:
        return pd.DataFrame(
            columns=[
                "level",
                "source",
                "rows_read",
                "rows_loaded",
                "rows_quarantined",
                "rows_held_back",
                "files_failed",
                "files_unchanged",
            ]
        )
    held = log.load_status.isin(["held_back", "stopped"])
    files = log.assign(
        rows_held_back=log.rows_read.where(held, 0),
        files_failed=(log.load_status == "failed").astype(int),
        files_unchanged=(log.load_status == "unchanged").astype(int),
    )
    table = files.groupby(["level", "source"], as_index=False)[
        ["rows_read", "rows_loaded", "rows_quarantined", "rows_held_back", "files_failed", "files_unchanged"]
    ].sum()
    return table.sort_values(
        ["level", "source"], key=lambda s: s.map(_ORDER) if s.name == "level" else s, ignore_index=True
    )


# The funnel's sums over v_funnel_desa (the view follows each desa usulan up the levels: the slowest read).
_FUNNEL_SQL = (
    "SELECT SUM(n_usulan_desa) AS n_usulan_desa, SUM(n_diterima_desa) AS "
    "n_diterima_desa, SUM(n_reached_kecamatan) AS n_reached_kecamatan, "
    "SUM(n_reached_forum_opd) AS n_reached_forum_opd, SUM(n_reached_kabkota) AS "
    "n_reached_kabkota, SUM(n_rkpd) AS n_rkpd, SUM(anggaran_rkpd) AS anggaran_rkpd "
    "FROM v_funnel_desa WHERE tahun = :t AND kode_pemda IN :pemda"
)


def _view_funnel(engine: sa.Engine, params: dict) -> pd.Series:
    """The funnel's sums read from v_funnel_desa (on a connection of its own: the slowest read, beside the
    others)."""
    with engine.connect() as connection:
        return _numeric(_read(connection, _FUNNEL_SQL, **params)).fillna(0).iloc[0]


def _unless_foreign(engine: sa.Engine, params: dict, followed: Funnel, mapping: pd.DataFrame) -> pd.Series:
    """The funnel followed in the lake when the lake's rows per level are the warehouse's (`mapping` counts the
    warehouse's rows per level and method), else the view's."""
    stored = mapping.groupby("level").n.sum()
    if all(int(stored.get(level, 0)) == n for level, n in followed.rows_per_level.items()):
        return followed.figures
    logger.warning(
        "the lake holds other rows than the warehouse for tahun %s (rows per level: %s in the lake, %s in the "
        "warehouse); the funnel is read from the warehouse",
        params["t"],
        followed.rows_per_level,
        {level: int(stored.get(level, 0)) for level in followed.rows_per_level},
    )
    return _view_funnel(engine, params)


def run_figures(engine: sa.Engine, tahun: int, pemda: list[str], lake_root: Path | None = None) -> dict:
    """The warehouse's figures a run report shows for the regions `pemda` of `tahun`: the funnel and rekap
    views, the pagu, the mapping and the review backlog. These are the report's heavy reads; a flow makes them
    while Great Expectations validates the run (they do not depend on the run's record).

    With `lake_root`, the funnel is followed in the lake (`tasks.deliver.funnel`, beside the warehouse's reads),
    where the run published the same rows; it is read from `v_funnel_desa` instead when the lake's rows per level
    differ from the warehouse's (a lake that is not this warehouse's)."""
    p = dict(t=tahun, pemda=pemda)
    with ThreadPoolExecutor(1) as beside, engine.connect() as c:
        # the funnel (the heaviest figure) beside the others: followed in the lake, or read from the view
        if lake_root is not None:
            funnel_read = beside.submit(lake_funnel, lake_root, tahun, pemda)
        else:
            funnel_read = beside.submit(_view_funnel, engine, p)
        bidang = _numeric(
            _read(
                c,
                "SELECT level, stream, kode_bidang_urusan AS kode, nama_bidang_urusan AS nama, "
                "n_usulan, anggaran_usulan, n_diterima, anggaran_diterima FROM v_rekap_bidang "
                f"WHERE tahun = :t AND kode_pemda IN :pemda AND level IN {_REKAP_IN}",
                **p,
            )
        )
        kecamatan = _numeric(
            _read(
                c,
                "SELECT level, stream, kode_kecamatan AS kode, nama_kecamatan AS nama, "
                "n_usulan, anggaran_usulan, n_diterima, anggaran_diterima "
                f"FROM v_rekap_kecamatan WHERE tahun = :t AND kode_pemda IN :pemda AND level IN {_REKAP_IN}",
                **p,
            )
        )
        pokir = _numeric(
            _read(
                c,
                "SELECT SUM(n_usulan) AS n_usulan, SUM(n_diterima) AS n_diterima, "
                "SUM(anggaran_diterima) AS anggaran_diterima FROM v_rekap_opd WHERE tahun = :t "
                "AND kode_pemda IN :pemda AND level = 'kabkota' AND stream = 'pokir'",
                **p,
            )
        )
        # use of the pagu indikatif: per OPD at the Musrenbang kab/kota and per kecamatan, where a pagu was imported
        pagu = _numeric(
            _read(
                c,
                "SELECT 'opd' AS jenis, kode_pemda, kode_opd AS kode, nama_opd AS nama, anggaran_diterima, pagu, "
                "over_pagu FROM v_pagu_opd WHERE tahun = :t AND kode_pemda IN :pemda AND level = 'kabkota' "
                "AND pagu IS NOT NULL UNION ALL "
                "SELECT 'kecamatan' AS jenis, kode_pemda, kode_kecamatan AS kode, nama_kecamatan AS nama, "
                "anggaran_diterima, pagu, over_pagu FROM v_pagu_kecamatan WHERE tahun = :t "
                "AND kode_pemda IN :pemda AND pagu IS NOT NULL",
                **p,
            )
        )
        # the mapping, aggregated by the database: rows, confidence and a 0.05-wide histogram per method
        mapping = _numeric(
            _read(
                c,
                "SELECT level, mapping_method, COUNT(*) AS n, COUNT(mapping_confidence) AS n_confidence, "
                "SUM(mapping_confidence) AS sum_confidence, MIN(mapping_confidence) AS min_confidence "
                "FROM usulan WHERE tahun = :t AND kode_pemda IN :pemda GROUP BY level, mapping_method",
                **p,
            )
        )
        bin_of = f"CASE WHEN mapping_confidence >= 1 THEN 19 ELSE {_FLOOR[engine.dialect.name]} END"
        confidence = _numeric(
            _read(
                c,
                f"SELECT mapping_method, {bin_of} AS bin, COUNT(*) AS n FROM usulan WHERE tahun = :t "
                f"AND kode_pemda IN :pemda AND mapping_confidence IS NOT NULL GROUP BY mapping_method, {bin_of}",
                **p,
            )
        )
        backlog = _read(
            c,
            "SELECT COUNT(*) AS n FROM (SELECT DISTINCT kode_pemda, stream, id_usulan FROM usulan "
            "WHERE tahun = :t AND kode_pemda IN :pemda AND mapping_method IS NULL) AS waiting",
            **p,
        ).n.iloc[0]
        funnel = funnel_read.result()
        if lake_root is not None:
            funnel = _unless_foreign(engine, p, funnel, mapping)
    for frame in (mapping, confidence):
        frame["mapping_method"] = frame.mapping_method.astype(object).where(frame.mapping_method.notna(), None)
    return dict(
        tahun=tahun,
        pemda=pemda,
        funnel=funnel,
        bidang=bidang,
        kecamatan=kecamatan,
        pokir=pokir.fillna(0).iloc[0],
        mapping=mapping,
        confidence=confidence,
        pagu=pagu,
        backlog=int(backlog),
    )


def _gather(engine: sa.Engine, run_id: str, figures: dict | None = None) -> dict:
    """The run's record (etl_run, its load log and quality summary) and the figures of its regions: `figures`
    when they are those of the run's tahun and regions (`run_figures`), else read now."""
    with engine.connect() as c:
        run = _read(c, "SELECT * FROM etl_run WHERE run_id = :r", r=run_id)
        if run.empty:
            raise ValueError(f"no run {run_id!r} in etl_run")
        run = run.iloc[0].to_dict()
        tahun = int(run["tahun"])
        log = _numeric(
            _read(
                c,
                "SELECT level, kode_pemda, source, source_file, rows_read, rows_loaded, "
                "rows_quarantined, load_status, message FROM etl_load_log WHERE run_id = :r",
                r=run_id,
            )
        )
        pemda = sorted(log.kode_pemda.dropna().unique().tolist())
        if not pemda:
            pemda = [
                r[0]
                for r in c.execute(sa.text("SELECT DISTINCT kode_pemda FROM usulan WHERE tahun = :t"), {"t": tahun})
            ]
        pemda = pemda or [""]
        quality = _numeric(
            _read(
                c,
                "SELECT level, rule, severity, SUM(checked) AS checked, SUM(failed) AS failed "
                "FROM quality_summary WHERE run_id = :r GROUP BY level, rule, severity",
                r=run_id,
            )
        )
    if figures is None or (figures["tahun"], figures["pemda"]) != (tahun, pemda):
        figures = run_figures(engine, tahun, pemda)
    return dict(figures, run=run, log=log, quality=quality)


# --- charts ------------------------------------------------------------------------------------------
def _layout(fig: go.Figure, title: str, subtitle: str, height: int) -> go.Figure:
    fig.update_layout(
        title=dict(
            text=f"{title}<br><sup>{subtitle}</sup>",
            x=0,
            xanchor="left",
            y=1 - 18 / height,
            yref="container",
            yanchor="top",
        ),
        template="plotly_white",
        height=height,
        margin=dict(l=10, r=20, t=118, b=40),
        separators=",.",  # Indonesian: decimal comma, thousands dot
        # the legend in its own band under the title, above any subplot titles
        legend=dict(orientation="h", yref="container", y=1 - 66 / height, yanchor="top", x=0, xanchor="left"),
        font=dict(family="DejaVu Sans, Liberation Sans, Arial, sans-serif", size=12),
    )
    return fig


def chart_rows(per_level: pd.DataFrame) -> go.Figure:
    label = [f"{LEVEL_LABELS.get(r.level, r.level)} · {r.source}" for r in per_level.itertuples()]
    fig = go.Figure()
    for column, name, colour in (
        ("rows_loaded", "dimuat (loaded)", C_OK),
        ("rows_quarantined", "karantina (quarantined)", C_BAD),
        ("rows_held_back", "ditahan (held back)", C_GREY),
    ):
        values = per_level[column] if column in per_level else [0] * len(per_level)
        fig.add_bar(
            y=label,
            x=values,
            name=name,
            orientation="h",
            marker_color=colour,
            hovertemplate="%{y}<br>" + name + ": %{x:,}<extra></extra>",
        )
    fig.update_layout(barmode="stack", yaxis=dict(autorange="reversed"))
    return _layout(
        fig,
        "Baris per forum dan sumber",
        "Rows read per level and source: loaded, quarantined, held back",
        120 + 36 * max(len(label), 1),
    )


def chart_funnel(f: pd.Series) -> go.Figure:
    stages = [
        ("Diusulkan di Musrenbang Desa/Kelurahan", f.n_usulan_desa),
        ("Diterima desa/kelurahan", f.n_diterima_desa),
        ("Sampai Musrenbang Kecamatan", f.n_reached_kecamatan),
        ("Sampai Forum Perangkat Daerah", f.n_reached_forum_opd),
        ("Sampai Musrenbang RKPD Kab/Kota", f.n_reached_kabkota),
        ("Diterima masuk RKPD", f.n_rkpd),
    ]
    fig = go.Figure(
        go.Funnel(
            y=[s for s, _ in stages],
            x=[int(v) for _, v in stages],
            textinfo="value+percent initial",
            marker=dict(color=[C_DESA, C_DESA, "#56B4E9", "#56B4E9", C_KAB, C_OK]),
        )
    )
    return _layout(
        fig,
        "Corong usulan desa sampai RKPD",
        "Funnel: usulan raised at the desa forums and how far they rose (aspirasi masyarakat)",
        420,
    )


_SMALL_WORDS = {"dan", "di", "ke", "dari", "yang", "untuk", "serta", "atau", "pada"}


def _short_name(name) -> str:
    """'URUSAN PEMERINTAHAN BIDANG PEKERJAAN UMUM DAN PENATAAN RUANG' -> 'Pekerjaan Umum dan Penataan Ruang'."""
    if not isinstance(name, str):
        return ""
    text = re.sub(r"^URUSAN PEMERINTAHAN (BIDANG )?", "", name.strip(), flags=re.IGNORECASE)
    if text.isupper():
        words = text.lower().split()
        text = " ".join(w if (i and w in _SMALL_WORDS) else w[:1].upper() + w[1:] for i, w in enumerate(words))
    return text


def _rekap_pivot(frame: pd.DataFrame, unnamed: str) -> pd.DataFrame:
    """Per key: usulan at the desa forum, at the kab/kota forum, accepted at kab/kota (count, anggaran)."""
    frame = frame.assign(kode=frame.kode.astype(object).where(frame.kode.notna(), None))
    frame["label"] = [f"{k} {_short_name(n)}" if k and n else (k or unnamed) for k, n in zip(frame.kode, frame.nama)]
    out = pd.DataFrame({"label": sorted(set(frame.label))}).set_index("label")
    desa, kab = (frame[frame.level == level] for level in REKAP_LEVELS)
    for name, part, count, money in (
        ("desa", desa, "n_usulan", "anggaran_usulan"),
        ("kab", kab, "n_usulan", "anggaran_usulan"),
        ("rkpd", kab, "n_diterima", "anggaran_diterima"),
    ):
        g = part.groupby("label")[[count, money]].sum()
        out[f"n_{name}"] = g[count].reindex(out.index).fillna(0)
        out[f"rp_{name}"] = g[money].reindex(out.index).fillna(0)
    return out.reset_index().sort_values(["n_desa", "n_kab"], ascending=False, ignore_index=True)


def chart_rekap(frame: pd.DataFrame, title: str, subtitle: str, unnamed: str) -> go.Figure:
    table = _rekap_pivot(frame, unnamed)
    labels = [lbl if len(lbl) <= 52 else lbl[:50] + "…" for lbl in table.label]
    fig = make_subplots(
        rows=1,
        cols=2,
        shared_yaxes=True,
        horizontal_spacing=0.03,
        subplot_titles=("Jumlah usulan (count)", "Anggaran, Rp miliar (IDR billion)"),
    )
    series = (
        ("desa", "Musrenbang Desa/Kel.", C_DESA),
        ("kab", "Musrenbang Kab/Kota", C_KAB),
        ("rkpd", "Diterima RKPD (accepted)", C_OK),
    )
    for key, name, colour in series:
        fig.add_bar(
            y=labels,
            x=table[f"n_{key}"],
            name=name,
            orientation="h",
            marker_color=colour,
            legendgroup=key,
            row=1,
            col=1,
            hovertemplate="%{y}<br>" + name + ": %{x:,}<extra></extra>",
        )
        fig.add_bar(
            y=labels,
            x=[_miliar(v) for v in table[f"rp_{key}"]],
            name=name,
            orientation="h",
            marker_color=colour,
            legendgroup=key,
            showlegend=False,
            row=1,
            col=2,
            hovertemplate="%{y}<br>" + name + ": Rp %{x:,.3f} miliar<extra></extra>",
        )
    fig.update_layout(barmode="group", bargap=0.25)
    fig.update_yaxes(autorange="reversed", automargin=True)
    return _layout(fig, title, subtitle, 140 + 42 * max(len(labels), 1))


def chart_mapping(mapping: pd.DataFrame, confidence: pd.DataFrame) -> go.Figure:
    """Rows per method and level (`mapping`: level, mapping_method, n) and the confidence histogram per method
    (`confidence`: mapping_method, bin of 0.05, n)."""
    fig = make_subplots(
        rows=1,
        cols=2,
        column_widths=[0.45, 0.55],
        horizontal_spacing=0.1,
        subplot_titles=(
            "Baris per metode dan forum (rows per method and level)",
            "Sebaran keyakinan (confidence distribution)",
        ),
    )
    levels = [lv for lv in LEVELS if lv in set(mapping.level)]
    present = set(mapping.mapping_method)
    for m in (m for m in (*MAPPING_METHODS, None) if m in present):
        counts = mapping[_is_method(mapping, m)].groupby("level").n.sum()
        fig.add_bar(
            x=[LEVEL_LABELS[lv].replace("Musrenbang ", "") for lv in levels],
            y=[int(counts.get(lv, 0)) for lv in levels],
            name=METHOD_LABELS[m],
            marker_color=METHOD_COLOURS[m],
            legendgroup=str(m),
            row=1,
            col=1,
        )
        bins = confidence[_is_method(confidence, m)]
        if len(bins):
            fig.add_bar(
                x=(bins.bin.astype(float) + 0.5) * BIN_WIDTH,
                y=bins.n,
                width=BIN_WIDTH,
                name=METHOD_LABELS[m],
                marker_color=METHOD_COLOURS[m],
                legendgroup=str(m),
                showlegend=False,
                row=1,
                col=2,
            )
    fig.update_layout(barmode="stack", bargap=0.15)
    fig.update_xaxes(title_text="keyakinan / confidence", range=[0, 1.02], row=1, col=2)
    fig.update_yaxes(type="log", title_text="baris (log)", row=1, col=2)
    return _layout(
        fig,
        "Pemetaan ke bidang urusan dan OPD",
        "Mapping to bidang urusan and OPD: method and confidence of every usulan row",
        440,
    )


def _is_method(frame: pd.DataFrame, method: str | None) -> pd.Series:
    return frame.mapping_method.isna() if method is None else frame.mapping_method == method


def chart_quality(top_rules: pd.DataFrame) -> go.Figure:
    fig = go.Figure()
    for severity, colour in (("error", C_BAD), ("warning", C_WARN)):
        part = top_rules[top_rules.severity == severity]
        fig.add_bar(
            y=part.rule,
            x=part.failed,
            name={"error": "error (dikarantina / kept out)", "warning": "warning (dimuat dengan tanda / flagged)"}[
                severity
            ],
            orientation="h",
            marker_color=colour,
            customdata=part.pct,
            hovertemplate="%{y}: %{x:,} baris (%{customdata:.2f}%)<extra></extra>",
        )
    fig.update_layout(
        barmode="stack", yaxis=dict(autorange="reversed", categoryorder="array", categoryarray=list(top_rules.rule))
    )
    return _layout(
        fig,
        "Aturan kualitas yang paling sering gagal",
        "Top failing quality rules of the run (rows failing)",
        140 + 34 * max(len(top_rules), 1),
    )


# --- page --------------------------------------------------------------------------------------------
PAGE = jinja2.Environment(autoescape=True).from_string("""<!doctype html>
<html lang="id"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Laporan run {{ run_id }}</title>
<style>
body{font-family:"DejaVu Sans","Liberation Sans",Arial,sans-serif;margin:0;color:#1f2933;background:#f5f7fa}
header{background:#12355b;color:#fff;padding:1.2rem 2rem} header h1{margin:0 0 .3rem;font-size:1.5rem}
header p{margin:.1rem 0;opacity:.9} main{padding:1rem 2rem 3rem;max-width:1300px}
h2{margin:2rem 0 .2rem;font-size:1.2rem} h2 small{font-weight:normal;color:#52606d}
.cards{display:flex;flex-wrap:wrap;gap:.8rem;margin:1rem 0}
.card{background:#fff;border-radius:6px;padding:.7rem 1rem;min-width:10rem;box-shadow:0 1px 2px rgba(0,0,0,.08)}
.card b{display:block;font-size:1.4rem} .card span{color:#52606d;font-size:.85rem}
.chart{background:#fff;border-radius:6px;padding:.5rem;margin:.8rem 0;box-shadow:0 1px 2px rgba(0,0,0,.08)}
table{border-collapse:collapse;background:#fff;margin:.5rem 0 1rem;font-size:.9rem}
th,td{border:1px solid #d9e2ec;padding:.25rem .6rem;text-align:right} th{background:#e4ecf4}
td:first-child,th:first-child,td.t{text-align:left} .bad{color:#a40000} .ok{color:#00703c}
.links a{margin-right:1.5rem} footer{color:#7b8794;font-size:.8rem;margin-top:2rem}
</style></head><body>
<header><h1>Laporan run Musrenbang &rarr; RKPD <small>/ pipeline run report</small></h1>
<p>Run <b>{{ run_id }}</b> &middot; tahun {{ tahun }} &middot; pemda {{ pemda }} &middot; status
<b class="{{ 'ok' if status == 'success' else 'bad' }}">{{ status }}</b></p>
<p>Mulai / started {{ started }} &middot; selesai / finished {{ finished }} (WIB, Asia/Jakarta)</p></header>
<main>
<div class="cards">
{% for label, en, value in cards %}<div class="card"><b>{{ value }}</b><span>{{ label }}<br><i>{{ en }}</i></span></div>
{% endfor %}</div>
{% if problems %}<p class="bad">{{ problems|length }} file tidak dimuat / not published:</p><ul class="bad">
{% for p in problems %}<li>{{ p }}</li>{% endfor %}</ul>{% endif %}
{% if ignored %}<p>Diabaikan / ignored:</p><ul>{% for p in ignored %}<li>{{ p }}</li>{% endfor %}</ul>{% endif %}
{% if reference_notes %}<p class="bad">Referensi template / reference on the template:</p><ul class="bad">
{% for p in reference_notes %}<li>{{ p }}</li>{% endfor %}</ul>{% endif %}

<h2>1. Baris dibaca, dimuat, dikarantina <small>/ rows read, loaded, quarantined (etl_load_log)</small></h2>
<section class="chart" id="chart-rows" data-chart="rows">{{ charts.rows|safe }}</section>
{{ tables.per_level|safe }}
<p>File / files: {{ files.read }} dibaca (read), {{ files.unchanged }} tidak berubah sejak muatan terakhir (unchanged,
not read again: their rows are counted as at that load), {{ files.failed }} gagal dibaca (failed).</p>

<h2>2. Corong desa &rarr; RKPD <small>/ funnel from desa to RKPD</small></h2>
<section class="chart" id="chart-funnel" data-chart="funnel">{{ charts.funnel|safe }}</section>
<p>Pokok pikiran DPRD (pokir) masuk langsung di Musrenbang RKPD: {{ pokir_text }}.
<i>Pokir enter at the kab/kota forum and are not part of the funnel.</i></p>

<h2>3. Usulan dan anggaran per bidang urusan <small>/ usulan and anggaran per bidang urusan</small></h2>
<section class="chart" id="chart-bidang" data-chart="bidang">{{ charts.bidang|safe }}</section>

<h2>4. Usulan dan anggaran per kecamatan <small>/ per kecamatan</small></h2>
<section class="chart" id="chart-kecamatan" data-chart="kecamatan">{{ charts.kecamatan|safe }}</section>

<h2>5. Pemetaan dan antrean review <small>/ mapping confidence and review backlog</small></h2>
<section class="chart" id="chart-mapping" data-chart="mapping">{{ charts.mapping|safe }}</section>
<p><b>Antrean review / review backlog: {{ backlog }} usulan</b> belum dipetakan (unmapped, one per usulan at the
highest level it is unmapped at; <code>rkpd review export</code> writes them for planners).</p>
{{ tables.mapping|safe }}

<h2>6. Kualitas data <small>/ data quality (quality_summary)</small></h2>
<p class="links">{% for text, href in links %}{% if href %}<a href="{{ href }}">{{ text }}</a>{% else %}
<span>{{ text }}: belum dibuat / not generated</span>{% endif %}{% endfor %}</p>
{% if has_quality %}<section class="chart" id="chart-quality" data-chart="quality">{{ charts.quality|safe }}</section>
{% else %}<p class="ok">Tidak ada aturan yang gagal / no rule failed.</p>{% endif %}
{{ tables.quality|safe }}

<h2>7. Pagu indikatif <small>/ use of the ceilings: accepted anggaran per OPD at the Musrenbang kab/kota and per
kecamatan, against the imported pagu (v_pagu_opd, v_pagu_kecamatan)</small></h2>
{% if has_pagu %}{{ tables.pagu|safe }}
{% if over_pagu %}<p class="bad"><b>{{ "{:,}".format(over_pagu).replace(",", ".") }}</b> melebihi pagu
/ over the ceiling
{% if over_shown < over_pagu %}
(terbesar {{ over_shown }} / the {{ over_shown }} largest excesses shown){% endif %}:</p>{{ tables.over|safe }}
{% else %}<p class="ok">Tidak ada yang melebihi pagu / nothing over its ceiling.</p>{% endif %}
{% else %}<p>Belum ada pagu indikatif untuk tahun dan pemda ini / no pagu imported for this tahun and pemda:
<code>rkpd reference import --pemda KODE --tahun {{ tahun }} --pagu FILE</code>.</p>{% endif %}
<footer>Dibuat / generated {{ generated }} WIB oleh rkpd-pipeline. Angka warehouse (bagian 2&ndash;5, 7) adalah isi
warehouse untuk tahun dan pemda ini setelah run (termasuk slice yang tidak berubah). <i>Warehouse figures
(sections 2&ndash;5, 7) are the warehouse state for this tahun and pemda after the run, unchanged slices included.</i>
Tanpa data pribadi / no personal data.</footer>
</main></body></html>""")


def _html_table(
    frame: pd.DataFrame, money: tuple[str, ...] = (), text: tuple[str, ...] = (), ratio: tuple[str, ...] = ()
) -> str:
    if frame.empty:
        return "<p>(tidak ada / none)</p>"
    head = "".join(f"<th>{escape(c)}</th>" for c in frame.columns)
    body = []
    for record in frame.itertuples(index=False):
        cells = []
        for column, value in zip(frame.columns, record):
            if column in text or isinstance(value, str):
                cells.append(f'<td class="t">{escape(value if value is not None else "")}</td>')
            elif column in money:
                cells.append(f"<td>{_rupiah(value)}</td>")
            elif column in ratio and value is not None and value == value:
                cells.append(f"<td>{float(value):.2f}".replace(".", ",") + "</td>")
            elif isinstance(value, float) and not float(value).is_integer():
                cells.append(f"<td>{value:.2f}".replace(".", ",") + "</td>")
            else:
                cells.append(f"<td>{_id(value)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


OVER_SHOWN = 30  # rows over their ceiling listed in the report (largest excess first)
PAGU_MONEY = ("Pagu", "Diterima", "Lebih (excess)")


def pagu_tables(pagu: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """From the OPD and kecamatan rows that have a pagu (jenis, kode_pemda, kode, nama, anggaran_diterima, pagu,
    over_pagu): a summary per pemda and jenis, and the rows over their ceiling, largest excess first."""
    jenis = {"opd": "OPD (kab/kota)", "kecamatan": "kecamatan"}
    if pagu.empty:
        return pd.DataFrame(), pd.DataFrame()
    frame = pagu.assign(excess=pagu.anggaran_diterima - pagu.pagu, over=pagu.over_pagu == 1)
    summary = frame.groupby(["kode_pemda", "jenis"], as_index=False).agg(
        n=("kode", "size"), over=("over", "sum"), pagu=("pagu", "sum"), diterima=("anggaran_diterima", "sum")
    )
    summary = pd.DataFrame(
        {
            "Pemda": summary.kode_pemda,
            "Jenis": summary.jenis.map(jenis),
            "Dengan pagu (with a pagu)": summary.n,
            "Melebihi pagu (over)": summary.over,
            "Pagu": summary.pagu,
            "Diterima": summary.diterima,
            "% pagu terpakai (used)": 100 * summary.diterima / summary.pagu.where(summary.pagu > 0),
        }
    )
    top = frame[frame.over].nlargest(OVER_SHOWN, "excess")
    over = pd.DataFrame(
        {
            "Pemda": top.kode_pemda,
            "Jenis": top.jenis.map(jenis),
            "Kode": top.kode,
            "Nama": top.nama.fillna(""),
            "Pagu": top.pagu,
            "Diterima": top.anggaran_diterima,
            "Lebih (excess)": top.excess,
            "% pagu": 100 * top.anggaran_diterima / top.pagu.where(top.pagu > 0),
        }
    )
    return summary, over


def _relative(target: Path | None, out_dir: Path) -> str | None:
    if target is None or not Path(target).exists():
        return None
    return Path(os.path.relpath(Path(target).resolve(), Path(out_dir).resolve())).as_posix()


def _quality_dir(run: dict, report) -> Path | None:
    if report is not None and getattr(report, "quality_page", None):
        return Path(report.quality_page).parent
    try:
        lake = json.loads(run.get("parameters") or "{}").get("lake")
    except (TypeError, ValueError):
        lake = None
    return Path(lake).parent / "quality" if lake else None


def write_run_report(
    engine: sa.Engine,
    run_id: str,
    out_dir: Path,
    report=None,
    quality_dir: Path | None = None,
    figures: dict | None = None,
) -> Path:
    """Render `out_dir/run_<run_id>.html` (self-contained, offline) and return its path. `report` (the
        flow's RunReport) adds held-back rows, ignored files and the quality page; without it everything comes
        from the warehouse. `quality_dir` defaults to the report's, else `quality/` next to the run's lake. `figures`
    (`run_figures`), read beforehand, spare the report the heavy reads."""
    out_dir = Path(out_dir)
    path = report_path(out_dir, run_id)
    data = _gather(engine, run_id, figures)
    run, log = data["run"], data["log"]
    per_level = report.per_level().reset_index(drop=True) if report is not None else per_level_from_log(log)
    per_level = _numeric(per_level.copy())

    quality = data["quality"]
    rules = (
        quality.groupby(["rule", "severity"], as_index=False)[["checked", "failed"]].sum()
        if len(quality)
        else pd.DataFrame(columns=["rule", "severity", "checked", "failed"])
    )
    rules["pct"] = (100 * rules.failed / rules.checked.where(rules.checked > 0)).fillna(0)
    top_rules = rules[rules.failed > 0].sort_values("failed", ascending=False).head(12).reset_index(drop=True)

    mapping = data["mapping"]
    by_method = (
        mapping.assign(metode=mapping.mapping_method.map(lambda m: METHOD_LABELS.get(m, m)))
        .groupby(["metode"], as_index=False)
        .agg(
            baris=("n", "sum"),
            n_confidence=("n_confidence", "sum"),
            sum_confidence=("sum_confidence", "sum"),
            keyakinan_min=("min_confidence", "min"),
        )
        .sort_values("baris", ascending=False)
    )
    by_method["keyakinan_rata2"] = by_method.sum_confidence / by_method.n_confidence.where(by_method.n_confidence > 0)
    by_method = by_method[["metode", "baris", "keyakinan_rata2", "keyakinan_min"]]

    charts = {
        "rows": chart_rows(per_level),
        "funnel": chart_funnel(data["funnel"]),
        "bidang": chart_rekap(
            data["bidang"],
            "Usulan dan anggaran per bidang urusan",
            "Usulan at the desa and kab/kota forums and accepted into the RKPD, per bidang "
            "urusan (Permendagri 90/2019)",
            "(belum dipetakan / unmapped)",
        ),
        "kecamatan": chart_rekap(
            data["kecamatan"],
            "Usulan dan anggaran per kecamatan",
            "Usulan at the desa and kab/kota forums and accepted into the RKPD, per kecamatan",
            "(tanpa kecamatan / no kecamatan, e.g. pokir)",
        ),
        "mapping": chart_mapping(mapping, data["confidence"]),
    }
    if len(top_rules):
        charts["quality"] = chart_quality(top_rules)
    html, first = {}, True
    for name, fig in charts.items():
        html[name] = fig.to_html(
            full_html=False,
            include_plotlyjs=first,
            div_id=f"plot-{name}",
            default_width="100%",
            config={"displaylogo": False, "responsive": True},
        )
        first = False

    quality_dir = Path(quality_dir) if quality_dir else _quality_dir(run, report)
    quality_page = (
        Path(report.quality_page)
        if report is not None and getattr(report, "quality_page", None)
        else quality_dir / f"quality_{run_id}.html"
        if quality_dir
        else None
    )
    links = [("Laporan kualitas run ini / quality page of the run", _relative(quality_page, out_dir))]
    site = Path(quality_dir) / DATA_DOCS_SITE if quality_dir else None
    links.append(("Great Expectations Data Docs", _relative(site, out_dir)))

    totals = per_level[["rows_read", "rows_loaded", "rows_quarantined", "rows_held_back"]].sum()
    f, pokir = data["funnel"], data["pokir"]
    backlog = data["backlog"]
    cards = [
        ("Baris dibaca", "rows read", _id(totals.rows_read)),
        ("Baris dimuat", "rows loaded", _id(totals.rows_loaded)),
        ("Baris dikarantina", "rows quarantined", _id(totals.rows_quarantined)),
        ("Usulan desa", "raised at desa forums", _id(f.n_usulan_desa)),
        ("Diterima masuk RKPD", "accepted into the RKPD", _id(f.n_rkpd)),
        ("Anggaran usulan desa masuk RKPD", "anggaran accepted", _rupiah(f.anggaran_rkpd)),
        ("Antrean review", "review backlog", _id(backlog)),
    ]
    problems = [
        f"{r.source_file}: {r.message or r.load_status}"
        for r in log.itertuples()
        if r.load_status in ("failed", "stopped")
    ]
    unchanged_rows = (
        log[log.load_status == "unchanged"].groupby(["level", "source"]).rows_read.sum().rename("rows_unchanged")
    )
    per_level_rows = per_level.drop(columns=["files_failed", "files_unchanged"], errors="ignore").merge(
        unchanged_rows, on=["level", "source"], how="left"
    )
    per_level_rows["rows_unchanged"] = per_level_rows.rows_unchanged.fillna(0)
    table_levels = per_level_rows.assign(level=per_level_rows.level.map(lambda lv: LEVEL_LABELS.get(lv, lv))).rename(
        columns={
            "level": "Forum (level)",
            "source": "Sumber (source)",
            "rows_read": "Dibaca (read)",
            "rows_loaded": "Dimuat (loaded)",
            "rows_quarantined": "Karantina (quarantined)",
            "rows_held_back": "Ditahan (held back)",
            "rows_unchanged": "Baris tidak berubah (rows unchanged)",
        }
    )
    table_quality = top_rules.rename(
        columns={
            "rule": "Aturan (rule)",
            "severity": "Tingkat (severity)",
            "checked": "Diperiksa (checked)",
            "failed": "Gagal (failed)",
            "pct": "% gagal",
        }
    )
    table_mapping = by_method.rename(
        columns={
            "metode": "Metode (method)",
            "baris": "Baris (rows)",
            "keyakinan_rata2": "Keyakinan rata-rata (mean confidence)",
            "keyakinan_min": "Keyakinan terendah (min)",
        }
    )
    pagu_summary, over = pagu_tables(data["pagu"])
    reference_notes = store.template_notices(
        [store.reference_status(kode, data["tahun"]) for kode in data["pemda"] if kode]
    )
    page = PAGE.render(
        run_id=run_id,
        tahun=data["tahun"],
        pemda=", ".join(data["pemda"]),
        status=run.get("run_status"),
        started=jakarta_time(run.get("started_at")),
        finished=jakarta_time(run.get("finished_at")),
        files={
            "read": _id(len(log)),
            "unchanged": _id((log.load_status == "unchanged").sum()),
            "failed": _id((log.load_status == "failed").sum()),
        },
        cards=cards,
        problems=problems,
        ignored=list(getattr(report, "ignored", []) or []),
        charts=html,
        has_quality=len(top_rules) > 0,
        links=links,
        backlog=_id(backlog),
        reference_notes=reference_notes,
        has_pagu=len(data["pagu"]) > 0,
        over_pagu=int((data["pagu"].over_pagu == 1).sum()),
        over_shown=len(over),
        pokir_text=(
            f"{_id(pokir.n_usulan)} usulan, {_id(pokir.n_diterima)} diterima ({_rupiah(pokir.anggaran_diterima)})"
        ),
        tables={
            "per_level": _html_table(table_levels),
            "quality": _html_table(table_quality, ratio=("% gagal",)),
            "mapping": _html_table(
                table_mapping, ratio=("Keyakinan rata-rata (mean confidence)", "Keyakinan terendah (min)")
            ),
            "pagu": _html_table(
                pagu_summary, money=PAGU_MONEY, text=("Pemda", "Jenis"), ratio=("% pagu terpakai (used)",)
            ),
            "over": _html_table(over, money=PAGU_MONEY, text=("Pemda", "Jenis", "Kode", "Nama"), ratio=("% pagu",)),
        },
        generated=datetime.now(JAKARTA).strftime("%Y-%m-%d %H:%M"),
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".html.tmp")
    tmp.write_text(page, encoding="utf-8")
    os.replace(tmp, path)
    return path


# --- Prefect artifacts -------------------------------------------------------------------------------
def artifact_key(run_id: str) -> str:
    """`rkpd-run-<tahun>` (one key per tahun, so the UI shows the runs of a tahun as versions)."""
    match = re.match(r"^(\d{4})-", run_id)
    slug = match.group(1) if match else re.sub(r"[^a-z0-9]+", "-", run_id.lower()).strip("-")
    return f"rkpd-run-{slug}"


def _plain(value):
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def publish_artifacts(report_path: Path, per_level_frame: pd.DataFrame, run_id: str) -> dict[str, str]:
    """A table artifact (rows per level and source) and a markdown artifact (summary and the report's
    path) on the current flow run. Outside a flow or task run nothing is created (returns {})."""
    from prefect.artifacts import create_markdown_artifact, create_table_artifact
    from prefect.context import FlowRunContext, TaskRunContext

    if FlowRunContext.get() is None and TaskRunContext.get() is None:
        return {}
    key = artifact_key(run_id)
    rows = [{k: _plain(v) for k, v in record.items()} for record in per_level_frame.to_dict(orient="records")]
    table_id = create_table_artifact(
        table=rows, key=key, description=f"Baris per forum dan sumber / rows per level and source, run {run_id}"
    )
    totals = per_level_frame[
        [c for c in ("rows_read", "rows_loaded", "rows_quarantined", "rows_held_back") if c in per_level_frame]
    ].sum()
    lines = [
        f"# Run {run_id}",
        "",
        f"- dibaca / read: **{_id(totals.get('rows_read', 0))}**",
        f"- dimuat / loaded: **{_id(totals.get('rows_loaded', 0))}**",
        f"- dikarantina / quarantined: **{_id(totals.get('rows_quarantined', 0))}**",
        f"- ditahan / held back: **{_id(totals.get('rows_held_back', 0))}**",
        "",
        "| level | source | read | loaded | quarantined |",
        "|---|---|---:|---:|---:|",
        *(
            f"| {r['level']} | {r['source']} | {_id(r['rows_read'])} | {_id(r['rows_loaded'])} | "
            f"{_id(r['rows_quarantined'])} |"
            for r in rows
        ),
        "",
        f"Laporan / report: `{Path(report_path).resolve()}`",
        f"([buka / open]({Path(report_path).resolve().as_uri()}))",
    ]
    markdown_id = create_markdown_artifact(
        markdown="\n".join(lines), key=f"{key}-summary", description=f"Ringkasan run / run summary {run_id}"
    )
    return {"table": str(table_id), "markdown": str(markdown_id), "key": key}
