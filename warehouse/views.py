"""Planner views over the warehouse: written once, run on PostgreSQL and SQLite alike.

The SQL below is portable (CTEs, window functions, CASE, COALESCE, NULLIF, ROUND); the one thing the two
dialects spell differently, the list of id_usulan behind an RKPD draft line, sits in `DIALECT_SQL`.
Migration 0004 creates the views with `create_all(op)`; see VIEWS.md for grain and examples.

Name lookups follow the version of the reference list in force for the row's tahun:
- kecamatan / desa names: `ref_wilayah` rows with berlaku_mulai <= tahun <= berlaku_sampai (open end);
- bidang urusan / sub kegiatan names: `ref_nomenklatur` with the same rule;
- OPD names: `ref_opd` of the row's pemda, SOTK version = the latest tahun_mulai <= tahun of that pemda.
Versions of one list must not overlap (a reference-data invariant); the lookups are plain LEFT JOINs
applied after aggregation, so a missing name is NULL and never drops a row.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

# The only dialect differences. {expr} is the column to list.
DIALECT_SQL: dict[str, dict[str, str]] = {
    "postgresql": {"id_list": "string_agg({expr}, ',' ORDER BY {expr})"},
    "sqlite": {"id_list": "group_concat({expr}, ',')"},  # order unspecified before SQLite 3.44
}

# --- shared fragments --------------------------------------------------------------------------------
# A reference version is in force for tahun T of alias {g}.
_IN_FORCE = "{r}.berlaku_mulai <= {g}.tahun AND ({r}.berlaku_sampai IS NULL OR {g}.tahun <= {r}.berlaku_sampai)"

# Versions of the national lists. Looking names up through (versi, kode) uses the lists' primary keys;
# a lookup by kode alone has no index (ref_wilayah holds ~180k rows) and SQLite would scan it per row.
_CTE = {
    "wilayah": "wilayah_versi AS (SELECT DISTINCT versi, berlaku_mulai, berlaku_sampai FROM ref_wilayah)",
    "nomenklatur": "nomenklatur_versi AS (SELECT DISTINCT versi, berlaku_mulai, berlaku_sampai FROM ref_nomenklatur)",
    # OPD master with the tahun range each SOTK version of a pemda applies to (tahun_berikut: next version).
    "opd": """opd_versi AS (
    SELECT kode_pemda, tahun_mulai,
           LEAD(tahun_mulai) OVER (PARTITION BY kode_pemda ORDER BY tahun_mulai) AS tahun_berikut
    FROM (SELECT DISTINCT kode_pemda, tahun_mulai FROM ref_opd) AS s
)""",
}


def _with(refs: tuple[str, ...], *ctes: str) -> str:
    """A WITH clause: the reference CTEs named in `refs`, then the view's own CTEs."""
    return "WITH " + ",\n".join([_CTE[r] for r in refs] + list(ctes))


def _opd_join(alias: str, g: str, kode: str) -> str:
    return (
        f"LEFT JOIN opd_versi AS {alias}_v ON {alias}_v.kode_pemda = {g}.kode_pemda"
        f" AND {alias}_v.tahun_mulai <= {g}.tahun"
        f" AND ({alias}_v.tahun_berikut IS NULL OR {g}.tahun < {alias}_v.tahun_berikut)\n"
        f"LEFT JOIN ref_opd AS {alias} ON {alias}.kode_pemda = {g}.kode_pemda"
        f" AND {alias}.tahun_mulai = {alias}_v.tahun_mulai AND {alias}.kode_skpd = {g}.{kode}"
    )


def _ref_join(table: str, alias: str, g: str, kode: str, tingkat: str) -> str:
    versi = {"ref_wilayah": "wilayah_versi", "ref_nomenklatur": "nomenklatur_versi"}[table]
    return (
        f"LEFT JOIN {versi} AS {alias}_v ON {_IN_FORCE.format(r=alias + '_v', g=g)}\n"
        f"LEFT JOIN {table} AS {alias} ON {alias}.versi = {alias}_v.versi AND {alias}.kode = {g}.{kode}"
        f" AND {alias}.tingkat = '{tingkat}'"
    )


def _wilayah_join(alias: str, g: str, kode: str, tingkat: str) -> str:
    return _ref_join("ref_wilayah", alias, g, kode, tingkat)


def _nomenklatur_join(alias: str, g: str, kode: str, tingkat: str) -> str:
    return _ref_join("ref_nomenklatur", alias, g, kode, tingkat)


