"""Import a pemda's reference for a tahun: the checked lists go to its reference folder and the warehouse, all of
them or nothing.

The version folder `<reference_dir>/<kode_pemda>/<tahun>/` holds the lists in the contract's columns
(`opd.csv`, `kamus.csv`, `renja.csv`, `pagu_opd.csv`, `pagu_kecamatan.csv`), the files as they were handed over
(`sumber/<kind>/`) and `import.json` (what was imported when, from which file). It is built beside the old one
and swapped in after the warehouse transaction has committed; lists not named in an import stay as they were.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from reference import store
from tasks.extract.reference import Checked, check_files
from warehouse.bulk import replace_slice

MANIFEST = "import.json"


@dataclass
class ImportResult:
    kode_pemda: str
    tahun: int
    folder: Path
    rows: dict[str, int]  # list -> rows written
    notes: list[str]


def _write_folder(staging: Path, checked: Checked) -> None:
    for name, frame in checked.frames.items():
        (staging / f"{name}.csv").write_text(store.list_csv(store.LIST_TABLES[name], frame), encoding="utf-8")
    manifest_path = staging / MANIFEST
    manifest = json.loads(manifest_path.read_text(encoding="utf-8")) if manifest_path.exists() else {}
    manifest |= {"kode_pemda": checked.kode_pemda, "tahun": checked.tahun}
    now = datetime.now(UTC).isoformat(timespec="seconds")
    for kind, path in checked.sources.items():
        kept = staging / "sumber" / kind
        shutil.rmtree(kept, ignore_errors=True)
        kept.mkdir(parents=True)
        shutil.copy2(path, kept / path.name)
        lists = [n for n in checked.frames if n == kind or (kind == "pagu" and n.startswith("pagu"))]
        manifest.setdefault("lists", {})[kind] = {
            "file": str(path),
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "imported_at": now,
            "rows": {n: len(checked.frames[n]) for n in lists},
        }
    manifest_path.write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def _swap(staging: Path, folder: Path) -> None:
    old = folder.with_name(f".{folder.name}.old-{uuid.uuid4().hex[:8]}")
    if folder.exists():
        folder.rename(old)
    staging.rename(folder)
    shutil.rmtree(old, ignore_errors=True)


def import_reference(
    kode_pemda: str, tahun: int, files: dict[str, Path], reference_dir: Path, engine: sa.Engine | None
) -> ImportResult:
    """Check `files` (keys: opd, kamus, renja, pagu) and write them as the pemda's lists for `tahun` into
    `reference_dir` and, with an engine, the warehouse's reference tables (one transaction). Raises
    `tasks.errors.ReferenceImportError` (nothing written) when a file has a problem."""
    checked = check_files(kode_pemda, tahun, files)
    folder = store.list_path(reference_dir, kode_pemda, tahun, "opd").parent
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = folder.with_name(f".{tahun}.import-{uuid.uuid4().hex[:8]}")
    try:
        if folder.exists():
            shutil.copytree(folder, staging)
        else:
            staging.mkdir()
        _write_folder(staging, checked)
        if engine is not None:
            replace_slice(
                engine,
                [
                    (table, {"kode_pemda": kode_pemda, store.version_column(table): tahun}, checked.frames[name])
                    for name, table in store.LIST_TABLES.items()
                    if name in checked.frames
                ],
            )
        _swap(staging, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return ImportResult(
        kode_pemda, tahun, folder, {name: len(frame) for name, frame in checked.frames.items()}, checked.notes
    )
