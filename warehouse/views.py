"""Planner views over the warehouse: written once, run on PostgreSQL and SQLite alike.

The SQL below is portable (CTEs, window functions, CASE, COALESCE, NULLIF, ROUND); the one thing the two
dialects spell differently, the list of id_usulan behind an RKPD draft line, sits in `DIALECT_SQL`.
Each migration creates its own views with `create_all(op, names)`; see VIEWS.md for grain and examples.

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

from schemas import LEVELS, USULAN

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


# What was accepted (alias a: n_diterima, anggaran_diterima) against a ceiling (alias p: pagu), in v_pagu_*.
_AGAINST_PAGU = """       COALESCE(a.n_diterima, 0) AS n_diterima,
       COALESCE(a.anggaran_diterima, 0) AS anggaran_diterima,
       p.pagu,
       p.pagu - COALESCE(a.anggaran_diterima, 0) AS sisa_pagu,
       ROUND(1.0 * COALESCE(a.anggaran_diterima, 0) / NULLIF(p.pagu, 0), 4) AS share_of_pagu,
       CASE WHEN p.pagu IS NULL THEN NULL
            WHEN COALESCE(a.anggaran_diterima, 0) > p.pagu THEN 1 ELSE 0 END AS over_pagu"""


def _with(refs: tuple[str, ...], *ctes: str, recursive: bool = False) -> str:
    """A WITH clause: the reference CTEs named in `refs`, then the view's own CTEs."""
    return ("WITH RECURSIVE " if recursive else "WITH ") + ",\n".join([_CTE[r] for r in refs] + list(ctes))


# The rank of a forum level (desa 0 .. nasional 5), and the personal columns no view may show.
_LEVEL_RANK = "CASE {a}.level " + " ".join(f"WHEN '{level}' THEN {i}" for i, level in enumerate(LEVELS)) + " END"
_PERSONAL = ", ".join(f"'{name}'" for name in USULAN.personal_columns)


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
{_AGAINST_PAGU}
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
{_AGAINST_PAGU}
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

    # What did not flow: each row kept out (severity error) or loaded with a warning, as read. The raw row and
    # the value of a personal field (pengusul, kontak_pengusul) stay in the quarantine table.
    v["v_karantina"] = f"""SELECT q.tahun, q.kode_pemda, q.level, q.source, q.source_file, q.source_sheet, q.source_row,
       q.id_usulan, q.rule, q.field,
       CASE WHEN q.field IN ({_PERSONAL}) THEN NULL ELSE q.value END AS value,
       q.severity,
       CASE WHEN q.severity = 'error' THEN 'tidak dimuat' ELSE 'dimuat dengan catatan' END AS tindakan,
       q.reason_id, q.run_id
FROM quarantine AS q"""

    # The review queue: every usulan row still waiting for a planner (no mapping method), with the pipeline's
    # best suggestion, the alternatives, its confidence and why it waits, and names in force for its tahun.
    v["v_antrean_review"] = (
        _with(("wilayah", "nomenklatur", "opd"), "g AS (SELECT u.* FROM usulan AS u WHERE u.mapping_method IS NULL)")
        + f"""
SELECT g.tahun, g.kode_pemda, g.level, g.stream, g.id_usulan, g.kode_kecamatan, w.nama AS nama_kecamatan,
       g.kode_desa, COALESCE(wd.nama, g.nama_desa) AS nama_desa, g.lokasi, g.uraian_usulan, g.permasalahan,
       g.volume, g.satuan, g.anggaran, g.status, g.kode_opd_awal, g.nama_opd_awal,
       g.saran_bidang_urusan, b.nama AS nama_saran_bidang_urusan,
       g.saran_sub_kegiatan, s.nama AS nama_saran_sub_kegiatan,
       g.saran_opd, o.nama_skpd AS nama_saran_opd,
       g.kode_bidang_alternatif, ba.nama AS nama_bidang_alternatif, g.opd_alternatif,
       g.mapping_confidence, g.alasan_review, g.kewenangan
FROM g
{_wilayah_join("w", "g", "kode_kecamatan", "kecamatan")}
{_wilayah_join("wd", "g", "kode_desa", "desa")}
{_nomenklatur_join("b", "g", "saran_bidang_urusan", "bidang")}
{_nomenklatur_join("s", "g", "saran_sub_kegiatan", "sub_kegiatan")}
{_nomenklatur_join("ba", "g", "kode_bidang_alternatif", "bidang")}
{_opd_join("o", "g", "saran_opd")}"""
    )

    # One usulan's path: every row with the usulan it started as (id_usulan_awal, at level_awal). A row comes
    # from the row of the nearest lower level, same pemda, tahun and stream, whose id_usulan is its
    # id_usulan_asal (or, without one, its own id_usulan); a row that comes from none starts a path.
    levels = ", ".join(f"'{level}'" for level in LEVELS)
    v["v_riwayat_usulan"] = (
        _with(
            ("opd",),
            f"""link AS (  -- each row and the nearest lower level holding the id it came from (primary-key look-ups)
    SELECT c.kode_pemda, c.tahun, c.stream, c.level, c.id_usulan, {_LEVEL_RANK.format(a="c")} AS urutan_level,
           CAST(COALESCE(c.id_usulan_asal, c.id_usulan) AS VARCHAR(64)) AS id_induk,  -- typed: SQLite indexes it
           MAX({_LEVEL_RANK.format(a="p")}) AS urutan_induk
    FROM usulan AS c
    LEFT JOIN usulan AS p ON p.kode_pemda = c.kode_pemda AND p.tahun = c.tahun AND p.level IN ({levels})
                         AND p.stream = c.stream AND p.id_usulan = COALESCE(c.id_usulan_asal, c.id_usulan)
                         AND {_LEVEL_RANK.format(a="p")} < {_LEVEL_RANK.format(a="c")}
    GROUP BY c.kode_pemda, c.tahun, c.stream, c.level, c.id_usulan, c.id_usulan_asal
), path AS (  -- a row that comes from no lower row starts a path; the rows that come from it follow
    SELECT l.kode_pemda, l.tahun, l.stream, l.level, l.id_usulan, l.urutan_level,
           l.id_usulan AS id_usulan_awal, l.level AS level_awal
    FROM link AS l WHERE l.urutan_induk IS NULL
    UNION ALL
    SELECT l.kode_pemda, l.tahun, l.stream, l.level, l.id_usulan, l.urutan_level, p.id_usulan_awal, p.level_awal
    FROM path AS p
    JOIN link AS l ON l.id_induk = p.id_usulan AND l.urutan_induk = p.urutan_level AND l.kode_pemda = p.kode_pemda
                  AND l.tahun = p.tahun AND l.stream = p.stream
)""",
            recursive=True,
        )
        + f"""
SELECT p.tahun, p.kode_pemda, p.stream, p.id_usulan_awal, p.level_awal, p.urutan_level, p.level, p.id_usulan,
       g.id_usulan_asal, g.kode_kecamatan, g.kode_desa, g.uraian_usulan, g.status, g.alasan, g.volume, g.satuan,
       g.anggaran, g.kode_opd_akhir, n.nama_skpd AS nama_opd, g.mapping_method, g.alasan_review
FROM path AS p
JOIN usulan AS g ON g.kode_pemda = p.kode_pemda AND g.tahun = p.tahun AND g.level = p.level
                AND g.stream = p.stream AND g.id_usulan = p.id_usulan
{_opd_join("n", "g", "kode_opd_akhir")}"""
    )
    return v


