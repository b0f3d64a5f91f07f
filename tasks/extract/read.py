"""Read and stage the files of one level: in worker processes for large levels, inline for small ones.

`read_files` is the unit of parallel work: it reads a chunk of files (each into raw text cells), maps each
file's headers onto the contract, and parses the whole chunk at once. `start_reading` splits a level's
files into chunks of similar size and submits them to an executor (a local process pool, or a Dask cluster
through its `concurrent.futures` executor: the same code either way), so a level can be read while the
level before it is worked on; `finish_reading` concatenates the chunks into one frame whose rows keep their
file, slice and row number. A file that cannot be read is recorded with one line naming it and the problem,
and the other files go on.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from schemas import USULAN
from tasks.errors import SourceError
from tasks.extract.discover import FILE_ID, PATH, SIZE
from tasks.extract.readers import read_source
from tasks.extract.staging import KEY, concat_fields, file_fields, stage_fields
from tasks.validate.issues import concat_issues, issues_frame

RAW_POS = "raw_pos"  # position of a staged row in its file's raw cells
FILE_RESULT_COLUMNS = (FILE_ID, "rows_read", "rows_failed", "message")
PAGE_COLUMNS = (FILE_ID, "page", "page_size", "records_total", "rows_read")  # API pages read
INLINE_BYTES = 8 << 20  # a level smaller than this is read in the calling process (no worker start-up)
CHUNKS_PER_WORKER = 4  # chunks of similar size per worker, so one slow chunk does not idle the others


@dataclass(frozen=True)
class Extraction:
    """What reading files gives: staged rows, their parse issues, each file's counts, and the raw cells."""

    rows: pd.DataFrame  # usulan contract columns + FILE_ID + RAW_POS; index 0..n-1
    issues: pd.DataFrame  # issues frame (tasks.validate.issues); `row` is the index of `rows`
    files: pd.DataFrame  # FILE_RESULT_COLUMNS: one row per file read
    raw: dict[int, pa.Table] = field(default_factory=dict)  # file_id -> the cells as read, original headers
    pages: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(PAGE_COLUMNS)))
    notes: list[str] = field(default_factory=list)  # what people should know though nothing failed

    def raw_records(self, rows: pd.Index) -> list[dict]:
        """The cells as read of staged `rows` (empty cells left out), to show people what the row said."""
        at = self.rows.loc[rows, [FILE_ID, RAW_POS]]
        out: dict[int, dict] = {}
        for file_id, group in at.groupby(FILE_ID, sort=False):
            table = self.raw[int(file_id)].take(pa.array(group[RAW_POS].to_numpy(dtype=np.int64)))
            for row, record in zip(group.index, table.to_pylist()):
                out[row] = {k: v for k, v in record.items() if v}
        return [out[r] for r in rows]


def _empty() -> pd.DataFrame:
    return USULAN.empty_frame().assign(**{FILE_ID: pd.Series(dtype="int64"), RAW_POS: pd.Series(dtype="int64")})


def read_files(files: pd.DataFrame) -> Extraction:
    """Read and stage a chunk of files of one level (one row per file of a files frame)."""
    fields, raws, results, problems, pages, offset = [], {}, [], [], [], 0
    for f in files.itertuples(index=False):
        file_id = int(getattr(f, FILE_ID))
        try:
            raw = read_source(Path(getattr(f, PATH)))
            part = file_fields(raw, {k: getattr(f, k) for k in KEY}, f.source_file)
        except SourceError as exc:
            results.append((file_id, 0, 0, f"{f.source_file}: {exc.problem}"))
            continue
        n = part.num_rows
        fields.append(
            part.append_column(FILE_ID, pa.array(np.full(n, file_id, dtype=np.int64))).append_column(
                RAW_POS, pa.array(np.arange(n, dtype=np.int64))
            )
        )
        raws[file_id] = raw.table
        results.append((file_id, n, 0, None))
        problems += [(offset + at, rule, detail) for at, rule, detail in raw.problems]
        offset += n
        if raw.page is not None:
            pages.append((file_id, raw.page.number, raw.page.size, raw.page.records_total, n))
    file_results = pd.DataFrame(results, columns=list(FILE_RESULT_COLUMNS))
    page_frame = pd.DataFrame(pages, columns=list(PAGE_COLUMNS))
    if not fields:
        return Extraction(_empty(), concat_issues([]), file_results, raws, page_frame)
    chunk = concat_fields(fields)
    staged, issues = stage_fields(chunk, str(files["level"].iloc[0]))
    issues = with_reader_problems(issues, problems)
    staged[FILE_ID] = chunk[FILE_ID].to_numpy()
    staged[RAW_POS] = chunk[RAW_POS].to_numpy()
    return Extraction(staged, issues, file_results, raws, page_frame)


def with_reader_problems(issues: pd.DataFrame, problems: list[tuple[int, str, str]]) -> pd.DataFrame:
    """The parse issues with what the readers found in single records ((row, rule, detail) per problem). A
    malformed record's cells are not what its columns say, so its parse issues are dropped: it is quarantined
    as malformed, once."""
    if not problems:
        return issues
    found = pd.DataFrame(problems, columns=["row", "rule", "detail"])
    malformed = found.loc[found["rule"] == "malformed_record", "row"]
    kept = issues[~issues["row"].isin(malformed)]
    reader = [issues_frame(g["row"], rule, None, None, g["detail"]) for rule, g in found.groupby("rule", sort=False)]
    return concat_issues([kept, *reader]).sort_values("row", kind="stable", ignore_index=True)


