"""Every column of the pipeline, defined once: its kind, meaning and rules.

Tables (`schemas/usulan.py`, `reference.py`, `operations.py`) only list field names, their keys and, where a
table needs it, a narrower rule for a field (required, a pattern of one kind of code). A name means one thing
everywhere: the forum's `status` of an usulan is not the `run_status` of a run nor the `load_status` of a file.
"""

from __future__ import annotations

from dataclasses import replace

from schemas import patterns
from schemas.contract import Column

# Forum levels in the order an usulan rises (domain.md section 1).
LEVELS = ("desa", "kecamatan", "forum_opd", "kabkota", "provinsi", "nasional")
STREAMS = ("musrenbang", "pokir")  # aspirasi masyarakat (SIPD id_jenis_usul 8) and pokok pikiran DPRD (13)
STATUSES = ("diusulkan", "diterima", "ditolak")
# How an usulan's bidang/OPD was decided, strongest first (empty: it waits for review, see `alasan_review`):
# the forum's own source named it, a planner's verified correction, the kamus (id or exact name), the kamus by
# a fuzzy match of the text, the text classifier.
MAPPING_METHODS = ("sumber", "koreksi_planner", "kamus", "kamus_fuzzy", "klasifikasi")
KEWENANGAN = ("kabkota", "provinsi", "pusat")  # who carries an urusan (UU 23/2014 lampiran)
SEVERITIES = ("error", "warning")
RUN_STATUSES = ("running", "success", "failed")
LOAD_STATUSES = ("loaded", "unchanged", "failed", "held_back", "stopped")
TINGKAT_WILAYAH = ("provinsi", "kabkota", "kecamatan", "desa")
TINGKAT_NOMENKLATUR = ("urusan", "bidang", "program", "kegiatan", "sub_kegiatan")
JENIS_USULAN = ("fisik", "non fisik", "barang")

