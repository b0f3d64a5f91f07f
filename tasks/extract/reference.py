"""Read and check the reference files a Bappeda hands over: its OPD list, kamus usulan, Renja and pagu.

`check_files` reads each file (csv or xlsx, headers by `schemas.reference_sources`), checks every row against
the contract and the pemda's reference, and returns contract frames of the lists it makes. Any problem (a
missing column, a missing, duplicate or malformed kode, an unknown bidang or sub kegiatan, an empty file) is one
line naming the file, the row and the field; with any problem nothing is returned (`ReferenceImportError`),
so nothing is half imported.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from reference import store
from schemas import KAMUS, LEVELS, OPD, PAGU_KEWILAYAHAN, PAGU_OPD, RENJA, STREAMS, patterns
from schemas.reference_sources import (
    JENIS_PAGU_WORDS,
    JENIS_USULAN_WORDS,
    LAYOUTS,
    STREAM_WORDS,
    ReferenceLayout,
)
from schemas.sources import normalise_header
from tasks.errors import ReferenceImportError, SourceError
from tasks.extract.parse import code_at_start, parse_numbers
from tasks.extract.readers import Headers, read_source
from tasks.extract.wilayah import name_key
from tasks.map.opd import text_key

KINDS = tuple(LAYOUTS)  # opd, kamus, renja, pagu: the import options, in the order they are checked
MAX_LINES_PER_FILE = 25  # problems listed per file; the rest are counted


@dataclass
class Problems:
    """Problems of one import, one line each."""

    lines: list[str] = field(default_factory=list)
    more: dict[str, int] = field(default_factory=dict)  # per file: problems beyond MAX_LINES_PER_FILE

    def file(self, path: Path, message: str) -> None:
        self.lines.append(f"{path}: {message}")

    def rows(self, path: Path, where: pd.Series, mask: pd.Series, field_name: str, message: Callable) -> None:
        """One line per row of `mask`; `message(position)` says what is wrong with that row."""
        for position in mask[_flag(mask)].index:
            if sum(line.startswith(f"{path}: ") for line in self.lines) >= MAX_LINES_PER_FILE:
                self.more[str(path)] = self.more.get(str(path), 0) + 1
                continue
            self.lines.append(f"{path}: {where[position]}, field {field_name}: {message(position)}")

    def all(self) -> list[str]:
        return self.lines + [f"{path}: ... and {n} more problem(s)" for path, n in self.more.items()]


@dataclass
class Checked:
    """The lists an import makes, in the contract's columns, by file name of a version folder."""

    kode_pemda: str
    tahun: int
    frames: dict[str, pd.DataFrame]  # opd, kamus, renja, pagu_opd, pagu_kecamatan
    sources: dict[str, Path]  # import option -> file
    notes: list[str] = field(default_factory=list)


@dataclass
class _File:
    """One reference file read: its cells by target field, and where each row is."""

    path: Path
    cells: dict[str, pd.Series]
    where: pd.Series  # "row 12" / "row 12 of sheet OPD", by position

    def get(self, target: str) -> pd.Series:
        """The column of a field, stripped text, empty where the file has no such column."""
        if target in self.cells:
            return self.cells[target]
        return pd.Series("", index=self.where.index, dtype="string")

    def has(self, target: str) -> bool:
        return target in self.cells


def _read(path: Path, layout: ReferenceLayout, problems: Problems) -> _File | None:
    headers = Headers(layout.target_of, layout.min_matches, f"{layout.kind} reference")
    try:
        raw = read_source(path, headers)
    except SourceError as exc:
        problems.file(path, exc.problem)
        return None
    frame = raw.cells
    cells: dict[str, pd.Series] = {}
    for header in frame.columns:
        target = layout.target_of(header)
        if target is not None and target not in cells:
            cells[target] = frame[header].astype("string").str.strip().reset_index(drop=True)
    rows = pd.Series(raw.source_row, dtype="int64").astype(str)
    sheet = pd.Series(raw.source_sheet if raw.source_sheet is not None else [None] * len(rows), dtype="string")
    where = ("row " + rows).where(sheet.isna(), "row " + rows + " of sheet " + sheet.astype(str))
    file = _File(path, cells, where.astype(str))
    missing = [group for group in layout.required if not any(t in cells for t in group)]
    for group in missing:
        names = " or ".join(group)
        accepted = "; ".join(layout.accepted(t) for t in group)
        problems.file(path, f"missing column {names} (headers accepted: {accepted})")
    if frame.empty:
        problems.file(path, "the file holds no data rows (only a header)")
    blank = pd.DataFrame(cells).eq("").all(axis=1) if cells else pd.Series(dtype=bool)
    if len(blank) and blank.all():
        problems.file(path, "the file holds no data rows (every row is empty)")
    return None if missing or frame.empty or (len(blank) and blank.all()) else _drop_blank(file, blank)


