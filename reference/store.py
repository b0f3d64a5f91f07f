"""The reference data of the pipeline as frames in the shape of the contract's reference tables.

National lists (kode wilayah, nomenclature, SIMCAN OPD names) ship with the package. Each pemda's own lists
(OPD master, kamus usulan, Renja, pagu) are versioned by tahun in folders of one layout,
`<root>/<kode_pemda>/<tahun>/<list>.csv` in the contract's columns: the reference folder of the data directory
(`rkpd reference import` writes there, `rkpd.settings`) and `reference/pemda/` in the package (the sample
region and the real regions shipped with it). Sources and licences: see NOTICE.md next to this file. Files are
read once per process (and again when they change).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

from rkpd.settings import load_settings
from schemas import KAMUS, NOMENKLATUR, OPD, OPD_STANDAR, PAGU_KEWILAYAHAN, PAGU_OPD, RENJA, WILAYAH, Table

DATA = Path(__file__).resolve().parent
PEMDA_DIR = DATA / "pemda"  # lists shipped with the package, in the layout of an imported reference folder
TEMPLATE_PEMDA = "18.02"  # the region whose authored OPD master and kamus serve as template elsewhere
PEMDA_CACHE = 2048  # per-pemda caches hold every kab/kota and province of a national run (514 + 38)


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


@lru_cache(maxsize=PEMDA_CACHE)
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


@lru_cache(maxsize=1)
def bidang_urusan() -> pd.DataFrame:
    """The consolidated bidang urusan list (kode, nama, urusan): shipped, read once per process."""
    return _read(DATA / "nomenklatur/bidang_urusan_lengkap.csv")


# --- OPD ----------------------------------------------------------------------------------------
BIDANG_SLOTS = ("bidang_urusan_1", "bidang_urusan_2", "bidang_urusan_3")
KECAMATAN_BIDANG = "7.01"  # unsur kewilayahan: each kecamatan is an SKPD of its own


def bidang_of_kode_skpd(kode_skpd: pd.Series) -> pd.DataFrame:
    """The bidang an OPD carries, read from its SIPD kode SKPD B1.B1.B2.B2.B3.B3.UU.SSSS ('0.00': slot unused)."""
    parts = kode_skpd.astype("string").str.split(".", expand=True).reindex(columns=range(8))
    slots = pd.DataFrame(
        {name: parts[2 * i] + "." + parts[2 * i + 1] for i, name in enumerate(BIDANG_SLOTS)}, index=kode_skpd.index
    )
    return slots.mask(slots == "0.00").astype("string")


def _stamp(found: ListFile | None) -> tuple[str, int, int] | None:
    """What identifies a version's content in the caches: path, modification time and size."""
    if found is None:
        return None
    stat = found.path.stat()
    return str(found.path), stat.st_mtime_ns, stat.st_size


def _template_file(name: str, tahun: int | None) -> ListFile:
    """A list of the template region: the version in force for `tahun`, else its first one."""
    return in_force(TEMPLATE_PEMDA, name, tahun) or versions(TEMPLATE_PEMDA, name)[0]


@lru_cache(maxsize=1)
def _kecamatan_by_pemda() -> dict[str, pd.DataFrame]:
    """The kecamatan of the newest wilayah version, per kode_induk (each pemda's in kode order): split once,
    not filtered out of every wilayah row for each pemda of a national run."""
    w = wilayah()
    latest = w[(w.versi == WILAYAH_VERSIONS[-1].versi) & (w.tingkat == "kecamatan")].sort_values("kode")
    return dict(list(latest.groupby("kode_induk", sort=False)))


def _kecamatan_of(kode_pemda: str) -> pd.DataFrame:
    return _kecamatan_by_pemda().get(kode_pemda, wilayah().iloc[:0])