_C = Column
_FIELDS: tuple[Column, ...] = (
    # --- identity and slice ----------------------------------------------------------------------------
    _C("id_usulan", "code", "ID of the usulan in the source system (SIPD id_usulan)", max_length=64),
    _C("id_usulan_asal", "code", "id_usulan of the lower-level usulan it came from (lineage)", max_length=64),
    _C("tahun", "int16", "Tahun anggaran (the RKPD year the forums plan for)", min_value=2019, max_value=2100),
    _C("level", "code", "Forum level", values=LEVELS, max_length=16),
    _C("stream", "code", "musrenbang (aspirasi masyarakat) or pokir (DPRD)", values=STREAMS, max_length=16),
    _C("kode_pemda", "code", "Kode wilayah of the kabupaten/kota (PP.KK)", pattern=patterns.KODE_PEMDA, max_length=5),
    _C("source", "code", "Source channel of the slice: the file format or the sub-folder it came in", max_length=40),
    _C("source_file", "text", "File or endpoint the row was read from"),
    _C("source_sheet", "text", "Sheet or page the row was read from"),
    _C(
        "source_row",
        "int32",
        "Row number in the file (1-based, as a spreadsheet shows it) or record in the page",
        min_value=1,
    ),
    _C("run_id", "code", "Pipeline run", max_length=40),
    # --- where -----------------------------------------------------------------------------------------
    _C("kode_kecamatan", "code", "Kode wilayah of the kecamatan", pattern=patterns.KODE_KECAMATAN, max_length=8),
    _C("kode_desa", "code", "Kode wilayah of the desa/kelurahan", pattern=patterns.KODE_DESA, max_length=13),
    _C("nama_kecamatan", "text", "Kecamatan name as written in the source", max_length=200),
    _C("nama_desa", "text", "Desa/kelurahan name as written in the source", max_length=200),
    _C("lokasi", "text", "Alamat / lokasi of the usulan (dusun, RT/RW, street)"),
    _C("latitude", "float", "Latitude (WGS84)", min_value=-11.5, max_value=6.5),
    _C("longitude", "float", "Longitude (WGS84)", min_value=94.5, max_value=141.5),
    # --- what ------------------------------------------------------------------------------------------
    _C("uraian_usulan", "text", "What is proposed, as written", max_length=2000),
    _C("permasalahan", "text", "The problem the usulan answers"),
    _C("volume", "float", "Volume (koefisien) at this level", min_value=0, max_value=1e7),
    _C("satuan", "text", "Unit of the volume", max_length=60),
    _C("anggaran", "money", "Anggaran (Rp) at this level", min_value=0, max_value=1e12),
    _C("prioritas", "int32", "Priority rank within the forum (1 = highest)", min_value=1, max_value=10000),
    _C("status", "code", "Decision of the forum on the usulan", values=STATUSES, max_length=16),
    _C("alasan", "text", "Reason or note of the forum's decision (required for a rejection)"),
    _C("tanggal_usul", "date", "Date the usulan was entered"),
    _C("pengusul", "text", "Name of the proposer", personal=True),
    _C("kontak_pengusul", "text", "Phone number / NIK of the proposer", personal=True),
    # --- kamus, nomenclature, OPD ----------------------------------------------------------------------
    _C("id_kamus", "code", "Kamus usulan id", max_length=40),
    _C("nama_kamus", "text", "Kamus usulan name (SIPD giat_teks)"),
    _C("jenis_usulan", "code", "fisik, non fisik or barang", values=JENIS_USULAN, max_length=12),
    _C("kode_opd_awal", "code", "Kode SKPD of the OPD first targeted", pattern=patterns.KODE_SKPD, max_length=24),
    _C("nama_opd_awal", "text", "Name of the OPD first targeted (OPD tujuan awal)"),
    _C(
        "kode_opd_akhir",
        "code",
        "Kode SKPD of the OPD that carries it at this level: the forum's own decision (kode_opd_sumber) where the "
        "source names one, else a planner's correction, else the mapping",
        pattern=patterns.KODE_SKPD,
        max_length=24,
    ),
    _C(
        "kode_opd_sumber",
        "code",
        "Kode SKPD of the OPD the forum's source names as carrying it (OPD tujuan akhir as the forum decided); never "
        "changed by mapping or review",
        pattern=patterns.KODE_SKPD,
        max_length=24,
    ),
    _C("nama_opd_akhir", "text", "Name of the OPD that carries it (OPD tujuan akhir)"),
    _C("kode_opd", "code", "Kode SKPD of an OPD", pattern=patterns.KODE_SKPD, max_length=24),
    _C("kode_skpd", "code", "SIPD kode SKPD (encodes up to three bidang)", pattern=patterns.KODE_SKPD, max_length=24),
    _C("nama_skpd", "text", "OPD name"),
    _C("singkatan", "text", "Short name as staff write it"),
    _C(
        "kode_bidang_urusan",
        "code",
        "Bidang urusan (Permendagri 90/2019 nomenclature)",
        pattern=patterns.KODE_BIDANG,
        max_length=5,
    ),
    _C(
        "kode_sub_kegiatan",
        "code",
        "Sub kegiatan of the nomenclature of the tahun",
        pattern=patterns.KODE_SUB_KEGIATAN,
        max_length=20,
    ),
    *(
        _C(
            f"bidang_urusan_{i}",
            "code",
            f"Bidang urusan slot {i} carried by the OPD",
            pattern=patterns.KODE_BIDANG,
            max_length=5,
        )
        for i in (1, 2, 3)
    ),
    _C("harga_satuan", "money", "Unit price (Rp)", min_value=0),
    _C("level_min", "code", "Lowest forum where it usually appears", max_length=16),
    _C("contoh_teks_warga", "text", "Ways residents write it, separated by ' | '"),
    _C("pagu", "money", "Ceiling (Rp)", min_value=0),
    _C("sumber", "text", "Where the figure was set (e.g. surat edaran Bappeda)"),
    # --- Renja evidence --------------------------------------------------------------------------------
    _C("nama_sub_kegiatan", "text", "Sub kegiatan name as the Renja writes it"),
    _C("tolok_ukur", "text", "Output indicator (tolok ukur keluaran) of the sub kegiatan in the Renja"),
    _C(
        "pagu_indikatif",
        "money",
        "Pagu indikatif (Rp) the Renja gives the sub kegiatan at that OPD, summed over its lines",
        min_value=0,
    ),
    _C("n_lokasi", "int32", "Renja lines of the sub kegiatan at that OPD (one per location)", min_value=1),
    # --- mapping ---------------------------------------------------------------------------------------
    _C("mapping_method", "code", "How the bidang/OPD was found", values=MAPPING_METHODS, max_length=16),
    _C("mapping_confidence", "float", "Confidence of the mapping, 0..1", min_value=0, max_value=1),
    _C("mapping_version", "code", "Version of what mapped it: classifier model version, or the method", max_length=40),
    _C("alasan_review", "text", "Why the usulan waits for a planner's review (empty when it is mapped)"),
    _C(
        "saran_bidang_urusan",
        "code",
        "Best bidang urusan suggestion for an usulan waiting for review",
        pattern=patterns.KODE_BIDANG,
        max_length=5,
    ),
    _C(
        "saran_sub_kegiatan",
        "code",
        "Best sub kegiatan suggestion for an usulan waiting for review",
        pattern=patterns.KODE_SUB_KEGIATAN,
        max_length=20,
    ),
    _C(
        "saran_opd",
        "code",
        "Best OPD suggestion for an usulan waiting for review",
        pattern=patterns.KODE_SKPD,
        max_length=24,
    ),
    _C(
        "kode_bidang_alternatif",
        "code",
        "Runner-up bidang urusan of the mapping",
        pattern=patterns.KODE_BIDANG,
        max_length=5,
    ),
    _C("opd_alternatif", "text", "Other OPD that could carry it (kode SKPD, comma separated)"),
    _C(
        "kewenangan",
        "code",
        "Who carries it under UU 23/2014: kabkota, provinsi or pusat",
        values=KEWENANGAN,
        max_length=8,
    ),
    _C("catatan", "text", "Reviewer's note"),
    _C("verified_by", "text", "Who verified it"),
    _C("verified_at", "timestamp", "When it was imported (UTC)"),
    # --- reference versions ----------------------------------------------------------------------------
    _C("versi", "code", "Version of the reference list (e.g. kepmendagri-2025, sipd-ri-2026)", max_length=40),
    _C("kode", "code", "Code of the item (kode wilayah or nomenclature code)", max_length=20),
    _C("tingkat", "code", "Level of the item in its list", max_length=12),
    _C("nama", "text", "Official name"),
    _C("kode_induk", "code", "Code of the parent item", max_length=20),
    _C("jenis", "code", "Kind of area: provinsi, kabupaten/kota, kecamatan, desa/kelurahan", max_length=12),
    _C("berlaku_mulai", "int16", "First tahun anggaran this version applies to"),
    _C("berlaku_sampai", "int16", "Last tahun anggaran it applies to (empty: still in force)"),
    _C("tahun_mulai", "int16", "First tahun anggaran this version of the pemda's list applies to"),
    _C("jenis_pemda", "code", "provinsi or kabkota", values=("provinsi", "kabkota"), max_length=10),
    _C("kd_unit", "int32", "SIMCAN unit number within its first bidang"),
    _C("nama_opd", "text", "Standard OPD name"),
    _C("aktif", "bool", "Still an active entry of the SIMCAN list"),
    # --- operations ------------------------------------------------------------------------------------
    _C("started_at", "timestamp", "Start (UTC)"),
    _C("finished_at", "timestamp", "End (UTC)"),
    _C("run_status", "code", "running, success or failed", values=RUN_STATUSES, max_length=16),
    _C("rows_read", "int64", "Data rows read"),
    _C("rows_loaded", "int64", "Rows loaded into the facts"),
    _C("rows_quarantined", "int64", "Rows set aside with a reason"),
    _C("rows_failed", "int64", "Rows of files that could not be read (counted by lines where possible)"),
    _C("parameters", "text", "Run parameters (JSON)"),
    _C("fingerprint", "code", "sha256 of the file", max_length=64),
    _C(
        "signature",
        "code",
        "sha256 of the slice: its files' fingerprints, the pipeline version and the reference "
        "data it was mapped with; an unchanged signature lets a re-run skip the slice",
        max_length=64,
    ),
    _C(
        "load_status",
        "code",
        "loaded, unchanged (skipped: same signature), failed, held_back (another file of the "
        "slice failed) or stopped (error share over the threshold)",
        values=LOAD_STATUSES,
        max_length=16,
    ),
    _C("message", "text", "What went wrong, naming the file"),
    _C("loaded_at", "timestamp", "When (UTC)"),
    _C("quarantine_id", "int64", "Sequence within the slice"),
    _C("summary_id", "int32", "Sequence within the slice"),
    _C("rule", "code", "Rule of the rule catalogue (tasks/validate/rules.py)", max_length=60),
    _C("field", "code", "Field the rule was applied to", max_length=60),
    _C("value", "text", "Offending value as read"),
    _C("severity", "code", "error (kept out) or warning (loaded, flagged)", values=SEVERITIES, max_length=8),
    _C("reason_id", "text", "Reason in Indonesian"),
    _C("reason_en", "text", "Reason in English"),
    _C("raw", "text", "The row as read (JSON)"),
    _C("quality_flags", "text", "Warnings the row was loaded with (rule ids, comma separated)"),
    _C("checked", "int64", "Rows the rule was applied to"),
    _C("failed", "int64", "Rows failing the rule"),
)

