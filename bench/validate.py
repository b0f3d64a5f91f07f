"""Validation speed on 1,000,000 usulan: the contract's rules, vectorised as the pipeline runs them, beside the
same suite in Great Expectations on the same frame (why GX is the record, not the row-level rule engine), then
duplicate keys and every domain rule. Run: `python -m bench.validate [--workdir DIR]` after
`python -m bench.extract` has built the 1M-row CSV there."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from schemas import MAPPING_VERIFIED, USULAN
from tasks.extract.discover import files_frame
from tasks.extract.read import read_files
from tasks.map.context import MappingContext, region_frames
from tasks.map.mapping import map_level
from tasks.validate.contract import contract_issues, duplicate_key_issues
from tasks.validate.domain import domain_issues
from tasks.validate.level import SLICE


def timed(label: str, rows: int, func):
    start = time.perf_counter()
    result = func()
    seconds = time.perf_counter() - start
    print(f"{label:<52} {rows:>10,} rows {seconds:8.2f} s {rows / seconds:>12,.0f} rows/s")
    return result, seconds


def gx_issues(staged):
    """The contract suite run by Great Expectations on a pandas frame (COMPLETE result: the failing rows)."""
    import great_expectations as gx

    from schemas.expectations import build_suite

    frame = staged[USULAN.column_names].reset_index(drop=True)
    for c in USULAN.columns:
        if c.kind in ("float", "money", "int16", "int32", "int64"):
            frame[c.name] = frame[c.name].astype("float64")
    context = gx.get_context(mode="ephemeral")
    batch = context.data_sources.add_pandas("p").add_dataframe_asset("u").add_batch_definition_whole_dataframe("w")
    suite = context.suites.add(build_suite(USULAN))
    definition = context.validation_definitions.add(gx.ValidationDefinition(name="v", data=batch, suite=suite))
    return definition.run(batch_parameters={"dataframe": frame}, result_format={"result_format": "COMPLETE"})


def run(workdir: Path) -> None:
    extraction = read_files(files_frame([workdir / "desa_1m.csv"], workdir, "desa"))
    staged = extraction.rows.assign(run_id="bench")
    rows = len(staged)
    _, vectorised = timed("contract rules, vectorised (the pipeline)", rows, lambda: contract_issues(staged))
    gx_issues(staged.head(100))  # import GX and build its context outside the timing
    _, in_gx = timed("the same suite in Great Expectations (pandas)", rows, lambda: gx_issues(staged))
    timed("duplicate keys within a slice", rows, lambda: duplicate_key_issues(staged, within=SLICE))
    context = MappingContext(2025, region_frames(["18.02"], 2025), MAPPING_VERIFIED.empty_frame())
    mapped, _ = timed("(mapping, not validation)", rows, lambda: map_level(staged, context))
    frames = context.frames
    timed(
        "domain rules",
        rows,
        lambda: domain_issues(
            mapped,
            "desa",
            2025,
            frames.kamus,
            frames.opd_names,
            None,
            mapped.iloc[:0][["kode_desa"]].assign(text="", tahun=0),
        ),
    )
    print(f"Great Expectations / vectorised contract rules = {in_gx / vectorised:.1f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workdir", type=Path, default=Path("data/bench"))
    run(parser.parse_args().workdir)