@lru_cache(maxsize=PEMDA_CACHE)
def _template_opd(kode_pemda: str, template: tuple[str, int, int]) -> pd.DataFrame:
    """The template OPD list re-keyed to another pemda, with that pemda's own kecamatan as SKPD (numbered in
    wilayah order: the pemda's real kecamatan codes are unknown until it imports its list)."""
    own = _read_list(OPD, *template)
    dinas = own[~own.kode_skpd.str.startswith(KECAMATAN_BIDANG + ".")].assign(kode_pemda=kode_pemda)
    kec = _kecamatan_of(kode_pemda)
    kecamatan = pd.DataFrame(
        {
            "kode_pemda": kode_pemda,
            "tahun_mulai": own.tahun_mulai.iloc[0],
            "kode_skpd": [f"7.01.0.00.0.00.{i:02d}.0000" for i in range(1, len(kec) + 1)],
            "nama_skpd": ("Kecamatan " + kec.nama).to_list(),
            "singkatan": ("Kec. " + kec.nama).to_list(),
            "bidang_urusan_1": KECAMATAN_BIDANG,
            "kode_kecamatan": kec.kode.to_list(),
        }
    )
    return OPD.conform(pd.concat([dinas, kecamatan], ignore_index=True))


def opd(kode_pemda: str = TEMPLATE_PEMDA, tahun: int | None = None) -> pd.DataFrame:
    """OPD master of a pemda in force for `tahun` (ref_opd; None: its newest). A pemda without a list of its own
    for that tahun gets the template's dinas/badan re-keyed (see `reference_status`)."""
    found = in_force(kode_pemda, "opd", tahun)
    if found is not None:
        return read_list(OPD, found)
    template = _template_file("opd", tahun)
    if kode_pemda == TEMPLATE_PEMDA:
        return read_list(OPD, template)
    return _template_opd(kode_pemda, _stamp(template))


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
def kamus_owner(kode_pemda: str, tahun: int | None = None) -> str:
    """The pemda the kamus of `kode_pemda` was written for: itself, or the template region."""
    return kode_pemda if in_force(kode_pemda, "kamus", tahun) is not None else TEMPLATE_PEMDA


def own_kamus(kode_pemda: str, tahun: int | None = None) -> pd.DataFrame | None:
    """The pemda's own kamus in force for `tahun`, or None when it has none (it then runs on the template)."""
    found = in_force(kode_pemda, "kamus", tahun)
    return None if found is None else read_list(KAMUS, found)


@lru_cache(maxsize=PEMDA_CACHE)
def _template_kamus(
    kode_pemda: str, tahun: int | None, template: tuple[str, int, int], own_opd: tuple | None, own_renja: tuple | None
) -> pd.DataFrame:
    """The template kamus for another pemda. On the template OPD list too, its entries keep their OPD (the
    re-keyed list has the same codes). With an OPD list of its own, every entry goes to the OPD of that list that
    carries its bidang and sub kegiatan (tasks.map.opd.route_opd, with the pemda's Renja as evidence); a
    kecamatan-carried entry to the pemda's first kecamatan (mapping re-targets it by location); an entry whose
    bidang no OPD of the pemda carries is left out. (`own_opd`, `own_renja`: what the result depends on.)"""
    raw = _read_list(KAMUS, *template).assign(kode_pemda=kode_pemda)
    if own_opd is None:
        return raw.assign(tahun_mulai=opd(kode_pemda, tahun).tahun_mulai.iloc[0])
    from tasks.map.opd import route_opd  # routing is the mapping stage's; it reads this store, so import late

    pemda_opd = _read_list(OPD, *own_opd)
    routed = route_opd(raw.assign(tahun=tahun, kode_kecamatan=pd.NA))
    units = pemda_opd.kode_skpd[pemda_opd.kode_skpd.str.match(r"^7\.01\..*\.0000$")].sort_values()
    kecamatan = raw.kode_bidang_urusan == KECAMATAN_BIDANG
    kode = routed.kode_opd.mask(kecamatan, units.iloc[0] if len(units) else pd.NA)
    out = raw.assign(kode_skpd=kode, tahun_mulai=pemda_opd.tahun_mulai.iloc[0])
    return KAMUS.conform(out[out.kode_skpd.notna()].reset_index(drop=True))


