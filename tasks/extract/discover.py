"""Find the source files of a tahun in the inbox and group them into slices.

Inbox convention: <inbox>/<tahun>/<kode_pemda>/<folder>/<file>, where folder names the forum level
(desa, kecamatan, forum_opd, kabkota, provinsi, nasional) or "pokir". A slice is every file of one
(tahun, level, stream, pemda, source): the unit replaced whole on a re-run. The source is the file
format (csv, excel, json), or the name of the sub-folder the file sits in, so separate deliveries of
one level (e.g. `kecamatan/berita-acara/`, `forum_opd/sipd-api/`) are separate slices.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from schemas import LEVELS
from schemas.sources import FOLDER_LEVELS, SOURCE_OF_SUFFIX
from tasks.batch import SliceKey

_PEMDA = re.compile(r"^\d{2}\.\d{2}$")


@dataclass
class SourceSlice:
    key: SliceKey
    files: list[Path] = field(default_factory=list)


@dataclass
class Discovery:
    slices: list[SourceSlice]
    ignored: list[str]  # files or folders that follow no convention, reported to the user


def _source_name(path: Path, level_folder: Path) -> str:
    parts = path.relative_to(level_folder).parts
    if len(parts) > 1:
        return re.sub(r"[^0-9a-z]+", "-", parts[0].lower()).strip("-")[:34] or SOURCE_OF_SUFFIX[path.suffix.lower()]
    return SOURCE_OF_SUFFIX[path.suffix.lower()]


def discover(inbox: Path, tahun: int, pemda: list[str] | None = None, levels: list[str] | None = None) -> Discovery:
    """Slices of the tahun, lower forums first; only `pemda` and level folders in `levels` when given."""
    root = inbox / str(tahun)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no inbox folder for tahun {tahun}")
    slices: dict[SliceKey, SourceSlice] = {}
    ignored = []
    for pemda_dir in sorted(p for p in root.iterdir() if not p.name.startswith((".", "_"))):
        if not (pemda_dir.is_dir() and _PEMDA.match(pemda_dir.name)):
            ignored.append(f"{pemda_dir}: not a kode pemda folder (expected like 18.02)")
            continue
        if pemda and pemda_dir.name not in pemda:
            continue
        for folder in sorted(p for p in pemda_dir.iterdir() if not p.name.startswith((".", "_"))):
            if not folder.is_dir() or folder.name not in FOLDER_LEVELS:
                ignored.append(f"{folder}: unknown level folder (expected one of {', '.join(FOLDER_LEVELS)})")
                continue
            if levels and folder.name not in levels:
                continue
            level, stream = FOLDER_LEVELS[folder.name]
            for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith((".", "_"))):
                if path.suffix.lower() not in SOURCE_OF_SUFFIX:
                    ignored.append(f"{path}: not a source file type (.csv, .xlsx, .json)")
                    continue
                source = _source_name(path, folder)
                key = SliceKey(
                    tahun, level, stream, pemda_dir.name, source if stream == "musrenbang" else f"pokir-{source}"
                )
                slices.setdefault(key, SourceSlice(key)).files.append(path)
    order = {level: i for i, level in enumerate(LEVELS)}  # lower forums first: lineage checks read them
    ordered = sorted(
        slices.values(), key=lambda s: (s.key.kode_pemda, order[s.key.level], s.key.stream == "pokir", s.key.source)
    )
    return Discovery(ordered, ignored)
