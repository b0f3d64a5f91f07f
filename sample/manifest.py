"""The run manifest: which files were written, how many rows, and where each defect sits."""

from __future__ import annotations

import json
from pathlib import Path

MANIFEST_NAME = "_generated.json"
TOTAL_KEYS = ("desa", "kecamatan", "forum_opd", "kabkota", "provinsi", "pokir")


def file_entry(
    path: str,
    level: str,
    stream: str,
    fmt: str,
    encoding: str | None,
    delimiter: str | None,
    data_rows: int,
    usulan: int,
    defects: list[dict],
    row_offset: int,
) -> dict:
    """One written file; defect positions become row numbers (position + row_offset)."""
    return {
        "path": path,
        "level": level,
        "stream": stream,
        "format": fmt,
        "encoding": encoding,
        "delimiter": delimiter,
        "data_rows": int(data_rows),
        "usulan": int(usulan),
        "defects": [
            {
                "kind": d["kind"],
                "row": int(d["pos"]) + row_offset,
                "field": d["field"],
                "id_usulan": d["id_usulan"],
                "expected": d["expected"],
            }
            for d in defects
        ],
    }


def totals(files: list[dict]) -> dict:
    """Rows and expected quarantines per level (the pokir stream counted apart)."""
    out = {key: {"files": 0, "data_rows": 0, "usulan": 0, "expected_quarantine": 0} for key in TOTAL_KEYS}
    for f in files:
        key = "pokir" if f["stream"] == "pokir" else f["level"]
        out[key]["files"] += 1
        out[key]["data_rows"] += f["data_rows"]
        out[key]["usulan"] += f["usulan"]
        out[key]["expected_quarantine"] += sum(d["expected"] == "quarantine" for d in f["defects"])
    return out


def pemda_manifest(tahun: int, kode: str, nama: str, seed: int, defect_rate: float, files: list[dict]) -> dict:
    return {
        "tahun": tahun,
        "kode_pemda": kode,
        "nama_pemda": nama,
        "seed": seed,
        "defect_rate": defect_rate,
        "files": files,
        "totals": totals(files),
    }


def grand_totals(manifests: list[dict]) -> dict:
    out = {key: {"files": 0, "data_rows": 0, "usulan": 0, "expected_quarantine": 0} for key in TOTAL_KEYS}
    for m in manifests:
        for key, counts in m["totals"].items():
            for name, value in counts.items():
                out[key][name] += value
    return out


def write(root: Path, manifest: dict) -> None:
    (root / MANIFEST_NAME).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")


def remove_previous(root: Path) -> None:
    """Delete the files a previous run listed in its manifest (and nothing else)."""
    path = root / MANIFEST_NAME
    if not path.exists():
        return
    for f in json.loads(path.read_text(encoding="utf-8")).get("files", []):
        (root / f["path"]).unlink(missing_ok=True)
    path.unlink()