# Counts and anggaran of all rows, accepted rows and rejected rows (status 'diusulkan' only in the first).
_MEASURES = """COUNT(*) AS n_usulan,
           ROUND(COALESCE(SUM(u.anggaran), 0), 2) AS anggaran_usulan,
           SUM(CASE WHEN u.status = 'diterima' THEN 1 ELSE 0 END) AS n_diterima,
           ROUND(COALESCE(SUM(CASE WHEN u.status = 'diterima' THEN u.anggaran END), 0), 2) AS anggaran_diterima,
           SUM(CASE WHEN u.status = 'ditolak' THEN 1 ELSE 0 END) AS n_ditolak,
           ROUND(COALESCE(SUM(CASE WHEN u.status = 'ditolak' THEN u.anggaran END), 0), 2) AS anggaran_ditolak"""
_MEASURE_NAMES = "g.n_usulan, g.anggaran_usulan, g.n_diterima, g.anggaran_diterima, g.n_ditolak, g.anggaran_ditolak"


def _rekap(key: str, name_select: str, name_join: str, ref: str) -> str:
    return (
        _with(
            (ref,),
            f"""g AS (
    SELECT u.tahun, u.kode_pemda, u.level, u.stream, u.{key},
           {_MEASURES}
    FROM usulan AS u
    GROUP BY u.tahun, u.kode_pemda, u.level, u.stream, u.{key}
)""",
        )
        + f"""
SELECT g.tahun, g.kode_pemda, g.level, g.stream, g.{key}, {name_select},
       {_MEASURE_NAMES}
FROM g
{name_join}"""
    )


