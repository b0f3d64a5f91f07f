"""The reference data of the pipeline as frames in the shape of the contract's reference tables.

National lists (kode wilayah, nomenclature, SIMCAN OPD names) ship with the package. Each pemda's own lists
(OPD master, kamus usulan, Renja, pagu) are versioned by tahun in folders of one layout,
`<root>/<kode_pemda>/<tahun>/<list>.csv` in the contract's columns: the reference folder of the data directory
(`rkpd reference import` writes there, `rkpd.settings`) and `reference/pemda/` in the package (the sample
region and the real regions shipped with it). Sources and licences: see NOTICE.md next to this file. Files are
read once per process (and again when they change).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

from rkpd.settings import load_settings
from schemas import KAMUS, NOMENKLATUR, OPD, OPD_STANDAR, RENJA, WILAYAH, Table

DATA = Path(__file__).resolve().parent
PEMDA_DIR = DATA / "pemda"  # lists shipped with the package, in the layout of an imported reference folder
TEMPLATE_PEMDA = "18.02"  # the region whose authored OPD master and kamus serve as template elsewhere


@dataclass(frozen=True)
class Version:
    versi: str
    regulasi: str
    berlaku_mulai: int
    berlaku_sampai: int | None

    def applies_to(self, tahun: int) -> bool:
        return self.berlaku_mulai <= tahun and (self.berlaku_sampai is None or tahun <= self.berlaku_sampai)


WILAYAH_VERSIONS = (
    Version("kepmendagri-2022", "Kepmendagri 100.1.1-6117 Tahun 2022", 2019, 2025),
    Version("kepmendagri-2025", "Kepmendagri 300.2.2-2138 Tahun 2025", 2026, None),
)
NOMENKLATUR_VERSIONS = (
    Version("kepmendagri-050-3708-2020", "Permendagri 90/2019 jo. Kepmendagri 050-3708/2020", 2019, 2022),
    Version(
        "sipd-ri-2026", "Kepmendagri 050-5889/2021 and its changes up to 900.1-2850/2025 (SIPD-RI master)", 2023, None
    ),
)


def version_for(versions: tuple[Version, ...], tahun: int) -> Version:
    for v in versions:
        if v.applies_to(tahun):
            return v
    raise ValueError(f"no reference version applies to tahun {tahun}")


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")


def _blank_to_na(df: pd.DataFrame) -> pd.DataFrame:
    return df.replace("", pd.NA)


# --- each pemda's own lists, versioned by tahun ------------------------------------------------------
IMPORTED, SHIPPED = "imported", "shipped"  # where a version of a pemda's list comes from


@dataclass(frozen=True)
class ListFile:
    """One version of one list of a pemda: `<root>/<kode_pemda>/<tahun>/<name>.csv`."""

    name: str
    kode_pemda: str
    tahun: int
    path: Path
    origin: str  # IMPORTED (the data folder's reference) or SHIPPED (the package)


def reference_roots() -> tuple[tuple[str, Path], ...]:
    """Where pemda lists are looked for, the data folder's first (it wins over the package at the same tahun)."""
    return ((IMPORTED, load_settings().reference_dir), (SHIPPED, PEMDA_DIR))


def list_path(root: Path, kode_pemda: str, tahun: int, name: str) -> Path:
    return root / kode_pemda / str(tahun) / f"{name}.csv"


def versions(kode_pemda: str, name: str) -> list[ListFile]:
    """Every version of the list `name` of a pemda, oldest first (at one tahun: shipped, then imported)."""
    found = []
    for origin, root in reference_roots():
        folder = root / kode_pemda
        if not folder.is_dir():
            continue
        for sub in folder.iterdir():
            path = sub / f"{name}.csv"
            if sub.name.isdigit() and path.is_file():
                found.append(ListFile(name, kode_pemda, int(sub.name), path, origin))
    return sorted(found, key=lambda f: (f.tahun, f.origin == IMPORTED))


def in_force(kode_pemda: str, name: str, tahun: int | None = None) -> ListFile | None:
    """The version of a pemda's list in force for `tahun`: the latest with tahun <= `tahun` (None: the newest)."""
    found = [f for f in versions(kode_pemda, name) if tahun is None or f.tahun <= tahun]
    return found[-1] if found else None


