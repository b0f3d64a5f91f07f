"""The sample generator, checked on the real files it writes."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

import sample
from reference import store
from schemas.sources import FOLDER_LEVELS, target_of

TAHUN = 2025
EXTRA_HEADERS = {"no", "tanggal usul", "profil", "jenis belanja", "pilihan", "tahun", "id_jenis_usul", "fraksi_dewan"}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("inbox")
    result = sample.generate(out, tahun=TAHUN)
    return out, result


@pytest.fixture(scope="module")
def root(run) -> Path:
    return run[0] / str(TAHUN) / "18.02"


@pytest.fixture(scope="module")
def manifest(root) -> dict:
    return json.loads((root / "_generated.json").read_text(encoding="utf-8"))


def _wilayah(kode_pemda: str, tingkat: str) -> pd.DataFrame:
    w = store.wilayah()
    versi = store.version_for(store.WILAYAH_VERSIONS, TAHUN).versi
    w = w[(w.versi == versi) & (w.tingkat == tingkat) & w.kode.str.startswith(kode_pemda + ".")]
    return w


def read_csv(path: Path, entry: dict) -> pd.DataFrame:
    text = path.read_bytes().decode(entry["encoding"])
    return pd.read_csv(
        io.StringIO(text), sep=entry["delimiter"], dtype=str, keep_default_na=False, skip_blank_lines=False
    )


def read_excel(path: Path) -> pd.DataFrame:
    rows = list(openpyxl.load_workbook(path, read_only=True).active.iter_rows(values_only=True))
    return pd.DataFrame(rows[5:], columns=rows[4], dtype=object)


def read_json(path: Path) -> pd.DataFrame:
    return pd.DataFrame(json.loads(path.read_text(encoding="utf-8"))["data"], dtype=object)


_READ: dict[Path, pd.DataFrame] = {}


def read_file(root: Path, entry: dict) -> pd.DataFrame:
    """A generated file as a frame (read once per test session)."""
    path = root / entry["path"]
    if path not in _READ:
        _READ[path] = {
            "csv": lambda: read_csv(path, entry),
            "excel": lambda: read_excel(path),
            "json": lambda: read_json(path),
        }[entry["format"]]()
    return _READ[path]


def first_row(entry: dict) -> int:
    """Row number (as the manifest counts) of the first data row."""
    return {"csv": 2, "excel": 6, "json": 1}[entry["format"]]


def money(value) -> float:
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).replace("Rp", "").strip()
    text = text.removesuffix(",00").replace(".", "")
    return float(text)


def test_layout_and_headers_map_to_the_contract(root, manifest):
    folders = {p.name for p in root.iterdir() if p.is_dir()}
    assert folders <= set(FOLDER_LEVELS) and {"desa", "kecamatan", "forum_opd", "kabkota", "pokir"} <= folders
    for entry in manifest["files"]:
        frame = read_file(root, entry)
        for header in frame.columns:
            assert target_of(header) or str(header).lower() in EXTRA_HEADERS, (entry["path"], header)
        assert FOLDER_LEVELS[entry["path"].split("/")[0]] == (entry["level"], entry["stream"])


def test_desa_csvs_use_three_dialects(root, manifest):
    desa = [e for e in manifest["files"] if e["level"] == "desa"]
    assert len(desa) == 28 == len(list((root / "desa").glob("usulan_desa_18_02_*.csv")))
    seen = set()
    cp1252_not_utf8 = 0
    for entry in desa:
        raw = (root / entry["path"]).read_bytes()
        text = raw.decode(entry["encoding"])
        header = text.lstrip("\ufeff").splitlines()[0]
        assert header.startswith("No" + entry["delimiter"] + "ID Usulan")
        assert raw.startswith(b"\xef\xbb\xbf") == (entry["encoding"] == "utf-8-sig")
        if entry["encoding"] == "cp1252":
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                cp1252_not_utf8 += 1
        seen.add((entry["encoding"], entry["delimiter"]))
    assert seen == {("utf-8", ","), ("utf-8-sig", ";"), ("cp1252", ";")}
    assert cp1252_not_utf8 > 0  # some texts carry characters such as '–' or 'é'


def test_every_desa_appears(root, manifest):
    desa = _wilayah("18.02", "desa")
    kecamatan = _wilayah("18.02", "kecamatan").set_index("kode").nama
    expected = set(zip(desa.kode_induk.map(kecamatan), desa.nama))
    frames = [read_file(root, e) for e in manifest["files"] if e["level"] == "desa"]
    seen = set(map(tuple, pd.concat(frames)[["Kecamatan", "Desa/Kelurahan"]].to_numpy()))
    assert len(expected) == 311 and expected <= seen


def _ids(root, manifest, level, stream="musrenbang", accepted=False) -> set[str]:
    ids = set()
    for entry in manifest["files"]:
        if entry["level"] != level or entry["stream"] != stream:
            continue
        frame = read_file(root, entry)
        id_col = "id_usulan" if entry["format"] == "json" else "ID Usulan"
        status_col = {"csv": "Hasil Musyawarah", "excel": "Status", "json": "status_usul_teks"}[entry["format"]]
        if level == "provinsi":
            status_col = "Status"
        keep = frame[status_col].isin(["Diterima", "Disetujui"]) if accepted else frame[id_col].notna()
        ids |= {str(i) for i in frame.loc[keep, id_col] if i not in (None, "")}
    return ids


def test_lineage_keeps_ids_and_only_accepted_rows_rise(root, manifest):
    desa_ok = _ids(root, manifest, "desa", accepted=True)
    kecamatan = _ids(root, manifest, "kecamatan")
    assert kecamatan and kecamatan <= desa_ok
    kecamatan_ok = _ids(root, manifest, "kecamatan", accepted=True)
    forum = _ids(root, manifest, "forum_opd")
    own = forum - kecamatan_ok
    assert 0 < len(own) < 0.1 * len(forum)  # the OPD's own entries
    assert (forum & kecamatan) == kecamatan_ok
    kabkota = _ids(root, manifest, "kabkota")
    assert kabkota and kabkota <= _ids(root, manifest, "forum_opd", accepted=True)
    provinsi = _ids(root, manifest, "provinsi")
    assert provinsi and provinsi <= _ids(root, manifest, "kabkota", accepted=True)
    pokir = _ids(root, manifest, "kabkota", stream="pokir")
    assert pokir and all(i.startswith("91802") for i in pokir) and not pokir & kabkota


def test_manifest_counts_match_the_files(root, manifest):
    for entry in manifest["files"]:
        frame = read_file(root, entry)
        assert len(frame) == entry["data_rows"], entry["path"]
        id_col = "id_usulan" if entry["format"] == "json" else "ID Usulan"
        ids = {str(i) for i in frame[id_col] if i not in (None, "")}
        assert len(ids) == entry["usulan"], entry["path"]
    totals = manifest["totals"]
    assert totals["desa"]["data_rows"] == sum(e["data_rows"] for e in manifest["files"] if e["level"] == "desa")
    assert all(totals[k]["data_rows"] > 0 for k in ("desa", "kecamatan", "forum_opd", "kabkota", "provinsi", "pokir"))


def test_every_defect_is_where_the_manifest_says(root, manifest):
    names = set(_wilayah("18.02", "desa").nama) | set(_wilayah("18.02", "kecamatan").nama)
    kamus_satuan = set(store.kamus("18.02").satuan)
    kinds = set()
    for entry in manifest["files"]:
        frame = read_file(root, entry).astype(object).where(lambda f: f.notna(), "")
        rows_seen = set()
        for d in entry["defects"]:
            kinds.add(d["kind"])
            assert d["row"] not in rows_seen  # never two defects on one row
            rows_seen.add(d["row"])
            row = frame.iloc[d["row"] - first_row(entry)]
            id_col = "id_usulan" if entry["format"] == "json" else "ID Usulan"
            if d["kind"] == "empty_row":
                assert all(str(v).strip() == "" for v in row), entry["path"]
                continue
            assert str(row[id_col]) == d["id_usulan"]
            value = row[d["field"]] if d["field"] else None
            if d["kind"] == "duplicate_row":
                earlier = frame.iloc[: d["row"] - first_row(entry)]
                assert (earlier.astype(str) == row.astype(str)).all(axis=1).any()
            elif d["kind"] == "negative_anggaran":
                assert money(value) < 0
            elif d["kind"] == "absurd_anggaran":
                assert money(value) >= 1e13
            elif d["kind"] == "missing_volume":
                assert str(value).strip() == ""
            elif d["kind"] == "unknown_satuan":
                assert value and value not in kamus_satuan
            elif d["kind"] == "unknown_wilayah" or d["kind"] == "renamed_wilayah":
                assert value and value not in names
            expected = "load" if d["kind"] in ("renamed_wilayah", "missing_volume", "unknown_satuan") else "quarantine"
            assert d["expected"] == expected
    assert kinds == {
        "duplicate_row",
        "unknown_wilayah",
        "renamed_wilayah",
        "missing_volume",
        "unknown_satuan",
        "negative_anggaran",
        "absurd_anggaran",
        "empty_row",
    }


def test_quarantined_rows_never_rise(root, manifest):
    higher = {"desa": "kecamatan", "kecamatan": "forum_opd", "forum_opd": "kabkota", "kabkota": "provinsi"}
    for entry in manifest["files"]:
        if entry["stream"] != "musrenbang" or entry["level"] not in higher:
            continue
        above = _ids(root, manifest, higher[entry["level"]])
        for d in entry["defects"]:
            if d["expected"] == "quarantine" and d["kind"] != "empty_row":
                assert d["id_usulan"] not in above, (entry["path"], d)


def test_sipd_excel_layout(root):
    rows = list(
        openpyxl.load_workbook(
            root / "kecamatan" / f"sipd_usulan_kecamatan_{TAHUN}.xlsx", read_only=True
        ).active.iter_rows(values_only=True)
    )
    assert rows[0][0] == "DAFTAR USULAN HASIL MUSRENBANG KECAMATAN"
    assert rows[1][0] == "KABUPATEN LAMPUNG TENGAH" and rows[2][0] == f"TAHUN ANGGARAN {TAHUN}"
    assert all(v is None for v in rows[3])
    columns = pd.read_csv(Path("/work/shared/reference/schema/sipd_usulan_export_excel_columns_pacitan.csv"))
    assert list(rows[4]) == list(columns.iloc[:, 1])
    data = pd.DataFrame(rows[5:], columns=rows[4]).dropna(how="all")
    text_money = data.Anggaran.map(lambda v: isinstance(v, str))
    assert 0.3 < text_money.mean() < 0.7
    assert data.Alamat.str.contains(r"-?\d+\.\d{6}, \d+\.\d{6}").mean() > 0.7
    assert (data.Volume.map(lambda v: isinstance(v, str) and " " in v)).any()


def test_same_seed_same_bytes_other_seed_differs(run, tmp_path):
    def tree_hash(path: Path) -> str:
        digest = hashlib.sha256()
        for f in sorted(p for p in path.rglob("*") if p.is_file()):
            digest.update(str(f.relative_to(path)).encode() + f.read_bytes())
        return digest.hexdigest()

    first = tree_hash(run[0])
    sample.generate(tmp_path / "again", tahun=TAHUN)
    assert tree_hash(tmp_path / "again") == first
    sample.generate(tmp_path / "again", tahun=TAHUN)  # a re-run over the same folder stays identical
    assert tree_hash(tmp_path / "again") == first
    sample.generate(tmp_path / "other", tahun=TAHUN, seed=7)
    assert tree_hash(tmp_path / "other") != first


def test_kota_metro_only_kelurahan(tmp_path):
    result = sample.generate(tmp_path, tahun=TAHUN, pemda=("18.72",))
    m = result["pemda"]["18.72"]
    assert m["nama_pemda"] == "Kota Metro"
    root = tmp_path / str(TAHUN) / "18.72"
    desa = [e for e in m["files"] if e["level"] == "desa"]
    assert len(desa) == 5
    frame = pd.concat(read_file(root, e) for e in desa)
    assert set(_wilayah("18.72", "desa").nama) <= set(frame["Desa/Kelurahan"])
    assert frame.Alamat.str.startswith("Lingkungan").mean() > 0.9
    assert m["totals"]["kabkota"]["data_rows"] > 0
    assert result["totals"]["pokir"]["data_rows"] == m["totals"]["pokir"]["data_rows"]