def kamus(kode_pemda: str = TEMPLATE_PEMDA, tahun: int | None = None) -> pd.DataFrame:
    """Kamus usulan of a pemda in force for `tahun` (ref_kamus; None: its newest). A pemda without one of its
    own gets the template's (see `_template_kamus` and `reference_status`)."""
    own = own_kamus(kode_pemda, tahun)
    if own is not None:
        return own
    template = _template_file("kamus", tahun)
    if kode_pemda == TEMPLATE_PEMDA:
        return read_list(KAMUS, template)
    return _template_kamus(
        kode_pemda,
        tahun,
        _stamp(template),
        _stamp(in_force(kode_pemda, "opd", tahun)),
        _stamp(in_force(kode_pemda, "renja", tahun)),
    )


# --- Renja and pagu ------------------------------------------------------------------------------
def renja(kode_pemda: str, tahun: int | None = None) -> pd.DataFrame:
    """The Renja of a pemda in force for `tahun` (the latest of tahun <= `tahun`; None: the newest): one row per
    OPD of its list and sub kegiatan, the evidence of which OPD carries which sub kegiatan. Empty, in the same
    columns, when the pemda has none."""
    found = in_force(kode_pemda, "renja", tahun)
    return read_list(RENJA, found) if found else RENJA.empty_frame()


def _of_tahun(kode_pemda: str, name: str, tahun: int) -> ListFile | None:
    """A list that holds for one tahun only (a pagu): the version of exactly that tahun."""
    found = [f for f in versions(kode_pemda, name) if f.tahun == tahun]
    return found[-1] if found else None


def pagu_opd(kode_pemda: str, tahun: int) -> pd.DataFrame:
    """Pagu indikatif per OPD of a pemda for `tahun` (ref_pagu_opd); empty when none was imported."""
    found = _of_tahun(kode_pemda, "pagu_opd", tahun)
    return read_list(PAGU_OPD, found) if found else PAGU_OPD.empty_frame()


def pagu_kecamatan(kode_pemda: str, tahun: int) -> pd.DataFrame:
    """Pagu indikatif kewilayahan per kecamatan of a pemda for `tahun` (ref_pagu_kewilayahan); empty when none."""
    found = _of_tahun(kode_pemda, "pagu_kecamatan", tahun)
    return read_list(PAGU_KEWILAYAHAN, found) if found else PAGU_KEWILAYAHAN.empty_frame()


# --- what a pemda runs on -------------------------------------------------------------------------
TEMPLATE, NONE = "template", "none"  # sources of a list besides IMPORTED and SHIPPED
# The lists of a version folder (file name -> contract table); a list's version is its table's tahun_mulai
# (OPD master, kamus: in force from that tahun on) or tahun (Renja: evidence from then on; pagu: that tahun only).
LIST_TABLES: dict[str, Table] = {
    "opd": OPD,
    "kamus": KAMUS,
    "renja": RENJA,
    "pagu_opd": PAGU_OPD,
    "pagu_kecamatan": PAGU_KEWILAYAHAN,
}
PEMDA_LISTS = tuple(LIST_TABLES)
_TEMPLATED = {"opd", "kamus"}  # lists a pemda without its own runs on the template's of


def version_column(table: Table) -> str:
    return "tahun_mulai" if "tahun_mulai" in table.column_names else "tahun"


def pemda_lists(kode_pemda: str, tahun: int | None = None) -> dict[str, pd.DataFrame]:
    """Every list the pemda runs on for `tahun` (its own or the template's), leaving out those it has none of."""
    frames = {
        "opd": opd(kode_pemda, tahun),
        "kamus": kamus(kode_pemda, tahun),
        "renja": renja(kode_pemda, tahun),
    }
    if tahun is not None:
        frames |= {"pagu_opd": pagu_opd(kode_pemda, tahun), "pagu_kecamatan": pagu_kecamatan(kode_pemda, tahun)}
    return {name: frame for name, frame in frames.items() if len(frame)}