FIELDS: dict[str, Column] = {}
for _column in _FIELDS:
    if _column.name in FIELDS:
        raise ValueError(f"field {_column.name!r} is defined twice")
    FIELDS[_column.name] = _column

# What a table may narrow about a field; the kind and the meaning are the registry's.
_NARROWABLE = {"required", "values", "pattern", "max_length", "min_value", "max_value"}


def columns(*names: str, required: tuple[str, ...] = (), **narrow: dict) -> tuple[Column, ...]:
    """The registry's columns `names`, in order; `required` marks some of them required, and a keyword
    `name={"pattern": ...}` narrows one field's rule for this table."""
    unknown = [n for n in (*names, *required, *narrow) if n not in FIELDS]
    if unknown:
        raise KeyError(f"not in the field registry: {unknown}")
    out = []
    for name in names:
        rules = narrow.get(name, {})
        if set(rules) - _NARROWABLE:
            raise ValueError(
                f"{name}: only {sorted(_NARROWABLE)} can be narrowed, not {sorted(set(rules) - _NARROWABLE)}"
            )
        out.append(replace(FIELDS[name], **rules, **({"required": True} if name in required else {})))
    return tuple(out)


SLICE_KEY = ("tahun", "level", "kode_pemda", "source")  # the unit replaced whole on a re-run