def _views(d: dict[str, str]) -> dict[str, str]:
    """View name -> SELECT, for the dialect fragments `d`."""
    v: dict[str, str] = {}

    v["v_rekap_opd"] = _rekap("kode_opd_akhir", "n.nama_skpd AS nama_opd", _opd_join("n", "g", "kode_opd_akhir"), "opd")
    v["v_rekap_kecamatan"] = _rekap(
        "kode_kecamatan", "w.nama AS nama_kecamatan", _wilayah_join("w", "g", "kode_kecamatan", "kecamatan"), "wilayah"
    )
    v["v_rekap_bidang"] = _rekap(
        "kode_bidang_urusan",
        "b.nama AS nama_bidang_urusan",
        _nomenklatur_join("b", "g", "kode_bidang_urusan", "bidang"),
        "nomenklatur",
    )

    # Lineage: a row of the next level descends from a row when its id_usulan_asal names it, or (no
    # id_usulan_asal given) when it carries the same id_usulan: the same record rises. Two index-friendly
    # joins on the full key (id_usulan is unique within its pemda, tahun, level and stream), de-duplicated by
    # UNION. `root` is the id_usulan of the desa row.
    def step(prev: str, level: str, extra: str = "") -> str:
        on = f"x.kode_pemda = p.kode_pemda AND x.tahun = p.tahun AND x.level = '{level}' AND x.stream = p.stream"
        cols = f"p.tahun, p.kode_pemda, p.stream, p.root, x.id_usulan AS id{extra}"
        return (
            f"SELECT {cols} FROM {prev} AS p JOIN usulan AS x ON {on} AND x.id_usulan_asal = p.id\n"
            f"    UNION\n"
            f"    SELECT {cols} FROM {prev} AS p JOIN usulan AS x ON {on} AND x.id_usulan = p.id"
            f" AND x.id_usulan_asal IS NULL"
        )

    v["v_funnel_desa"] = (
        _with(
            ("wilayah",),
            f"""d AS (
    SELECT u.tahun, u.kode_pemda, u.stream, u.kode_kecamatan, u.kode_desa, u.status,
           u.id_usulan AS root, u.id_usulan AS id
    FROM usulan AS u WHERE u.level = 'desa'
), k AS (
    {step("d", "kecamatan")}
), f AS (
    {step("k", "forum_opd")}
), b AS (
    {step("f", "kabkota", ", x.status, x.anggaran")}
), reach AS (  -- the numeric branch first: PostgreSQL types a UNION from its first branches
    SELECT tahun, kode_pemda, stream, root, 0 AS kec, 0 AS opd, 1 AS kab,
           CASE WHEN status = 'diterima' THEN 1 ELSE 0 END AS rkpd,
           CASE WHEN status = 'diterima' THEN anggaran END AS anggaran FROM b
    UNION ALL
    SELECT tahun, kode_pemda, stream, root, 0, 1, 0, 0, NULL FROM f
    UNION ALL
    SELECT tahun, kode_pemda, stream, root, 1, 0, 0, 0, NULL FROM k
), per_root AS (
    SELECT tahun, kode_pemda, stream, root, MAX(kec) AS kec, MAX(opd) AS opd, MAX(kab) AS kab,
           MAX(rkpd) AS rkpd, SUM(anggaran) AS anggaran_rkpd
    FROM reach GROUP BY tahun, kode_pemda, stream, root
), g AS (
    SELECT d.tahun, d.kode_pemda, d.kode_kecamatan, d.kode_desa,
           COUNT(*) AS n_usulan_desa,
           SUM(CASE WHEN d.status = 'diterima' THEN 1 ELSE 0 END) AS n_diterima_desa,
           COALESCE(SUM(r.kec), 0) AS n_reached_kecamatan,
           COALESCE(SUM(r.opd), 0) AS n_reached_forum_opd,
           COALESCE(SUM(r.kab), 0) AS n_reached_kabkota,
           COALESCE(SUM(r.rkpd), 0) AS n_rkpd,
           ROUND(COALESCE(SUM(r.anggaran_rkpd), 0), 2) AS anggaran_rkpd
    FROM d
    LEFT JOIN per_root AS r ON r.tahun = d.tahun AND r.kode_pemda = d.kode_pemda AND r.stream = d.stream
                           AND r.root = d.root
    GROUP BY d.tahun, d.kode_pemda, d.kode_kecamatan, d.kode_desa
)""",
        )
        + f"""
SELECT g.tahun, g.kode_pemda, g.kode_kecamatan, w.nama AS nama_kecamatan, g.kode_desa, wd.nama AS nama_desa,
       g.n_usulan_desa, g.n_diterima_desa, g.n_reached_kecamatan, g.n_reached_forum_opd, g.n_reached_kabkota,
       g.n_rkpd, g.anggaran_rkpd
FROM g
{_wilayah_join("w", "g", "kode_kecamatan", "kecamatan")}
{_wilayah_join("wd", "g", "kode_desa", "desa")}"""
    )

    v["v_daftar_prioritas_kecamatan"] = (
        _with(
            ("wilayah", "opd"),
            """g AS (
    SELECT u.tahun, u.kode_pemda, u.kode_kecamatan, u.stream, u.id_usulan, u.prioritas, u.kode_desa, u.nama_desa,
           u.lokasi, u.uraian_usulan, u.nama_kamus, u.volume, u.satuan, u.anggaran, u.kode_opd_akhir,
           u.kode_bidang_urusan, u.kode_sub_kegiatan,
           ROW_NUMBER() OVER (PARTITION BY u.tahun, u.kode_pemda, u.kode_kecamatan
                              ORDER BY CASE WHEN u.prioritas IS NULL THEN 1 ELSE 0 END, u.prioritas,
                                       u.id_usulan) AS urutan
    FROM usulan AS u
    WHERE u.level = 'kecamatan' AND u.status = 'diterima'
)""",
        )
        + f"""
SELECT g.tahun, g.kode_pemda, g.kode_kecamatan, w.nama AS nama_kecamatan, g.urutan, g.prioritas, g.id_usulan,
       g.stream, g.kode_desa, COALESCE(wd.nama, g.nama_desa) AS nama_desa, g.lokasi, g.uraian_usulan, g.nama_kamus,
       g.volume, g.satuan, g.anggaran, g.kode_opd_akhir, n.nama_skpd AS nama_opd, g.kode_bidang_urusan,
       g.kode_sub_kegiatan
FROM g
{_wilayah_join("w", "g", "kode_kecamatan", "kecamatan")}
{_wilayah_join("wd", "g", "kode_desa", "desa")}
{_opd_join("n", "g", "kode_opd_akhir")}
ORDER BY g.tahun, g.kode_pemda, g.kode_kecamatan, g.urutan"""
    )

    # Every kecamatan with accepted kecamatan-level usulan or with a ceiling, for its tahun.
    v["v_pagu_kecamatan"] = (
        _with(
            ("wilayah",),
            """acc AS (
    SELECT u.tahun, u.kode_pemda, u.kode_kecamatan, COUNT(*) AS n_diterima,
           ROUND(COALESCE(SUM(u.anggaran), 0), 2) AS anggaran_diterima
    FROM usulan AS u
    WHERE u.level = 'kecamatan' AND u.status = 'diterima' AND u.kode_kecamatan IS NOT NULL
    GROUP BY u.tahun, u.kode_pemda, u.kode_kecamatan
), g AS (
    SELECT tahun, kode_pemda, kode_kecamatan FROM acc
    UNION
    SELECT tahun, kode_pemda, kode_kecamatan FROM ref_pagu_kewilayahan
)""",
        )
        + f"""
SELECT g.tahun, g.kode_pemda, g.kode_kecamatan, w.nama AS nama_kecamatan,
       COALESCE(a.n_diterima, 0) AS n_diterima,
       COALESCE(a.anggaran_diterima, 0) AS anggaran_diterima,
       p.pagu,
       p.pagu - COALESCE(a.anggaran_diterima, 0) AS sisa_pagu,
       ROUND(1.0 * COALESCE(a.anggaran_diterima, 0) / NULLIF(p.pagu, 0), 4) AS share_of_pagu,
       CASE WHEN p.pagu IS NULL THEN NULL
            WHEN COALESCE(a.anggaran_diterima, 0) > p.pagu THEN 1 ELSE 0 END AS over_pagu
FROM g
LEFT JOIN acc AS a ON a.tahun = g.tahun AND a.kode_pemda = g.kode_pemda AND a.kode_kecamatan = g.kode_kecamatan
LEFT JOIN ref_pagu_kewilayahan AS p ON p.tahun = g.tahun AND p.kode_pemda = g.kode_pemda
                                   AND p.kode_kecamatan = g.kode_kecamatan
{_wilayah_join("w", "g", "kode_kecamatan", "kecamatan")}"""
    )

    # Every OPD with accepted usulan at the Forum Perangkat Daerah or the Musrenbang kab/kota, or with a pagu
    # indikatif for the tahun (then at both levels), against that ceiling.
    v["v_pagu_opd"] = (
        _with(
            ("opd",),
            """lv AS (
    SELECT 'forum_opd' AS level UNION ALL SELECT 'kabkota'
), acc AS (
    SELECT u.tahun, u.kode_pemda, u.level, u.kode_opd_akhir AS kode_opd, COUNT(*) AS n_diterima,
           ROUND(COALESCE(SUM(u.anggaran), 0), 2) AS anggaran_diterima
    FROM usulan AS u
    WHERE u.level IN ('forum_opd', 'kabkota') AND u.status = 'diterima' AND u.kode_opd_akhir IS NOT NULL
    GROUP BY u.tahun, u.kode_pemda, u.level, u.kode_opd_akhir
), g AS (
    SELECT tahun, kode_pemda, level, kode_opd FROM acc
    UNION
    SELECT p.tahun, p.kode_pemda, lv.level, p.kode_skpd FROM ref_pagu_opd AS p CROSS JOIN lv
)""",
        )
        + f"""
SELECT g.tahun, g.kode_pemda, g.level, g.kode_opd, n.nama_skpd AS nama_opd,
       COALESCE(a.n_diterima, 0) AS n_diterima,
       COALESCE(a.anggaran_diterima, 0) AS anggaran_diterima,
       p.pagu,
       p.pagu - COALESCE(a.anggaran_diterima, 0) AS sisa_pagu,
       ROUND(1.0 * COALESCE(a.anggaran_diterima, 0) / NULLIF(p.pagu, 0), 4) AS share_of_pagu,
       CASE WHEN p.pagu IS NULL THEN NULL
            WHEN COALESCE(a.anggaran_diterima, 0) > p.pagu THEN 1 ELSE 0 END AS over_pagu
FROM g
LEFT JOIN acc AS a ON a.tahun = g.tahun AND a.kode_pemda = g.kode_pemda AND a.level = g.level
                  AND a.kode_opd = g.kode_opd
LEFT JOIN ref_pagu_opd AS p ON p.tahun = g.tahun AND p.kode_pemda = g.kode_pemda AND p.kode_skpd = g.kode_opd
{_opd_join("n", "g", "kode_opd")}"""
    )

    # RKPD draft lines. Target volume: the sum where the line has one satuan; with several, the satuan
    # held by a strict majority of the line's usulan and the volume of those usulan; with no majority,
    # 'campuran' and no volume. n_satuan tells the planner how many units were mixed.
    key = "u.tahun, u.kode_pemda, u.kode_sub_kegiatan, u.kode_opd_akhir, u.kode_kecamatan"
    v["v_rkpd_draft"] = (
        _with(
            ("nomenklatur", "wilayah", "opd"),
            f"""acc AS (
    SELECT u.tahun, u.kode_pemda, u.kode_sub_kegiatan, u.kode_opd_akhir, u.kode_kecamatan, u.stream,
           u.id_usulan, u.volume, u.satuan, u.anggaran,
           COUNT(*) OVER (PARTITION BY {key}) AS n_line,
           COUNT(*) OVER (PARTITION BY {key}, u.satuan) AS n_same_satuan
    FROM usulan AS u
    WHERE u.level = 'kabkota' AND u.status = 'diterima'
), g AS (
    SELECT u.tahun, u.kode_pemda, u.kode_sub_kegiatan, u.kode_opd_akhir, u.kode_kecamatan,
           COUNT(DISTINCT u.satuan) AS n_satuan,
           CASE WHEN COUNT(DISTINCT u.satuan) <= 1 THEN MAX(u.satuan)
                ELSE COALESCE(MAX(CASE WHEN 2 * u.n_same_satuan > u.n_line THEN u.satuan END), 'campuran')
           END AS satuan,
           CASE WHEN COUNT(DISTINCT u.satuan) <= 1 THEN SUM(u.volume)
                ELSE SUM(CASE WHEN 2 * u.n_same_satuan > u.n_line AND u.satuan IS NOT NULL THEN u.volume END)
           END AS volume,
           ROUND(COALESCE(SUM(u.anggaran), 0), 2) AS pagu,
           COUNT(*) AS n_usulan,
           SUM(CASE WHEN u.stream = 'musrenbang' THEN 1 ELSE 0 END) AS n_musrenbang,
           SUM(CASE WHEN u.stream = 'pokir' THEN 1 ELSE 0 END) AS n_pokir,
           {d["id_list"].format(expr="u.id_usulan")} AS id_usulan_list
    FROM acc AS u
    GROUP BY {key}
)""",
        )
        + f"""
SELECT g.tahun, g.kode_pemda, g.kode_sub_kegiatan, s.nama AS nama_sub_kegiatan, g.kode_opd_akhir,
       n.nama_skpd AS nama_opd, g.kode_kecamatan, w.nama AS lokasi, g.volume, g.satuan, g.n_satuan, g.pagu,
       g.n_usulan, g.n_musrenbang, g.n_pokir, g.id_usulan_list
FROM g
{_nomenklatur_join("s", "g", "kode_sub_kegiatan", "sub_kegiatan")}
{_opd_join("n", "g", "kode_opd_akhir")}
{_wilayah_join("w", "g", "kode_kecamatan", "kecamatan")}"""
    )
    return v