@dataclass(frozen=True)
class ListStatus:
    """Where one list of a pemda comes from for a tahun."""

    name: str  # one of PEMDA_LISTS
    source: str  # imported (data folder), shipped (package), template (the template region's) or none
    tahun: int | None  # tahun of the version used (tahun_mulai of an OPD list or kamus)
    path: str | None

    @property
    def own(self) -> bool:
        return self.source in (IMPORTED, SHIPPED)


@dataclass(frozen=True)
class ReferenceStatus:
    """What the reference of pemda P for tahun T is: per list, the pemda's own (imported or shipped), the
    template region's, or none."""

    kode_pemda: str
    tahun: int | None
    lists: tuple[ListStatus, ...]

    def __getitem__(self, name: str) -> ListStatus:
        return next(s for s in self.lists if s.name == name)

    @property
    def on_template(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.lists if s.source == TEMPLATE)

    def notices(self) -> list[str]:
        """One sentence per list the pemda runs on the template of (empty when it has its own)."""
        return template_notices([self])

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame([{**vars(s), "own": s.own} for s in self.lists])


SHOWN_PEMDA = 10  # pemda named in a template notice before "and N more"
_TEMPLATE_WHAT = {
    "opd": "OPD master (dinas/badan of the template, kecamatan SKPD numbered in wilayah order)",
    "kamus": "kamus usulan (entries routed to the pemda's own OPD where it has a list)",
}


def template_notices(statuses: list[ReferenceStatus]) -> list[str]:
    """One sentence per list that some of the pemda run on the template of, naming them (the first
    SHOWN_PEMDA, then how many more): a national run says it in two lines, not two per pemda."""
    out = []
    for name, what in _TEMPLATE_WHAT.items():
        on = [s for s in statuses if name in s.on_template]
        if not on:
            continue
        kode = [s.kode_pemda for s in on]
        tahun = on[0].tahun
        if len(on) == 1:
            who = f"{kode[0]} tahun {tahun}: the {what} is"
            pemda_option = kode[0]
        else:
            more = f" and {len(kode) - SHOWN_PEMDA} more" if len(kode) > SHOWN_PEMDA else ""
            who = f"{len(kode)} pemda tahun {tahun} ({', '.join(kode[:SHOWN_PEMDA])}{more}): the {what} is"
            pemda_option = "KODE"
        out.append(
            f"{who} the template of {TEMPLATE_PEMDA}, not the pemda's own; import it with "
            f"`rkpd reference import --pemda {pemda_option} --tahun {tahun} --{name} FILE`"
        )
    return out


def reference_status(kode_pemda: str, tahun: int | None) -> ReferenceStatus:
    """For each list of the pemda: its own version in force for `tahun` (imported or shipped), the template's
    (OPD master, kamus) or none (Renja, pagu)."""
    lists = []
    for name in PEMDA_LISTS:
        pagu = name.startswith("pagu")
        found = (_of_tahun(kode_pemda, name, tahun) if tahun else None) if pagu else in_force(kode_pemda, name, tahun)
        if found is None and name in _TEMPLATED:
            template = _template_file(name, tahun)  # the template region's own list is its own
            source = template.origin if kode_pemda == TEMPLATE_PEMDA else TEMPLATE
            lists.append(ListStatus(name, source, template.tahun, str(template.path)))
        elif found is None:
            lists.append(ListStatus(name, NONE, None, None))
        else:
            lists.append(ListStatus(name, found.origin, found.tahun, str(found.path)))
    return ReferenceStatus(kode_pemda, tahun, tuple(lists))


@lru_cache(maxsize=PEMDA_CACHE)
def _content_hash(path: str, mtime_ns: int, size: int) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def fingerprint(kode_pemda: str, tahun: int | None) -> str:
    """sha256 of every list file the pemda's reference for `tahun` is made of (its own or the template's):
    changes when a list is imported, so a run maps again what was mapped with the old reference."""
    digest = hashlib.sha256()
    for status in reference_status(kode_pemda, tahun).lists:
        if status.path is not None:
            stat = Path(status.path).stat()
            digest.update(f"{status.name}\0{_content_hash(status.path, stat.st_mtime_ns, stat.st_size)}\n".encode())
    return digest.hexdigest()


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