@lru_cache(maxsize=256)
def _read_list(table: Table, path: str, mtime_ns: int, size: int) -> pd.DataFrame:
    raw = pd.read_csv(path, dtype="string", keep_default_na=False, encoding="utf-8")
    return table.conform(raw.replace("", pd.NA))


def read_list(table: Table, found: ListFile) -> pd.DataFrame:
    """A list file in the contract's columns (cached until the file changes)."""
    stat = found.path.stat()
    return _read_list(table, str(found.path), stat.st_mtime_ns, stat.st_size)


def list_csv(table: Table, frame: pd.DataFrame) -> str:
    """The text of a list file: the contract's columns, codes as written, money with two decimals."""
    return table.conform(frame).to_csv(index=False, float_format="%.2f", lineterminator="\n")


def renja(kode_pemda: str, tahun: int | None = None) -> pd.DataFrame:
    """The Renja of a pemda in force for `tahun` (the latest of tahun <= `tahun`; None: the newest): one row per
    OPD of its list and sub kegiatan, the evidence of which OPD carries which sub kegiatan. Empty, in the same
    columns, when the pemda has none."""
    found = in_force(kode_pemda, "renja", tahun)
    return read_list(RENJA, found) if found else RENJA.empty_frame()


# --- kode wilayah -------------------------------------------------------------------------------
def _wilayah_2025() -> pd.DataFrame:
    prov = _read(DATA / "wilayah/provinsi.csv")
    kab = _read(DATA / "wilayah/kabupaten_kota.csv")
    kec = _read(DATA / "wilayah/kecamatan.csv")
    desa = _read(DATA / "wilayah/desa_kelurahan.csv")
    parts = [
        pd.DataFrame(
            {
                "kode": prov.kode_provinsi,
                "tingkat": "provinsi",
                "nama": prov.nama_provinsi,
                "kode_induk": pd.NA,
                "jenis": "provinsi",
            }
        ),
        pd.DataFrame(
            {
                "kode": kab.kode_kabkota,
                "tingkat": "kabkota",
                "nama": kab.nama_kabkota,
                "kode_induk": kab.kode_provinsi,
                "jenis": kab.jenis,
            }
        ),
        pd.DataFrame(
            {
                "kode": kec.kode_kecamatan,
                "tingkat": "kecamatan",
                "nama": kec.nama_kecamatan,
                "kode_induk": kec.kode_kabkota,
                "jenis": "kecamatan",
            }
        ),
        pd.DataFrame(
            {
                "kode": desa.kode_desa,
                "tingkat": "desa",
                "nama": desa.nama_desa,
                "kode_induk": desa.kode_kecamatan,
                "jenis": desa.jenis_turunan_dari_kode,
            }
        ),
    ]
    return pd.concat(parts, ignore_index=True)


def _wilayah_2022(w2025: pd.DataFrame) -> pd.DataFrame:
    """The 2022 list, derived from the 2025 list and the published difference between the two."""
    diff = _read(DATA / "wilayah/perubahan_kode_2022_ke_2025.csv")
    tingkat = {"kabupaten_kota": "kabkota", "kecamatan": "kecamatan", "desa_kelurahan": "desa"}
    added = set(diff.loc[diff.jenis_perubahan == "ditambah", "kode"])
    out = w2025[~w2025.kode.isin(added)].copy()
    renamed = diff[diff.jenis_perubahan == "nama_berubah"].set_index("kode")["nama_kepmendagri_2022"]
    hit = out.kode.isin(renamed.index)
    out.loc[hit, "nama"] = out.loc[hit, "kode"].map(renamed)
    removed = diff[diff.jenis_perubahan == "dihapus"]
    back = pd.DataFrame(
        {
            "kode": removed.kode,
            "tingkat": removed.tingkat.map(tingkat),
            "nama": removed.nama_kepmendagri_2022,
            "kode_induk": removed.kode.str.rsplit(".", n=1).str[0],
        }
    )
    back["jenis"] = back.tingkat
    is_desa = back.tingkat == "desa"
    back.loc[is_desa, "jenis"] = back.loc[is_desa, "kode"].str[9].map({"1": "kelurahan", "2": "desa"})
    return pd.concat([out, back], ignore_index=True)