VIEW_NAMES: tuple[str, ...] = tuple(_views(DIALECT_SQL["sqlite"]))
# Tables a view reads that a migration after 0004 created: migrations before it leave the view out.
REQUIRES: dict[str, tuple[str, ...]] = {"v_pagu_opd": ("ref_pagu_opd",)}


def view_sql(dialect: str) -> dict[str, str]:
    """View name -> SELECT statement for `dialect` ('postgresql' or 'sqlite')."""
    if dialect not in DIALECT_SQL:
        raise ValueError(f"planner views are written for {sorted(DIALECT_SQL)}, not {dialect!r}")
    return _views(DIALECT_SQL[dialect])


def drop_statements() -> list[str]:
    return [f"DROP VIEW IF EXISTS {name}" for name in reversed(VIEW_NAMES)]


def create_all(op) -> None:
    """Create every view inside an Alembic migration (`op` = alembic.op), except those whose tables the
    warehouse does not have yet at that revision (`REQUIRES`)."""
    bind = op.get_bind()
    present = set(sa.inspect(bind).get_table_names())
    for name, sql in view_sql(bind.dialect.name).items():
        if set(REQUIRES.get(name, ())) <= present:
            op.execute(f"CREATE VIEW {name} AS\n{sql}")


def drop_all(op) -> None:
    for statement in drop_statements():
        op.execute(statement)


@contextmanager
def views_dropped(op) -> Iterator[None]:
    """For a later migration that alters a table the views read (SQLite batch 'move and copy', a column
    type change on PostgreSQL): drop the views, run the body, create them again from this module."""
    drop_all(op)
    yield
    create_all(op)