def _drop_blank(file: _File, blank: pd.Series) -> _File:
    keep = ~blank
    cells = {k: v[keep].reset_index(drop=True) for k, v in file.cells.items()}
    return _File(file.path, cells, file.where[keep].reset_index(drop=True))


# --- checks shared by the kinds ---------------------------------------------------------------------
def _flag(mask: pd.Series) -> pd.Series:
    """A row mask as plain booleans (comparisons with a missing value give False)."""
    return mask.fillna(False).astype(bool)


def _stated(file: _File, kode_pemda: str, tahun: int, problems: Problems, earlier: bool = False) -> None:
    """A file that states its tahun or pemda must state the import's (`earlier`: or an earlier tahun, as a
    Renja does: last year's is the evidence for this year's routing)."""
    stated = file.get("tahun")
    number = pd.to_numeric(stated.replace("", pd.NA), errors="coerce")
    wrong = (stated != "") & ~_flag(number <= tahun if earlier else number == tahun)
    expected = f"a Renja of tahun {tahun} or before" if earlier else f"the import's tahun {tahun}"
    problems.rows(file.path, file.where, wrong, "tahun", lambda i: f"tahun {stated[i]!r}, expected {expected}")
    pemda = file.get("kode_pemda")
    wrong = (pemda != "") & (pemda != kode_pemda)
    problems.rows(
        file.path, file.where, wrong, "kode_pemda", lambda i: f"{pemda[i]!r}, but the import is for {kode_pemda}"
    )


def _missing(file: _File, values: pd.Series, field_name: str, problems: Problems) -> pd.Series:
    empty = values.fillna("") == ""
    problems.rows(file.path, file.where, empty, field_name, lambda i: "missing value")
    return empty


def _malformed(file: _File, values: pd.Series, pattern: str, field_name: str, example: str, problems: Problems):
    bad = (values.fillna("") != "") & ~values.fillna("").str.match(pattern)
    problems.rows(
        file.path, file.where, bad, field_name, lambda i: f"malformed kode {values[i]!r} (expected e.g. {example})"
    )
    return bad


def _duplicates(file: _File, keys: pd.Series, field_name: str, what: str, problems: Problems) -> pd.Series:
    filled = keys.fillna("") != ""
    dup = keys.duplicated(keep="first") & filled
    first = keys[filled & ~keys.duplicated(keep="first")]
    first_row = pd.Series(file.where[first.index].to_numpy(), index=first.to_numpy())
    problems.rows(
        file.path, file.where, dup, field_name, lambda i: f"duplicate {what} {keys[i]!r} (also at {first_row[keys[i]]})"
    )
    return dup


def _money(file: _File, values: pd.Series, field_name: str, problems: Problems) -> pd.Series:
    parsed, bad = parse_numbers(values.fillna(""))
    problems.rows(file.path, file.where, bad, field_name, lambda i: f"not a number: {values[i]!r}")
    negative = parsed.notna() & (parsed < 0)
    problems.rows(file.path, file.where, negative, field_name, lambda i: f"negative amount {values[i]!r}")
    return parsed.astype("Float64")


def known_bidang() -> frozenset[str]:
    return frozenset(store.bidang_urusan().kode_bidang_urusan)