@lru_cache(maxsize=1)
def wilayah() -> pd.DataFrame:
    """Every kode wilayah of Indonesia in each regulation version (ref_wilayah)."""
    w2025 = _wilayah_2025()
    frames = []
    for version, frame in zip(WILAYAH_VERSIONS, (_wilayah_2022(w2025), w2025)):
        frames.append(
            frame.assign(
                versi=version.versi, berlaku_mulai=version.berlaku_mulai, berlaku_sampai=version.berlaku_sampai
            )
        )
    return WILAYAH.conform(pd.concat(frames, ignore_index=True))


# --- nomenclature -------------------------------------------------------------------------------
_LEVEL_COLUMNS = (  # (tingkat, code column, name column, parent code column)
    ("urusan", "kode_urusan", "nama_urusan", None),
    ("bidang", "kode_bidang_urusan", "nama_bidang_urusan", "kode_urusan"),
    ("program", "kode_program", "nama_program", "kode_bidang_urusan"),
    ("kegiatan", "kode_kegiatan", "nama_kegiatan", "kode_program"),
    ("sub_kegiatan", "kode_sub_kegiatan", "nama_sub_kegiatan", "kode_kegiatan"),
)


def _flatten(flat: pd.DataFrame) -> pd.DataFrame:
    parts = []
    for tingkat, code, name, parent in _LEVEL_COLUMNS:
        part = pd.DataFrame(
            {
                "kode": flat[code],
                "tingkat": tingkat,
                "nama": flat[name],
                "kode_induk": flat[parent] if parent else pd.NA,
                "kode_bidang_urusan": flat["kode_bidang_urusan"] if tingkat != "urusan" else pd.NA,
            }
        )
        parts.append(part.drop_duplicates("kode"))
    return pd.concat(parts, ignore_index=True)


@lru_cache(maxsize=1)
def nomenklatur() -> pd.DataFrame:
    """Urusan to sub kegiatan in both shipped versions (ref_nomenklatur)."""
    v2020 = _read(DATA / "nomenklatur/simcan_permendagri90_kep050_3708_subkegiatan.csv")
    v2020 = v2020[v2020.status_data == "aktif"].rename(columns={"kode_sub_kegiatan_format_2019": "kode_sub_kegiatan"})
    v2026 = _read(DATA / "nomenklatur/sipd_ri_2026_subkegiatan_kabkota.csv")
    frames = [
        _flatten(flat).assign(versi=v.versi, berlaku_mulai=v.berlaku_mulai, berlaku_sampai=v.berlaku_sampai)
        for v, flat in zip(NOMENKLATUR_VERSIONS, (v2020, v2026))
    ]
    return NOMENKLATUR.conform(pd.concat(frames, ignore_index=True))


def bidang_urusan() -> pd.DataFrame:
    """The consolidated bidang urusan list (kode, nama, urusan)."""
    return _read(DATA / "nomenklatur/bidang_urusan_lengkap.csv")


# --- OPD ----------------------------------------------------------------------------------------
def _bidang_slots(lists: pd.Series) -> pd.DataFrame:
    slots = lists.str.split(";", expand=True).reindex(columns=range(3))
    slots.columns = [f"bidang_urusan_{i}" for i in (1, 2, 3)]
    return _blank_to_na(slots.fillna(""))


def _kecamatan_of(kode_pemda: str) -> pd.DataFrame:
    w = wilayah()
    latest = WILAYAH_VERSIONS[-1].versi
    return w[(w.versi == latest) & (w.tingkat == "kecamatan") & (w.kode_induk == kode_pemda)].sort_values("kode")


def _template_opd_for(kode_pemda: str, own: pd.DataFrame) -> pd.DataFrame:
    """The template OPD list re-keyed to another pemda, with that pemda's own kecamatan as SKPD."""
    dinas = own[~own.kode_skpd.str.startswith("7.01.")].assign(kode_pemda=kode_pemda)
    kec = _kecamatan_of(kode_pemda)
    kecamatan = pd.DataFrame(
        {
            "kode_pemda": kode_pemda,
            "tahun_mulai": dinas.tahun_mulai.iloc[0],
            "kode_skpd": [f"7.01.0.00.0.00.{i:02d}.0000" for i in range(1, len(kec) + 1)],
            "nama_skpd": ("Kecamatan " + kec.nama).to_list(),
            "singkatan": ("Kec. " + kec.nama).to_list(),
            "bidang_urusan": "7.01",
        }
    )
    return pd.concat([dinas, kecamatan], ignore_index=True)


