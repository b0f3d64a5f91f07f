"""Before a run: does the inbox hold data for the tahun, levels and pemda asked for?

A scheduled run that finds nothing should stop at once with one line that says where it looked and what to
pass, not after starting the warehouse and reference loads. Flows call `missing_data` first and end Failed
with its message when it returns one.
"""

from __future__ import annotations

from pathlib import Path

from schemas.sources import FOLDER_LEVELS, SOURCE_OF_SUFFIX


def _has_source_file(folder: Path) -> bool:
    return any(p.is_file() and p.suffix.lower() in SOURCE_OF_SUFFIX for p in folder.rglob("*"))


def missing_data(
    inbox: Path, tahun: int, folders: list[str] | None = None, pemda: list[str] | None = None
) -> str | None:
    """None when `<inbox>/<tahun>/<pemda>/<folder>/` holds at least one source file for the run; else one line
    naming the folder looked at and what is missing (`folders`: level folders such as desa or pokir, default
    all; `pemda`: kode pemda, default every pemda folder)."""
    inbox = Path(inbox)
    root = inbox / str(tahun)
    if not inbox.is_dir():
        return f"{inbox}: no inbox folder (absolute: {inbox.resolve()}); pass inbox=... or create it"
    if not root.is_dir():
        found = sorted(p.name for p in inbox.iterdir() if p.is_dir() and p.name.isdigit())
        have = f"tahun in the inbox: {', '.join(found)}" if found else "the inbox has no tahun folder"
        return f"{root}: no data for tahun {tahun} ({have}); pass tahun=... or put files under {root}/<kode_pemda>/"
    regions = sorted(p for p in root.iterdir() if p.is_dir() and (not pemda or p.name in pemda))
    if not regions:
        wanted = f"pemda {', '.join(pemda)}" if pemda else "any pemda"
        return f"{root}: no folder for {wanted}"
    wanted_folders = list(folders or FOLDER_LEVELS)
    unknown = [f for f in wanted_folders if f not in FOLDER_LEVELS]
    if unknown:
        return f"unknown level folder(s) {', '.join(unknown)}: use {', '.join(FOLDER_LEVELS)}"
    if any(_has_source_file(region / folder) for region in regions for folder in wanted_folders):
        return None
    return (
        f"{root}: no source file (.csv, .xlsx, .json) in the {'/'.join(wanted_folders)} folder(s) of "
        f"{', '.join(r.name for r in regions)}"
    )