@dataclass(frozen=True)
class SubKegiatanCheck:
    """Which sub kegiatan codes the nomenclature in force for a tahun knows. A code is known when the list has
    it, directly or as the penunjang program X.XX instantiated with the OPD's bidang (1.03.01.2.02.0001 is
    X.XX.01.2.02.0001). A code of a known kegiatan numbered above the last one the shipped list has for it is a
    sub kegiatan added by a later Kepmendagri change (SIPD-RI exports them): accepted and counted as newer."""

    codes: frozenset[str]
    kegiatan_max: dict[str, int]

    @classmethod
    def for_tahun(cls, tahun: int) -> SubKegiatanCheck:
        versi = store.version_for(store.NOMENKLATUR_VERSIONS, tahun).versi
        n = store.nomenklatur()
        sub = n.kode[(n.versi == versi) & (n.tingkat == "sub_kegiatan")]
        numbers = sub.str.rsplit(".", n=1).str[1].astype(int)
        return cls(frozenset(sub), numbers.groupby(sub.str.rsplit(".", n=1).str[0]).max().to_dict())

    def _penunjang(self, codes: pd.Series) -> pd.Series:
        return "X.XX" + codes.str[4:]

    def known(self, codes: pd.Series) -> pd.Series:
        return codes.isin(self.codes) | self._penunjang(codes).isin(self.codes)

    def newer(self, codes: pd.Series) -> pd.Series:
        kegiatan, number = codes.str.rsplit(".", n=1).str[0], codes.str.rsplit(".", n=1).str[1]
        last = kegiatan.map(self.kegiatan_max).fillna(self._penunjang(kegiatan).map(self.kegiatan_max))
        return ~self.known(codes) & last.notna() & (pd.to_numeric(number, errors="coerce") > last)


def _sub_kegiatan(file: _File, codes: pd.Series, tahun: int, problems: Problems, notes: list[str]) -> pd.Series:
    """Check sub kegiatan codes (format, known to the nomenclature of the tahun); returns the bad rows."""
    bad = _malformed(file, codes, patterns.KODE_SUB_KEGIATAN, "kode_sub_kegiatan", "1.03.10.2.01.0032", problems)
    check = SubKegiatanCheck.for_tahun(tahun)
    given = (codes.fillna("") != "") & ~bad
    newer = given & check.newer(codes.fillna(""))
    unknown = given & ~check.known(codes.fillna("")) & ~newer
    versi = store.version_for(store.NOMENKLATUR_VERSIONS, tahun).versi
    problems.rows(
        file.path,
        file.where,
        unknown,
        "kode_sub_kegiatan",
        lambda i: f"unknown sub kegiatan {codes[i]!r} (not in the nomenclature {versi} of tahun {tahun})",
    )
    if newer.any():
        notes.append(
            f"{file.path}: {int(newer.sum())} row(s) name {codes[newer].nunique()} sub kegiatan newer than the "
            f"shipped nomenclature {versi} (numbered after the last of their kegiatan); kept"
        )
    return bad | unknown


def _kecamatan_of_pemda(kode_pemda: str) -> pd.DataFrame:
    """Kecamatan of the pemda in every shipped wilayah version: kode, nama."""
    w = store.wilayah()
    return w.loc[(w.tingkat == "kecamatan") & (w.kode_induk == kode_pemda), ["kode", "nama"]].drop_duplicates()


def kecamatan_by_name(kode_pemda: str, names: pd.Series) -> pd.Series:
    """Kode of the kecamatan each name stands for within the pemda, or NA. Names match after normalisation
    (`tasks.extract.wilayah.name_key`: 'Kecamatan', 'Kec.' and case ignored); the kecamatan of a kabupaten's
    seat, whose Kepmendagri name is 'Kota X', also answers to 'X', the name SIPD gives its SKPD. Never guessed:
    a name that matches none or several kecamatan is NA."""
    kec = _kecamatan_of_pemda(kode_pemda)
    keys = pd.concat(
        [
            pd.DataFrame({"key": kec.nama.map(name_key), "kode": kec.kode}),
            pd.DataFrame({"key": kec.nama.str.replace(r"^Kota\s+", "", regex=True).map(name_key), "kode": kec.kode}),
        ]
    ).drop_duplicates()
    unique = keys[~keys.key.duplicated(keep=False)].set_index("key").kode
    return names.fillna("").map(name_key).map(unique).astype("string")