@lru_cache(maxsize=8)
def opd(kode_pemda: str = TEMPLATE_PEMDA) -> pd.DataFrame:
    """OPD master of a pemda (ref_opd); pemda without a shipped list get the template's dinas."""
    own_path = DATA / f"opd/opd_{kode_pemda.replace('.', '_')}.csv"
    raw = _read(own_path if own_path.exists() else DATA / f"opd/opd_{TEMPLATE_PEMDA.replace('.', '_')}.csv")
    if not own_path.exists():
        raw = _template_opd_for(kode_pemda, raw)
    frame = pd.concat([raw.drop(columns=["bidang_urusan"]), _bidang_slots(raw.bidang_urusan)], axis=1)
    return OPD.conform(_blank_to_na(frame))


@lru_cache(maxsize=1)
def opd_standar() -> pd.DataFrame:
    """SIMCAN's standard OPD names with the bidang each carries (ref_opd_standar)."""
    raw = _read(DATA / "opd/simcan_opd_standar_bidang.csv")
    slots = raw[["bidang_urusan_1", "bidang_urusan_2", "bidang_urusan_3"]].apply(lambda s: s.str[:4])
    frame = pd.DataFrame(
        {
            "jenis_pemda": raw.jenis_pemda.replace({"kabupaten_kota": "kabkota"}),
            "kd_unit": raw.kd_unit.astype(int),
            "nama_opd": raw.nama_opd,
            "aktif": raw.status_data == "aktif",
        }
    )
    return OPD_STANDAR.conform(_blank_to_na(pd.concat([frame, slots], axis=1)))


# --- kamus usulan -------------------------------------------------------------------------------
def _kamus_path(kode_pemda: str) -> Path:
    return DATA / f"kamus/kamus_usulan_{kode_pemda.replace('.', '_')}.csv"


def kamus_owner(kode_pemda: str) -> str:
    """The pemda the kamus of `kode_pemda` was written for: itself, or the template region."""
    return kode_pemda if _kamus_path(kode_pemda).exists() else TEMPLATE_PEMDA


@lru_cache(maxsize=8)
def kamus(kode_pemda: str = TEMPLATE_PEMDA) -> pd.DataFrame:
    """Kamus usulan of a pemda (ref_kamus); pemda without their own get the template kamus, whose
    kecamatan-carried entries point at the first kecamatan SKPD (re-targeted by location in mapping)."""
    raw = _read(_kamus_path(kamus_owner(kode_pemda)))
    raw["kode_pemda"] = kode_pemda
    raw["tahun_mulai"] = opd(kode_pemda).tahun_mulai.iloc[0]
    raw["harga_satuan"] = pd.to_numeric(raw.harga_satuan)
    return KAMUS.conform(_blank_to_na(raw))


@lru_cache(maxsize=1)
def crosswalk() -> pd.DataFrame:
    """Kab/kota sub kegiatan codes carried between the nomenclature versions where the names match within
    the bidang (case, punctuation and spacing ignored): columns versi_from, kode_from, versi_to, kode_to.
    A name that appears twice in a version is left out rather than guessed."""
    n = nomenklatur()
    kabkota = n.kode.str.split(".").str[3] == "2"  # kegiatan level digit: 1 provinsi, 2 kab/kota
    sub = n[(n.tingkat == "sub_kegiatan") & kabkota].assign(
        name=lambda f: f.nama.str.lower().str.replace(r"[^0-9a-z]+", " ", regex=True).str.strip()
    )
    sub = sub[~sub.duplicated(["versi", "kode_bidang_urusan", "name"], keep=False)]
    pairs = []
    for a, b in (
        (NOMENKLATUR_VERSIONS[0], NOMENKLATUR_VERSIONS[1]),
        (NOMENKLATUR_VERSIONS[1], NOMENKLATUR_VERSIONS[0]),
    ):
        left, right = sub[sub.versi == a.versi], sub[sub.versi == b.versi]
        both = left.merge(right, on=["kode_bidang_urusan", "name"], suffixes=("_from", "_to"))
        pairs.append(both[["versi_from", "kode_from", "versi_to", "kode_to"]])
    return pd.concat(pairs, ignore_index=True)
