"""Find the source files of a tahun in the inbox: one row per file, with the slice it belongs to.

Inbox convention: <inbox>/<tahun>/<kode_pemda>/<folder>/<file>, where folder names the forum level
(desa, kecamatan, forum_opd, kabkota, provinsi, nasional) or "pokir". A slice is every file of one
(tahun, level, stream, pemda, source): the unit replaced whole on a re-run. The source is the file
format (csv, excel, json), or the name of the sub-folder the file sits in, so separate deliveries of
one level (e.g. `kecamatan/berita-acara/`, `forum_opd/sipd-api/`) are separate slices.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from schemas import LEVELS, SLICE_KEY
from schemas.patterns import KODE_PEMDA
from schemas.sources import FOLDER_LEVELS, SOURCE_OF_SUFFIX

# The files frame: where a file is, the slice it belongs to, and what the next steps add to it.
FILE_ID, PATH, SIZE, MTIME = "file_id", "path", "size", "mtime"
FILE_COLUMNS = (FILE_ID, PATH, "source_file", *SLICE_KEY, "stream", SIZE, MTIME)
SLICE = (*SLICE_KEY, "stream")  # a slice's columns in the files frame (source already tells pokir apart)
_LEVEL_ORDER = {level: i for i, level in enumerate(LEVELS)}


@dataclass(frozen=True)
class Discovery:
    files: pd.DataFrame  # FILE_COLUMNS, lower forums first
    ignored: tuple[str, ...]  # files or folders that follow no convention, reported to the user


def display_path(path: Path, base: Path | None) -> str:
    """The file's name as runs report it: relative to the inbox when it lies inside it."""
    try:
        return path.resolve().relative_to(base.resolve()).as_posix() if base else path.as_posix()
    except ValueError:
        return path.as_posix()


def _source_name(path: Path, level_folder: Path) -> str:
    parts = path.relative_to(level_folder).parts
    if len(parts) > 1:
        return re.sub(r"[^0-9a-z]+", "-", parts[0].lower()).strip("-")[:34] or SOURCE_OF_SUFFIX[path.suffix.lower()]
    return SOURCE_OF_SUFFIX[path.suffix.lower()]


def _visible(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if not p.name.startswith((".", "_")))


def discover(inbox: Path, tahun: int, pemda: list[str] | None = None, levels: list[str] | None = None) -> Discovery:
    """Files of the tahun, lower forums first; only `pemda` and level folders in `levels` when given."""
    inbox = Path(inbox)
    root = inbox / str(tahun)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no inbox folder for tahun {tahun}")
    rows, ignored = [], []
    for pemda_dir in _visible(root):
        if not (pemda_dir.is_dir() and re.match(KODE_PEMDA, pemda_dir.name)):
            ignored.append(f"{pemda_dir}: not a kode pemda folder (expected like 18.02)")
            continue
        if pemda and pemda_dir.name not in pemda:
            continue
        for folder in _visible(pemda_dir):
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
                stat = path.stat()
                rows.append(
                    {
                        PATH: str(path),
                        "source_file": display_path(path, inbox),
                        "tahun": tahun,
                        "level": level,
                        "kode_pemda": pemda_dir.name,
                        "source": source if stream == "musrenbang" else f"pokir-{source}",
                        "stream": stream,
                        SIZE: stat.st_size,
                        MTIME: stat.st_mtime,
                    }
                )
    files = pd.DataFrame(rows, columns=[c for c in FILE_COLUMNS if c != FILE_ID])
    order = files["level"].map(_LEVEL_ORDER)  # lower forums first: lineage checks read them
    files = files.assign(_order=order, _pokir=files["stream"] == "pokir")
    files = files.sort_values(["kode_pemda", "_order", "_pokir", "source", "source_file"], kind="stable")
    files = files.drop(columns=["_order", "_pokir"]).reset_index(drop=True)
    files.insert(0, FILE_ID, range(len(files)))
    return Discovery(files.astype({"tahun": "int64", SIZE: "int64", MTIME: "float64"}), tuple(ignored))


def files_frame(
    paths: list[Path],
    base: Path,
    level: str,
    tahun: int = 2025,
    kode_pemda: str = "18.02",
    source: str = "csv",
    stream: str = "musrenbang",
) -> pd.DataFrame:
    """A files frame of given files, all in one slice (for files outside an inbox: benchmarks, tests)."""
    return pd.DataFrame(
        [
            {
                FILE_ID: i,
                PATH: str(p),
                "source_file": display_path(p, base),
                "tahun": tahun,
                "level": level,
                "kode_pemda": kode_pemda,
                "source": source,
                "stream": stream,
                SIZE: p.stat().st_size,
                MTIME: p.stat().st_mtime,
            }
            for i, p in enumerate(paths)
        ],
        columns=list(FILE_COLUMNS),
    )