# --- the kinds --------------------------------------------------------------------------------------
def _opd(file: _File, kode_pemda: str, tahun: int, problems: Problems) -> pd.DataFrame:
    kode, nama = file.get("kode_skpd"), file.get("nama_skpd")
    _stated(file, kode_pemda, tahun, problems)
    _missing(file, kode, "kode_skpd", problems)
    _missing(file, nama, "nama_skpd", problems)
    bad = _malformed(file, kode, patterns.KODE_SKPD, "kode_skpd", "1.02.0.00.0.00.01.0000", problems)
    _duplicates(file, kode, "kode_skpd", "kode SKPD", problems)
    slots = store.bidang_of_kode_skpd(kode.where(~bad & (kode != "")))
    bidang = known_bidang()
    for i, slot in enumerate(slots.columns, start=1):
        unknown = slots[slot].notna() & ~slots[slot].isin(bidang)
        problems.rows(
            file.path,
            file.where,
            unknown,
            "kode_skpd",
            lambda p, s=slot, n=i: (
                f"kode SKPD {kode[p]!r} names bidang {slots[s][p]!r} (slot {n}), not a bidang urusan"
            ),
        )
    kecamatan = _kecamatan_of_skpd(file, kode_pemda, kode.where(~bad), nama, problems)
    frame = pd.DataFrame(
        {
            "kode_pemda": kode_pemda,
            "tahun_mulai": tahun,
            "kode_skpd": kode,
            "nama_skpd": nama,
            "singkatan": file.get("singkatan").replace("", pd.NA),
            "kode_kecamatan": kecamatan,
        }
    )
    return OPD.conform(pd.concat([frame, slots], axis=1))


def _kecamatan_of_skpd(file: _File, kode_pemda: str, kode: pd.Series, nama: pd.Series, problems: Problems):
    """The kecamatan each kecamatan SKPD (7.01) serves: the file's kode_kecamatan, else its name; a sub-unit
    (a kelurahan, SSSS not 0000) serves the kecamatan of its unit."""
    is_kec = _flag(kode.fillna("").str.startswith(store.KECAMATAN_BIDANG + "."))
    unit = kode.str[:-4] + "0000"
    is_unit = _flag(is_kec & (kode == unit))
    given = file.get("kode_kecamatan").replace("", pd.NA)
    own = set(_kecamatan_of_pemda(kode_pemda).kode)
    wrong = given.notna() & is_kec & ~given.isin(own)
    problems.rows(
        file.path,
        file.where,
        wrong,
        "kode_kecamatan",
        lambda i: f"{given[i]!r} is not a kecamatan of {kode_pemda}",
    )
    by_name = kecamatan_by_name(kode_pemda, nama.str.replace(r"^\s*(kecamatan|kec\.?)\s+", "", regex=True, case=False))
    found = given.where(is_kec & ~wrong).astype("string").fillna(by_name.where(is_unit).astype("string"))
    unresolved = is_unit & found.isna() & ~wrong
    problems.rows(
        file.path,
        file.where,
        unresolved,
        "nama_skpd",
        lambda i: f"{nama[i]!r} names no kecamatan of {kode_pemda} (or several); add a column kode_kecamatan",
    )
    of_unit = pd.Series(found.where(is_unit).to_numpy(), index=kode.where(is_unit).to_numpy())
    of_unit = of_unit[of_unit.index.notna() & ~of_unit.index.duplicated()]
    sub = is_kec & ~is_unit
    found = found.fillna(unit.where(sub).map(of_unit).astype("string"))
    orphan = sub & found.isna()
    problems.rows(
        file.path,
        file.where,
        orphan,
        "kode_skpd",
        lambda i: (
            f"kecamatan sub-unit {kode[i]!r} whose unit {unit[i]!r} is not in the list; add a column kode_kecamatan"
        ),
    )
    return found.where(is_kec).astype("string")


