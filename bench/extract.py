"""Extraction speed: a 100,000-row SIPD workbook and a 1,000,000-row CSV, built by repeating the
sample region's rows, read and staged as the pipeline does; beside them the raw floors (calamine
cells, pyarrow CSV). Run: `python -m bench.extract [--workdir DIR]`."""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import pandas as pd
import pyarrow.csv as pacsv
import xlsxwriter

import sample
from tasks.extract.discover import files_frame
from tasks.extract.read import read_files
from tasks.extract.readers import read_source
from tasks.extract.wilayah import resolve_wilayah


def _grow(frame: pd.DataFrame, rows: int) -> pd.DataFrame:
    repeats = -(-rows // len(frame))
    big = pd.concat([frame] * repeats, ignore_index=True).iloc[:rows].copy()
    if "ID Usulan" in big:
        big["ID Usulan"] = [str(1_000_000_000 + i) for i in range(rows)]
    return big


def build_workbook(template: Path, out: Path, rows: int) -> None:
    raw = read_source(template)
    big = _grow(raw.cells, rows)
    workbook = xlsxwriter.Workbook(out, {"constant_memory": True})
    sheet = workbook.add_worksheet("Usulan")
    sheet.write_row(0, 0, ["DAFTAR USULAN HASIL MUSRENBANG KECAMATAN"])
    sheet.write_row(3, 0, list(big.columns))
    for i, row in enumerate(big.itertuples(index=False), start=4):
        sheet.write_row(i, 0, row)
    workbook.close()


def build_csv(template: Path, out: Path, rows: int) -> None:
    raw = read_source(template)
    _grow(raw.cells, rows).to_csv(out, sep=";", index=False, encoding="cp1252", errors="replace")


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(label: str, rows: int, func):
    start = time.perf_counter()
    result = func()
    seconds = time.perf_counter() - start
    print(
        f"{label:<48} {rows:>10,} rows {seconds:8.2f} s {rows / seconds:>12,.0f} rows/s  "
        f"(process peak RSS {peak_rss_mib():,.0f} MiB)"
    )
    return result


def run(workdir: Path) -> None:
    inbox = workdir / "inbox"
    sample.generate(inbox)
    pemda = inbox / "2025" / "18.02"
    xlsx, csv = workdir / "sipd_100k.xlsx", workdir / "desa_1m.csv"
    if not xlsx.exists():
        build_workbook(pemda / "kecamatan" / "sipd_usulan_kecamatan_2025.xlsx", xlsx, 100_000)
    if not csv.exists():
        build_csv(next((pemda / "desa").glob("*.csv")), csv, 1_000_000)
    for path, level, rows in ((xlsx, "kecamatan", 100_000), (csv, "desa", 1_000_000)):
        print(f"\n{path.name} ({path.stat().st_size / 2**20:.0f} MiB)")
        if path.suffix == ".xlsx":
            import python_calamine

            timed(
                "floor: calamine cells only",
                rows,
                lambda path=path: (
                    python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Usulan").to_python()
                ),
            )
        else:
            timed(
                "floor: pyarrow.csv.read_csv",
                rows,
                lambda path=path: pacsv.read_csv(
                    path,
                    parse_options=pacsv.ParseOptions(delimiter=";"),
                    read_options=pacsv.ReadOptions(encoding="cp1252"),
                ),
            )
        timed("read_source (text cells + provenance)", rows, lambda path=path: read_source(path))
        files = files_frame([path], workdir, level, source=path.suffix[1:])
        extraction = timed("read + stage (the read stage of one file)", rows, lambda files=files: read_files(files))
        timed(
            "resolve wilayah names",
            rows,
            lambda e=extraction, level=level: resolve_wilayah(e.rows, desa_required=level == "desa"),
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workdir", type=Path, default=Path("data/bench"))
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    run(args.workdir)