def concat_extractions(parts: list[Extraction]) -> Extraction:
    """One extraction from several: rows renumbered, issues pointing at the new row numbers."""
    parts = [p for p in parts if p is not None]
    offsets = np.cumsum([0] + [len(p.rows) for p in parts])
    rows = [p.rows for p in parts if len(p.rows)]
    issues = [
        p.issues.assign(row=p.issues["row"].to_numpy() + start) for p, start in zip(parts, offsets) if len(p.issues)
    ]
    raw = {k: v for p in parts for k, v in p.raw.items()}
    files = [p.files for p in parts if len(p.files)]
    pages = [p.pages for p in parts if len(p.pages)]
    return Extraction(
        pd.concat(rows, ignore_index=True) if rows else _empty(),
        concat_issues(issues),
        pd.concat(files, ignore_index=True) if files else pd.DataFrame(columns=list(FILE_RESULT_COLUMNS)),
        raw,
        pd.concat(pages, ignore_index=True) if pages else pd.DataFrame(columns=list(PAGE_COLUMNS)),
    )


def chunks(files: pd.DataFrame, workers: int) -> list[pd.DataFrame]:
    """The files in file order cut into about CHUNKS_PER_WORKER * workers runs of similar total size: the
    chunks' rows, put one after the other, are in file order (a large file alone makes a run of its own)."""
    if files.empty:
        return []
    ordered = files.sort_values(FILE_ID, kind="stable")
    count = max(1, min(len(files), CHUNKS_PER_WORKER * workers))
    sizes = ordered[SIZE].to_numpy(dtype=np.float64)
    middle = (np.cumsum(sizes) - sizes / 2) * count / max(sizes.sum(), 1.0)  # where each file's bytes sit
    run = np.minimum(middle.astype(np.int64), count - 1)
    return [part for _, part in ordered.groupby(run, sort=True)]


def missing_pages(files: pd.DataFrame, pages: pd.DataFrame) -> list[str]:
    """One line per slice of API pages whose listing is not all there: the pages absent and the records that
    recordsTotal counts but no page read holds ('pages 2, 4 of 4 are missing: 20 of 40 records')."""
    if pages.empty:
        return []
    at = pages.merge(files[[FILE_ID, *KEY]], on=FILE_ID)
    notes = []
    for key, group in at.groupby(list(KEY), sort=False):
        total, size = int(group["records_total"].max()), int(group["page_size"].max())
        expected = set(range(1, -(-total // size) + 1))
        absent = sorted(expected - set(group["page"].astype(int)))
        short = total - int(group["rows_read"].sum())
        if not absent and short <= 0:
            continue
        k = dict(zip(KEY, key))
        where = f"{k['kode_pemda']} {k['level']}/{k['source']}"
        which = f"page(s) {', '.join(map(str, absent))} of {len(expected)} missing" if absent else "no page missing"
        notes.append(f"{where}: {which}: {max(short, 0)} of {total} records (recordsTotal) are not in the inbox")
    return notes


class Reading:
    """The files of a level on their way: their chunks submitted to an executor (`start_reading`), or left to
    be read inline when collected (a small level, or no executor). Started ahead, a level is read on the
    workers while the calling process works on the level before it."""

    def __init__(self, files: pd.DataFrame, futures: list[Future] | None) -> None:
        self.files, self.inline, self._futures = files, futures is None, list(futures or ())

    def chunks_read(self) -> list[Extraction]:
        """The chunks the workers read, once: the reading lets go of them (the level's frame holds the rows)."""
        futures, self._futures = self._futures, []
        if not futures:
            raise RuntimeError("this level's reading was collected already")
        return [future.result() for future in futures]

    def cancel(self) -> None:
        """Give up the chunks not started yet (a run that stops)."""
        for future in self._futures:
            future.cancel()


def start_reading(files: pd.DataFrame, executor: Executor | None, workers: int = 1) -> Reading:
    """Submit a level's files to `executor` in chunks of similar size; a small level (or no executor) is read
    inline by `finish_reading`."""
    if executor is None or files.empty or int(files[SIZE].sum()) < INLINE_BYTES:
        return Reading(files, None)
    return Reading(files, [executor.submit(read_files, chunk) for chunk in chunks(files, workers)])


def finish_reading(reading: Reading) -> Extraction:
    """The level's extraction: rows in file order; `notes` name slices of API pages that are not complete."""
    files = reading.files
    if files.empty:
        return concat_extractions([])
    read = read_files(files) if reading.inline else concat_extractions(reading.chunks_read())
    return replace(read, notes=[*read.notes, *missing_pages(files, read.pages)])


def extract_level(files: pd.DataFrame, executor: Executor | None, workers: int = 1) -> Extraction:
    """Read and stage the files of one level: on `executor` in chunks, or inline when it is small or there is
    no executor."""
    return finish_reading(start_reading(files, executor, workers))


@contextmanager
def local_pool(workers: int | None = None) -> Iterator[Executor]:
    """A process pool for reading files, started from a fork server that has imported the readers once."""
    workers = workers or os.cpu_count() or 2
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["tasks.extract.read"])
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        yield pool