@dataclass(frozen=True)
class _OpdList:
    """The OPD list the other files of an import are checked against."""

    frame: pd.DataFrame
    label: str  # "the OPD list of 17.03 for 2026" (+ where it comes from)

    def codes(self) -> set[str]:
        return set(self.frame.kode_skpd)

    def by_name(self, names: pd.Series) -> pd.Series:
        index = pd.concat(
            [
                pd.Series(self.frame.kode_skpd.to_numpy(), index=text_key(self.frame.nama_skpd)),
                pd.Series(self.frame.kode_skpd.to_numpy(), index=text_key(self.frame.singkatan)),
            ]
        )
        index = index[(index.index != "") & ~index.index.duplicated(keep=False)]
        return text_key(names).map(index).astype("string")


def _opd_list(kode_pemda: str, tahun: int, checked_opd: pd.DataFrame | None) -> _OpdList:
    if checked_opd is not None:
        return _OpdList(checked_opd, f"the OPD list of {kode_pemda} for {tahun} being imported")
    status = store.reference_status(kode_pemda, tahun)["opd"]
    label = f"the OPD list of {kode_pemda} for {tahun}"
    if status.source == store.TEMPLATE:
        label += f" (the template of {store.TEMPLATE_PEMDA}: import the pemda's own list with --opd)"
    return _OpdList(store.opd(kode_pemda, tahun), label)


def _words(values: pd.Series, words: dict[str, tuple[str, ...]]) -> pd.Series:
    index = {normalise_header(w): key for key, ws in words.items() for w in ws}
    return values.fillna("").map(normalise_header).map(index).astype("string")


