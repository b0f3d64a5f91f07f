"""Reference file layouts: how the files a Bappeda has map onto the reference contract.

`rkpd reference import` takes four kinds of file, each as xlsx or csv with the headers SIPD exports and
Bappeda spreadsheets use. Headers are normalised like usulan headers (`schemas.sources.normalise_header`) and
looked up in the layout's aliases. Targets are columns of the contract table the file is loaded into, or raw
fields (`RAW_FIELDS`) that the import parses or checks: a bidang written with its name, the program a SIPD
kamus entry belongs to, the tahun or pemda a file states.

Pagu file shape (decided here): ONE table for both ceilings, one row per ceiling, with a column `jenis_pagu`
that tells them apart: `opd` (pagu indikatif of a perangkat daerah, `kode` = its kode SKPD) or `kecamatan`
(pagu indikatif kewilayahan, `kode` = the kode wilayah of the kecamatan). `nama` may stand in for `kode`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from schemas.contract import Table
from schemas.reference import KAMUS, OPD, PAGU_OPD, RENJA
from schemas.sources import normalise_header

# Fields that exist only in reference files: parsed or checked by the import, not stored as such.
RAW_FIELDS = (
    "tahun",  # the tahun a file states (must be the import's)
    "kode_pemda",  # the pemda a file states (must be the import's)
    "nama_skpd",  # an OPD named instead of coded (kamus, pagu)
    "bidang_urusan_teks",  # "1.03 URUSAN PEMERINTAHAN BIDANG ..." (SIPD kamus)
    "kode_program",  # SIPD kamus kodeprogram
    "sub_kegiatan_teks",  # "1.03.10.2.01.0032 Pembangunan Jalan"
    "jenis_teks",  # fisik / non fisik / barang, or asmas / pokir (SIPD jenis usulan)
    "id_jenis_usul",  # SIPD: 8 aspirasi masyarakat, 13 pokir
    "kode_sub_skpd",  # Renja: the sub-unit (UPTD, Puskesmas) that carries the line
    "id_baris",  # Renja: SIPD's id of the line (kode_sbl), unique per file
    "lokasi",  # Renja: where the line is
    "jenis_pagu",  # pagu: opd or kecamatan
    "kode",  # pagu: kode SKPD or kode kecamatan
    "nama",  # pagu: OPD or kecamatan name
)


@dataclass(frozen=True)
class ReferenceLayout:
    """The headers one kind of reference file is recognised by."""

    kind: str  # the import option: opd, kamus, renja, pagu
    table: Table  # the contract table it is loaded into (the pagu file: ref_pagu_opd and ref_pagu_kewilayahan)
    aliases: dict[str, tuple[str, ...]]
    required: tuple[tuple[str, ...], ...]  # per required field, the targets any one of which gives it
    min_matches: int = 2  # known headers a header row has at least
    index: dict[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index: dict[str, str] = {}
        allowed = set(self.table.column_names) | set(RAW_FIELDS)
        for target, aliases in self.aliases.items():
            if target not in allowed:
                raise ValueError(f"{self.kind}: alias target {target!r} is neither a contract column nor a raw field")
            for alias in (target, *aliases):
                if index.setdefault(normalise_header(alias), target) != target:
                    raise ValueError(f"{self.kind}: alias {alias!r} maps to two targets")
        object.__setattr__(self, "index", index)

    def target_of(self, header: object) -> str | None:
        return self.index.get(normalise_header(header))

    def accepted(self, target: str) -> str:
        """The headers accepted for a field, for a message."""
        return ", ".join(dict.fromkeys((target, *self.aliases.get(target, ()))))


_TAHUN = ("tahun", "tahun anggaran", "tahun_anggaran", "tahun_mulai", "ta")
_KODE_PEMDA = ("kode pemda", "kode wilayah pemda", "kode kabupaten", "kode kab kota")

OPD_FILE = ReferenceLayout(
    kind="opd",
    table=OPD,
    aliases={
        "kode_skpd": ("kode skpd", "kode opd", "kode perangkat daerah", "kode pd", "kode unit", "kode_unit"),
        "nama_skpd": (
            "nama skpd",
            "nama opd",
            "nama perangkat daerah",
            "perangkat daerah",
            "skpd",
            "opd",
            "nama unit",
            "nama_unit",
        ),
        "singkatan": ("nama singkat", "akronim", "singkatan opd", "alias"),
        "kode_kecamatan": ("kode kecamatan", "kode wilayah kecamatan"),
        "tahun": _TAHUN,
        "kode_pemda": _KODE_PEMDA,
    },
    required=(("kode_skpd",), ("nama_skpd",)),
)

KAMUS_FILE = ReferenceLayout(
    kind="kamus",
    table=KAMUS,
    aliases={
        "id_kamus": ("id kamus", "idkamus", "kode kamus", "id_kamus_usulan"),
        "nama_kamus": ("giat_teks", "nama kamus", "kamus usulan", "nama usulan", "nama_usulan", "usulan"),
        "jenis_teks": ("jenis usulan", "jenis_usulan", "jenis", "tipe", "jenis kegiatan", "jenis_giat"),
        "id_jenis_usul": ("id jenis usul", "jenis usul", "id_jenis_usul"),
        "stream": ("aliran", "sumber usulan"),
        "kode_bidang_urusan": ("kode bidang urusan", "kode bidang", "kode_bidang"),
        "bidang_urusan_teks": ("bidang urusan", "bidang_urusan", "bidang urusan nomenklatur"),
        "kode_program": ("kodeprogram", "kode program", "program_usulan"),
        "kode_sub_kegiatan": ("kode sub kegiatan", "kode_sub_giat", "kode subkegiatan"),
        "sub_kegiatan_teks": ("sub kegiatan", "subkegiatan", "nama sub kegiatan"),
        "kode_skpd": ("kode skpd", "kode opd", "kode perangkat daerah"),
        "nama_skpd": (
            "nama skpd",
            "pd_tujuan",
            "pd tujuan",
            "opd pelaksana",
            "opd_pelaksana",
            "opd tujuan",
            "perangkat daerah",
            "nama opd",
        ),
        "satuan": ("sat",),
        "harga_satuan": ("harga satuan", "harga", "anggaran", "harga satuan rp", "nilai satuan"),
        "level_min": ("level min", "tingkat minimal", "level"),
        "contoh_teks_warga": ("contoh teks warga", "contoh", "contoh usulan warga"),
        "tahun": _TAHUN,
        "kode_pemda": _KODE_PEMDA,
    },
    required=(("id_kamus",), ("nama_kamus",), ("satuan",), ("kode_skpd", "nama_skpd")),
)

RENJA_FILE = ReferenceLayout(
    kind="renja",
    table=RENJA,
    aliases={
        "kode_skpd": ("kode skpd", "kode opd", "kode perangkat daerah"),
        "kode_sub_skpd": ("kode sub skpd", "kode sub unit", "kode_sub_unit"),
        "kode_sub_kegiatan": ("kode sub kegiatan", "kode_sub_giat", "kode subkegiatan"),
        "nama_sub_kegiatan": ("nama sub kegiatan", "sub kegiatan", "nama_sub_giat"),
        "tolok_ukur": (
            "tolok_ukur_output",
            "tolok ukur output",
            "tolok ukur keluaran",
            "indikator keluaran",
            "indikator sub kegiatan",
        ),
        "pagu_indikatif": ("pagu indikatif", "pagu", "pagu indikatif rp", "anggaran", "pagu n"),
        "id_baris": ("kode_sbl_sipd", "kode sbl", "kode_sbl", "id_sub_bl"),
        "lokasi": ("lokasi", "lokasi kegiatan"),
        "tahun": _TAHUN,
        "kode_pemda": _KODE_PEMDA,
    },
    required=(("kode_skpd", "kode_sub_skpd"), ("kode_sub_kegiatan",)),
)

PAGU_FILE = ReferenceLayout(
    kind="pagu",
    table=PAGU_OPD,
    aliases={
        "jenis_pagu": ("jenis pagu", "jenis", "tingkat pagu"),
        "kode": ("kode skpd", "kode_skpd", "kode opd", "kode kecamatan", "kode_kecamatan", "kode wilayah"),
        "nama": ("nama skpd", "nama opd", "perangkat daerah", "nama kecamatan", "kecamatan", "uraian"),
        "pagu": ("pagu indikatif", "pagu_indikatif", "pagu indikatif kewilayahan", "pagu rp", "nilai", "jumlah"),
        "sumber": ("dasar", "dasar penetapan", "keterangan"),
        "tahun": _TAHUN,
        "kode_pemda": _KODE_PEMDA,
    },
    required=(("jenis_pagu",), ("kode", "nama"), ("pagu",)),
)

LAYOUTS: dict[str, ReferenceLayout] = {layout.kind: layout for layout in (OPD_FILE, KAMUS_FILE, RENJA_FILE, PAGU_FILE)}

# Values of the kamus column `jenis_teks` (normalised): the kind of usulan, or the stream of a SIPD export
# whose "jenis usulan" is asmas / reses.
JENIS_USULAN_WORDS = {
    "fisik": ("fisik", "usulan fisik", "infrastruktur"),
    "non fisik": ("non fisik", "nonfisik", "usulan non fisik", "non-fisik"),
    "barang": ("barang", "usulan barang", "pengadaan barang"),
}
STREAM_WORDS = {
    "musrenbang": ("musrenbang", "asmas", "aspirasi masyarakat", "8"),
    "pokir": ("pokir", "reses", "pokok pikiran", "aspirasi dewan", "dprd", "13"),
}
JENIS_PAGU_WORDS = {
    "opd": ("opd", "skpd", "perangkat daerah", "pd", "pagu opd", "pagu skpd"),
    "kecamatan": ("kecamatan", "kewilayahan", "wilayah", "pagu kewilayahan", "pagu kecamatan"),
}