VIEW_NAMES: tuple[str, ...] = tuple(_views(DIALECT_SQL["sqlite"]))
# Tables a view reads that a migration after 0004 created: migrations before it leave the view out.


def view_sql(dialect: str) -> dict[str, str]:
    """View name -> SELECT statement for `dialect` ('postgresql' or 'sqlite')."""
    if dialect not in DIALECT_SQL:
        raise ValueError(f"planner views are written for {sorted(DIALECT_SQL)}, not {dialect!r}")
    return _views(DIALECT_SQL[dialect])


def create_statements(dialect: str, names: tuple[str, ...] = VIEW_NAMES) -> list[str]:
    sql = view_sql(dialect)
    return [f"CREATE VIEW {name} AS\n{sql[name]}" for name in VIEW_NAMES if name in names]


def drop_statements(names: tuple[str, ...] = VIEW_NAMES) -> list[str]:
    return [f"DROP VIEW IF EXISTS {name}" for name in reversed(VIEW_NAMES) if name in names]


def create_all(op, names: tuple[str, ...] = VIEW_NAMES) -> None:
    """Create the views `names` (default: every view) inside an Alembic migration (`op` = alembic.op)."""
    for statement in create_statements(op.get_bind().dialect.name, names):
        op.execute(statement)


def drop_all(op, names: tuple[str, ...] = VIEW_NAMES) -> None:
    for statement in drop_statements(names):
        op.execute(statement)


@contextmanager
def views_dropped(op) -> Iterator[None]:
    """For a later migration that alters a table the views read (SQLite batch 'move and copy', a column
    type change on PostgreSQL): drop the views, run the body, create the same views again from this module
    (a view added by a later migration, which may read columns that do not exist yet, is left to it)."""
    present = tuple(n for n in VIEW_NAMES if n in set(sa.inspect(op.get_bind()).get_view_names()))
    drop_all(op, present)
    yield
    create_all(op, present)