def _kamus(file: _File, kode_pemda: str, tahun: int, opd: _OpdList, problems: Problems, notes: list[str]):
    _stated(file, kode_pemda, tahun, problems)
    id_kamus, nama = file.get("id_kamus"), file.get("nama_kamus")
    _missing(file, id_kamus, "id_kamus", problems)
    _missing(file, nama, "nama_kamus", problems)
    _duplicates(file, id_kamus, "id_kamus", "id kamus", problems)
    satuan = file.get("satuan")
    _missing(file, satuan, "satuan", problems)

    jenis_teks = file.get("jenis_teks")
    jenis = _words(jenis_teks, JENIS_USULAN_WORDS)
    stream = file.get("stream").replace("", pd.NA)
    stream = stream.fillna(_words(file.get("id_jenis_usul"), STREAM_WORDS)).fillna(_words(jenis_teks, STREAM_WORDS))
    unknown = (jenis_teks != "") & jenis.isna() & _words(jenis_teks, STREAM_WORDS).isna()
    problems.rows(
        file.path,
        file.where,
        unknown,
        "jenis_usulan",
        lambda i: f"{jenis_teks[i]!r} is none of fisik, non fisik, barang (or asmas / pokir)",
    )
    wrong_stream = stream.notna() & ~stream.isin(STREAMS)
    problems.rows(file.path, file.where, wrong_stream, "stream", lambda i: f"{stream[i]!r} is not one of {STREAMS}")
    level_min = file.get("level_min").str.lower().replace("", pd.NA)
    wrong_level = level_min.notna() & ~level_min.isin(LEVELS)
    problems.rows(file.path, file.where, wrong_level, "level_min", lambda i: f"{level_min[i]!r} is not a forum level")

    # OPD: by kode, else by name, within the pemda's OPD list
    kode_given = file.get("kode_skpd").replace("", pd.NA)
    bad_kode = _malformed(file, kode_given, patterns.KODE_SKPD, "kode_skpd", "1.03.0.00.0.00.01.0000", problems)
    outside = kode_given.notna() & ~bad_kode & ~kode_given.isin(opd.codes())
    problems.rows(file.path, file.where, outside, "kode_skpd", lambda i: f"{kode_given[i]!r} is not in {opd.label}")
    nama_opd = file.get("nama_skpd")
    kode_skpd = kode_given.where(~bad_kode & ~outside).fillna(opd.by_name(nama_opd).where(kode_given.isna()))
    unnamed = kode_given.isna() & kode_skpd.isna()
    problems.rows(
        file.path,
        file.where,
        unnamed,
        "nama_skpd",
        lambda i: "missing OPD" if nama_opd[i] == "" else f"{nama_opd[i]!r} names no OPD of {opd.label}",
    )

    # sub kegiatan, then bidang: given, else from the bidang text, program, sub kegiatan or a single-bidang OPD
    sub = file.get("kode_sub_kegiatan").replace("", pd.NA).fillna(code_at_start(file.get("sub_kegiatan_teks")))
    bad_sub = _sub_kegiatan(file, sub, tahun, problems, notes)
    slots = opd.frame.set_index("kode_skpd")[list(store.BIDANG_SLOTS)]
    single = slots.bidang_urusan_1.where(slots.bidang_urusan_2.isna())
    program = file.get("kode_program").replace("", pd.NA)
    bidang = (
        file.get("kode_bidang_urusan")
        .replace("", pd.NA)
        .fillna(code_at_start(file.get("bidang_urusan_teks")).where(lambda s: s.str.len() == 4))
        .fillna(program.str[:4])
        .fillna(sub.where(~bad_sub).str[:4].where(lambda s: s != "X.XX"))
        .fillna(kode_skpd.map(single))
        .astype("string")
    )
    no_bidang = bidang.isna()
    problems.rows(
        file.path,
        file.where,
        no_bidang & ~unnamed,
        "kode_bidang_urusan",
        lambda i: (
            "missing bidang urusan (no kode bidang, bidang, program or sub kegiatan, and the OPD carries several)"
        ),
    )
    unknown_bidang = bidang.notna() & ~bidang.isin(known_bidang())
    problems.rows(
        file.path, file.where, unknown_bidang, "kode_bidang_urusan", lambda i: f"unknown bidang urusan {bidang[i]!r}"
    )
    prefix = sub.str[:4]
    other = _flag(sub.notna() & ~bad_sub & bidang.notna() & (prefix != bidang) & (prefix != "X.XX"))
    problems.rows(
        file.path,
        file.where,
        other,
        "kode_sub_kegiatan",
        lambda i: f"sub kegiatan {sub[i]!r} is not of bidang {bidang[i]!r}",
    )
    carries = pd.concat([kode_skpd.map(slots[s]) for s in store.BIDANG_SLOTS], axis=1).eq(bidang, axis=0).any(axis=1)
    not_carried = kode_skpd.notna() & bidang.notna() & ~unknown_bidang & ~carries
    problems.rows(
        file.path,
        file.where,
        not_carried,
        "kode_skpd",
        lambda i: (
            f"OPD {kode_skpd[i]!r} does not carry bidang {bidang[i]!r} (its kode SKPD names "
            f"{', '.join(slots.loc[kode_skpd[i]].dropna())})"
        ),
    )
    harga = _money(file, file.get("harga_satuan"), "harga_satuan", problems)
    frame = pd.DataFrame(
        {
            "kode_pemda": kode_pemda,
            "tahun_mulai": tahun,
            "id_kamus": id_kamus,
            "stream": stream.fillna("musrenbang"),
            "nama_kamus": nama,
            "jenis_usulan": jenis,
            "kode_bidang_urusan": bidang,
            "kode_sub_kegiatan": sub.where(~bad_sub),
            "kode_skpd": kode_skpd,
            "satuan": satuan,
            "harga_satuan": harga,
            "level_min": level_min,
            "contoh_teks_warga": file.get("contoh_teks_warga").replace("", pd.NA),
        }
    )
    return KAMUS.conform(frame)


