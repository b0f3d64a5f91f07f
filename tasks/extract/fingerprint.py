"""Fingerprints: sha256 of every source file, of the pipeline's own code and data, and of each slice.

A slice's signature changes when any file of its forum changes (one forum's sources are deduplicated
together, so they are read together), when the pipeline's code or shipped reference data change, or when
what the run maps the pemda with changes (planners' verified corrections). A slice whose signature equals
that of its last publication is not read again.
"""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path

import pandas as pd

from tasks.extract.discover import PATH, SLICE

_PROJECT = Path(__file__).resolve().parents[2]
_INPUTS_OF_RESULT = ("schemas", "tasks", "reference", "warehouse")  # code and data a slice's rows depend on
FORUM = ("tahun", "level", "kode_pemda", "stream")  # the sources of one forum are deduplicated together


def file_fingerprint(path: Path | str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@lru_cache(maxsize=1)
def pipeline_fingerprint() -> str:
    """sha256 over the pipeline's code and shipped reference data (changes when rules or kamus change)."""
    digest = hashlib.sha256()
    for folder in _INPUTS_OF_RESULT:
        for path in sorted((_PROJECT / folder).rglob("*")):
            if path.is_file() and path.suffix in (".py", ".csv") and "__pycache__" not in path.parts:
                digest.update(path.relative_to(_PROJECT).as_posix().encode())
                digest.update(file_fingerprint(path).encode())
    return digest.hexdigest()


def fingerprint_files(files: pd.DataFrame, threads: int = 4) -> pd.Series:
    """sha256 of every file of a files frame (hashing releases the GIL, so threads read files in parallel)."""
    with ThreadPoolExecutor(threads) as pool:
        return pd.Series(list(pool.map(file_fingerprint, files[PATH])), index=files.index, dtype="string")


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def slice_signatures(files: pd.DataFrame, extra: pd.Series | None = None) -> pd.Series:
    """The signature of each file's slice (aligned with `files`, which holds `fingerprint`): the pipeline,
    `extra` per pemda (e.g. the fingerprint of its verified corrections), the slice key and every file of its
    forum with its fingerprint."""
    if files.empty:
        return pd.Series([], index=files.index, dtype="string")
    listing = files["source_file"] + "\0" + files["fingerprint"]
    forum = files.assign(_f=listing).sort_values("source_file").groupby(list(FORUM), sort=False)["_f"].agg("\n".join)
    forum_of = pd.MultiIndex.from_frame(files[list(FORUM)])
    extras = files["kode_pemda"].map(extra).fillna("") if extra is not None else pd.Series("", index=files.index)
    key = files[list(SLICE)].astype(str).agg("|".join, axis=1)
    base = pipeline_fingerprint()
    forum_files = forum.reindex(forum_of).to_numpy()
    return pd.Series(
        [_digest(base, e, k, f) for e, k, f in zip(extras, key, forum_files)], index=files.index, dtype="string"
    )