def _renja(file: _File, kode_pemda: str, tahun: int, opd: _OpdList, problems: Problems, notes: list[str]):
    _stated(file, kode_pemda, tahun, problems, earlier=True)
    kode = file.get("kode_sub_skpd").replace("", pd.NA).fillna(file.get("kode_skpd").replace("", pd.NA))
    field_name = "kode_sub_skpd" if file.has("kode_sub_skpd") else "kode_skpd"
    _missing(file, kode, field_name, problems)
    bad = _malformed(file, kode, patterns.KODE_SKPD, field_name, "1.02.0.00.0.00.01.0000", problems)
    codes = opd.codes()
    unit = kode.str[:-4] + "0000"
    carrier = kode.where(kode.isin(codes)).fillna(unit.where(unit.isin(codes)))
    outside = kode.notna() & ~bad & carrier.isna()
    problems.rows(
        file.path, file.where, outside, field_name, lambda i: f"{kode[i]!r} (nor its unit) is not in {opd.label}"
    )
    sub = file.get("kode_sub_kegiatan")
    _missing(file, sub, "kode_sub_kegiatan", problems)
    _sub_kegiatan(file, sub.replace("", pd.NA), tahun, problems, notes)
    pagu = _money(file, file.get("pagu_indikatif"), "pagu_indikatif", problems)
    if file.has("id_baris"):
        _duplicates(file, file.get("id_baris").replace("", pd.NA), "id_baris", "Renja line", problems)
    lines = pd.DataFrame(
        {
            "kode_skpd": carrier,
            "kode_sub_kegiatan": sub,
            "nama_sub_kegiatan": file.get("nama_sub_kegiatan").replace("", pd.NA),
            "tolok_ukur": file.get("tolok_ukur").replace("", pd.NA),
            "pagu": pagu,
        }
    ).dropna(subset=["kode_skpd"])
    grouped = lines.groupby(["kode_skpd", "kode_sub_kegiatan"], sort=True)
    out = grouped.agg(
        nama_sub_kegiatan=("nama_sub_kegiatan", "first"),
        tolok_ukur=("tolok_ukur", "first"),
        pagu_indikatif=("pagu", lambda p: p.sum(min_count=1)),
        n_lokasi=("pagu", "size"),
    ).reset_index()
    return RENJA.conform(out.assign(kode_pemda=kode_pemda, tahun=tahun))


def _pagu(file: _File, kode_pemda: str, tahun: int, opd: _OpdList, problems: Problems):
    _stated(file, kode_pemda, tahun, problems)
    jenis_teks = file.get("jenis_pagu")
    jenis = _words(jenis_teks, JENIS_PAGU_WORDS)
    problems.rows(
        file.path,
        file.where,
        jenis.isna(),
        "jenis_pagu",
        lambda i: (
            "missing value (opd or kecamatan)"
            if jenis_teks[i] == ""
            else f"{jenis_teks[i]!r} is neither opd nor kecamatan"
        ),
    )
    kode, nama = file.get("kode").replace("", pd.NA), file.get("nama")
    is_opd, is_kec = _flag(jenis == "opd"), _flag(jenis == "kecamatan")
    bad_opd = _malformed(file, kode.where(is_opd), patterns.KODE_SKPD, "kode", "1.03.0.00.0.00.01.0000", problems)
    bad_kec = _malformed(file, kode.where(is_kec), patterns.KODE_KECAMATAN, "kode", f"{kode_pemda}.01", problems)
    kode_opd = kode.where(is_opd & ~bad_opd).fillna(opd.by_name(nama).where(is_opd & kode.isna()))
    outside = is_opd & ~bad_opd & kode_opd.notna() & ~kode_opd.isin(opd.codes())
    problems.rows(file.path, file.where, outside, "kode", lambda i: f"{kode_opd[i]!r} is not in {opd.label}")
    own = set(_kecamatan_of_pemda(kode_pemda).kode)
    kode_kec = kode.where(is_kec & ~bad_kec).fillna(kecamatan_by_name(kode_pemda, nama).where(is_kec & kode.isna()))
    foreign = is_kec & ~bad_kec & kode_kec.notna() & ~kode_kec.isin(own)
    problems.rows(
        file.path, file.where, foreign, "kode", lambda i: f"{kode_kec[i]!r} is not a kecamatan of {kode_pemda}"
    )
    unnamed = (is_opd & ~bad_opd & kode_opd.isna()) | (is_kec & ~bad_kec & kode_kec.isna())
    problems.rows(
        file.path,
        file.where,
        unnamed,
        "kode",
        lambda i: "missing kode (and nama)" if nama[i] == "" else f"{nama[i]!r} names no {jenis[i]} of {kode_pemda}",
    )
    target = kode_opd.fillna(kode_kec)
    _duplicates(file, (jenis + " " + target).where(target.notna()), "kode", "ceiling of", problems)
    pagu = _money(file, file.get("pagu"), "pagu", problems)
    _missing(file, file.get("pagu"), "pagu", problems)
    sumber = file.get("sumber").replace("", pd.NA).fillna(file.path.name)
    common = {"kode_pemda": kode_pemda, "tahun": tahun}
    opd_rows = pd.DataFrame({**common, "kode_skpd": kode_opd, "pagu": pagu, "sumber": sumber})[is_opd.fillna(False)]
    kec_rows = pd.DataFrame({**common, "kode_kecamatan": kode_kec, "pagu": pagu, "sumber": sumber})[
        is_kec.fillna(False)
    ]
    return PAGU_OPD.conform(opd_rows), PAGU_KEWILAYAHAN.conform(kec_rows)


def _existing_dependents(kode_pemda: str, tahun: int, new_opd: pd.DataFrame, files: dict, problems: Problems):
    """Lists imported before for the same tahun that a new OPD list would leave naming unknown OPD."""
    codes = set(new_opd.kode_skpd)
    for name, table, column in (
        ("kamus", KAMUS, "kode_skpd"),
        ("renja", RENJA, "kode_skpd"),
        ("pagu_opd", PAGU_OPD, "kode_skpd"),
    ):
        kind = "pagu" if name.startswith("pagu") else name
        found = [f for f in store.versions(kode_pemda, name) if f.tahun == tahun and f.origin == store.IMPORTED]
        if kind in files or not found:
            continue
        gone = sorted(set(store.read_list(table, found[-1])[column]) - codes)
        if gone:
            problems.file(
                found[-1].path,
                f"imported before for {tahun}, names kode SKPD the new OPD list does not have: {', '.join(gone[:5])}"
                f"{' ...' if len(gone) > 5 else ''}; import it again together with the OPD list (--{kind})",
            )


def check_files(kode_pemda: str, tahun: int, files: dict[str, Path]) -> Checked:
    """Read and check the reference files of a pemda for a tahun (keys: opd, kamus, renja, pagu); the OPD list
    being imported, else the pemda's OPD list in force, is what the others are checked against. Raises
    `ReferenceImportError` with every problem found."""
    problems, notes = Problems(), []
    unknown = sorted(set(files) - set(KINDS))
    if unknown or not files:
        raise ReferenceImportError([f"nothing to import: give one or more of --{', --'.join(KINDS)}"])
    if not re.match(patterns.KODE_PEMDA, kode_pemda) or kode_pemda not in set(store.wilayah().kode):
        raise ReferenceImportError([f"{kode_pemda!r} is not the kode of a kabupaten/kota (PP.KK, e.g. 17.03)"])
    read = {kind: _read(Path(files[kind]), LAYOUTS[kind], problems) for kind in KINDS if kind in files}
    frames: dict[str, pd.DataFrame] = {}
    if read.get("opd") is not None:
        frames["opd"] = _opd(read["opd"], kode_pemda, tahun, problems)
        _existing_dependents(kode_pemda, tahun, frames["opd"], files, problems)
    if "opd" in files and problems.lines:  # the other files are checked against it: no cascade of problems
        for kind in set(files) - {"opd"}:
            problems.file(Path(files[kind]), "not checked yet: the OPD list it is checked against has problems")
        raise ReferenceImportError(problems.all())
    opd = _opd_list(kode_pemda, tahun, frames.get("opd"))
    if read.get("kamus") is not None:
        frames["kamus"] = _kamus(read["kamus"], kode_pemda, tahun, opd, problems, notes)
    if read.get("renja") is not None:
        frames["renja"] = _renja(read["renja"], kode_pemda, tahun, opd, problems, notes)
    if read.get("pagu") is not None:
        frames["pagu_opd"], frames["pagu_kecamatan"] = _pagu(read["pagu"], kode_pemda, tahun, opd, problems)
    if problems.lines:
        raise ReferenceImportError(problems.all())
    return Checked(kode_pemda, tahun, frames, {k: Path(v) for k, v in files.items()}, notes)
