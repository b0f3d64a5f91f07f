"""`rkpd`: the command line of the pipeline."""

from __future__ import annotations

import os
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table as RichTable

from rkpd.settings import load_settings, quiet_services

app = typer.Typer(help="Musrenbang to RKPD data pipeline.", no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="Warehouse administration.", no_args_is_help=True)
app.add_typer(db_app, name="db")
review_app = typer.Typer(
    help="The review queue of usulan the pipeline could not map with confidence.", no_args_is_help=True
)
app.add_typer(review_app, name="review")
mapping_app = typer.Typer(help="The mapping of usulan to bidang urusan and OPD.", no_args_is_help=True)
app.add_typer(mapping_app, name="mapping")
reference_app = typer.Typer(
    help="Each pemda's own reference: OPD list, kamus usulan, Renja and pagu, versioned by tahun.",
    no_args_is_help=True,
)
app.add_typer(reference_app, name="reference")
EVAL_FILES = tuple(
    Path(__file__).resolve().parent.parent / "tests" / "data" / name
    for name in ("eval_usulan.csv", "eval_usulan_independen.csv")
)


def _reachable(warehouse_url: str) -> None:
    """Stop the command with one line (exit 4) when the warehouse cannot be reached."""
    from warehouse.db import unreachable

    if problem := unreachable(warehouse_url):
        console.print(f"[red]not started:[/red] {problem}", soft_wrap=True)
        raise typer.Exit(4)


def _engine(warehouse_url: str | None):
    from warehouse.db import create_engine
    from warehouse.migrate import upgrade

    warehouse_url = warehouse_url or load_settings().warehouse_url
    _reachable(warehouse_url)
    engine = create_engine(warehouse_url)
    upgrade(engine)
    return engine


def _models_dir() -> Path:
    return Path(os.environ.get("RKPD_MODELS_DIR") or load_settings().data_dir / "models")


def _classifier(tahun: int, pemda: str, verified=None):
    from tasks.map.classify import train_cached

    verified = verified if verified is not None and len(verified) else None
    return train_cached(tahun, pemda, verified, cache_dir=_models_dir())


console = Console(width=max(Console().width, 110))  # the run table needs room when piped


@app.command()
def sample(
    out: Path | None = typer.Option(None, help="Inbox folder to write (default: <data>/sample/inbox)"),
    tahun: int = typer.Option(2025, help="Tahun anggaran of the RKPD the forums plan"),
    pemda: list[str] = typer.Option(["18.02"], help="Kode pemda (repeat), or 'all' for national scale"),
    scale: bool = typer.Option(False, "--scale", help="All 514 kab/kota (about 2 million usulan)"),
    seed: int = typer.Option(42, help="Random seed: same seed, same files"),
    defect_rate: float = typer.Option(0.03, help="Share of rows with a planted defect"),
) -> None:
    """Generate realistic Musrenbang forum results of every level in the formats regions hand over."""
    import sample as generator

    out = out or load_settings().sample_inbox
    result = generator.generate(
        out, tahun=tahun, pemda=("all",) if scale else tuple(pemda), seed=seed, defect_rate=defect_rate
    )
    console.print(f"sample written to {out}")
    totals = result.get("totals", {})
    table = RichTable("level", "data rows", "expected quarantine")
    for level, t in totals.items():
        table.add_row(level, f"{t['data_rows']:,}", f"{t['expected_quarantine']:,}")
    console.print(table)


@app.command()
def run(
    tahun: int = typer.Option(..., help="Tahun anggaran to run"),
    inbox: Path | None = typer.Option(None, help="Inbox folder (default: <data>/inbox, or the sample inbox)"),
    pemda: list[str] | None = typer.Option(None, help="Only these kode pemda (repeat)"),
    lake: Path | None = typer.Option(None, help="Parquet lake folder (default: <data>/lake)"),
    warehouse_url: str | None = typer.Option(
        None, envvar="RKPD_WAREHOUSE_URL", help="Warehouse URL (default: SQLite file in <data>)"
    ),
    force: bool = typer.Option(False, "--force", help="Re-read slices even when nothing changed since their last load"),
    max_error_share: float = typer.Option(
        0.25, help="Stop (do not publish) a slice when more of its rows break an error rule than this share"
    ),
    severity: list[str] | None = typer.Option(
        None, help="Override a rule's severity, e.g. --severity alasan_missing=error (repeat)"
    ),
    level: list[str] | None = typer.Option(
        None, help="Only these level folders (repeat): desa, kecamatan, forum_opd, kabkota, provinsi, pokir"
    ),
    task_runner: str = typer.Option(
        "threads", help="Where files are read in parallel: threads (a local process pool) or dask"
    ),
    dask_address: str | None = typer.Option(None, help="Dask scheduler address (default: a local cluster)"),
    strict: bool = typer.Option(False, "--strict", help="Hold back a whole slice when one of its files cannot be read"),
    allow_empty: bool = typer.Option(
        False, "--allow-empty", help="Let a file that now holds only its header empty what it loaded before"
    ),
    wait: float = typer.Option(0, help="Seconds to wait for another run that holds the warehouse"),
    extracts: bool = typer.Option(True, help="Write the per-OPD extracts of every region after the load"),
) -> None:
    """Extract, validate, map and load every level of a tahun; print rows read/loaded/quarantined per level."""
    quiet_services()
    settings = load_settings()
    inbox = inbox or (settings.inbox if (settings.inbox / str(tahun)).exists() else settings.sample_inbox)
    if not (inbox / str(tahun)).is_dir():
        console.print(
            f"[red]{inbox / str(tahun)}: no inbox folder for tahun {tahun}[/red] "
            "(run `rkpd sample` for sample data, or put files under <inbox>/<tahun>/<kode_pemda>/<level>/)"
        )
        raise typer.Exit(2)
    from flows.annual import annual_run
    from rkpd.console import live_progress, print_report
    from tasks.load.runs import WarehouseBusy, warehouse_lock
    from tasks.validate.rules import RULES

    overrides = dict(item.split("=", 1) for item in severity or [])
    wrong = [f"{r}={v}" for r, v in overrides.items() if r not in RULES or v not in ("error", "warning")]
    if wrong:
        console.print(
            f"[red]unknown rule or severity:[/red] {', '.join(wrong)} (rules: {', '.join(RULES)})", soft_wrap=True
        )
        raise typer.Exit(2)
    _reachable(warehouse_url or settings.warehouse_url)
    try:
        with warehouse_lock(warehouse_url or settings.warehouse_url, wait):
            pass  # busy: refused here in one line, before a flow run starts (and logs its failure)
        with live_progress():
            report = annual_run(
                tahun=tahun,
                inbox=inbox,
                lake_root=lake or settings.lake,
                warehouse_url=warehouse_url or settings.warehouse_url,
                pemda=pemda or None,
                levels=level or None,
                force=force,
                max_error_share=max_error_share,
                severity=overrides,
                extracts=extracts,
                strict=strict,
                allow_empty=allow_empty,
                runner=task_runner,
                dask_address=dask_address,
                wait=wait,
            )
    except WarehouseBusy as busy:
        console.print(f"[red]not started:[/red] {busy}", soft_wrap=True)
        raise typer.Exit(3) from None
    print_report(report)
    if report.failures:
        raise typer.Exit(1)


@app.command()
def pull(
    url: str = typer.Option(..., help="listMonitor endpoint, e.g. https://.../api/usulan/usul_bantuan/listMonitor"),
    tahun: int = typer.Option(..., help="Tahun anggaran"),
    pemda: str = typer.Option(..., help="Kode pemda of the inbox folder, e.g. 18.02"),
    id_daerah: int = typer.Option(..., help="SIPD's internal id of the pemda (not the kode wilayah)"),
    folder: str = typer.Option(..., help="Inbox level folder: desa, kecamatan, forum_opd, kabkota, provinsi, pokir"),
    jenis: int = typer.Option(8, help="SIPD id_jenis_usul: 8 aspirasi masyarakat, 13 pokir"),
    inbox: Path | None = typer.Option(None, help="Inbox folder (default: <data>/inbox)"),
    api_key_env: str = typer.Option("SIPD_API_KEY", help="Environment variable that holds the API key"),
) -> None:
    """Pull every usulan of a SIPD-like API into the inbox (deduplicated pages) for the next run."""
    from schemas.sources import FOLDER_LEVELS
    from tasks.errors import SourceError
    from tasks.extract.api import ApiSource, pull_into_inbox

    if folder not in FOLDER_LEVELS:
        console.print(f"[red]unknown folder {folder!r}[/red]: use one of {', '.join(FOLDER_LEVELS)}")
        raise typer.Exit(2)
    source = ApiSource(url=url, tahun=tahun, id_daerah=id_daerah, id_jenis_usul=jenis, api_key_env=api_key_env)
    try:
        result = pull_into_inbox(source, inbox or load_settings().inbox, pemda, folder)
    except SourceError as exc:
        console.print(f"[red]pull failed:[/red] {exc}", soft_wrap=True)
        raise typer.Exit(1) from None
    console.print(
        f"{result.records:,} usulan in {len(result.files)} page file(s) "
        f"({result.requests_made} requests, {result.retries} retries, "
        f"{result.duplicates_dropped} repeated rows dropped)"
    )
    for note in result.notes:
        console.print(f"[yellow]note:[/yellow] {note}", soft_wrap=True)


@app.command()
def extracts(
    tahun: int = typer.Option(..., help="Tahun anggaran"),
    pemda: list[str] | None = typer.Option(None, help="Kode pemda (repeat); default: every pemda with usulan"),
    out: Path | None = typer.Option(None, help="Folder to write (default: <data>/extracts)"),
    run_id: str | None = typer.Option(None, help="Run id for the manifests (default: the tahun's latest run)"),
    warehouse_url: str | None = typer.Option(None, envvar="RKPD_WAREHOUSE_URL"),
) -> None:
    """Write each OPD's usulan (xlsx, csv, parquet + manifest.json) from the warehouse, per pemda."""
    import time

    from tasks.deliver.opd_extracts import pemdas_of, write_opd_extracts

    engine = _engine(warehouse_url)
    out = out or load_settings().data_dir / "extracts"
    regions = pemda or pemdas_of(engine, tahun)
    if not regions:
        console.print(f"[red]no usulan for tahun {tahun} in the warehouse[/red] (run `rkpd run` first)")
        raise typer.Exit(2)
    table = RichTable(
        "pemda", "OPD folders", "usulan", "anggaran (Rp)", "seconds", title=f"OPD extracts {tahun} -> {out}"
    )
    for kode in regions:
        started = time.perf_counter()
        manifests = write_opd_extracts(engine, tahun, kode, out, run_id=run_id)
        table.add_row(
            kode,
            str(len(manifests)),
            f"{sum(m['rows'] for m in manifests):,}",
            f"{sum(m['anggaran'] for m in manifests):,.0f}",
            f"{time.perf_counter() - started:.1f}",
        )
    console.print(table)


@review_app.command("export")
def review_export(
    tahun: int = typer.Option(..., help="Tahun anggaran"),
    pemda: str = typer.Option(..., help="Kode pemda, e.g. 18.02"),
    out: Path | None = typer.Option(
        None, help="Workbook to write (default: <data>/review/review_<pemda>_<tahun>.xlsx)"
    ),
    warehouse_url: str | None = typer.Option(None, envvar="RKPD_WAREHOUSE_URL"),
) -> None:
    """Export the usulan still unmapped, with the model's suggestion, for planners to correct in Excel."""
    import shlex

    from tasks.map.review import export_review, read_verified

    engine = _engine(warehouse_url)
    out = (out or load_settings().data_dir / "review" / f"review_{pemda.replace('.', '_')}_{tahun}.xlsx").resolve()
    command = f"rkpd review import {shlex.quote(str(out))} --pemda {pemda}"
    count = export_review(
        engine, tahun, pemda, out, _classifier(tahun, pemda, read_verified(engine, pemda)), command=command
    )
    console.print(f"{count:,} usulan to review written to {out}", soft_wrap=True)
    console.print(f"fill the yellow columns, save, then run:\n{command}", soft_wrap=True)


@review_app.command("import")
def review_import(
    path: Path = typer.Argument(..., help="The corrected review workbook"),
    pemda: str = typer.Option(..., help="Kode pemda, e.g. 18.02"),
    warehouse_url: str | None = typer.Option(None, envvar="RKPD_WAREHOUSE_URL"),
) -> None:
    """Import planners' corrections: they override the model on the next run and train it."""
    from tasks.errors import SourceError
    from tasks.map.review import import_review

    try:
        result = import_review(_engine(warehouse_url), path, pemda)
    except SourceError as exc:
        console.print(f"[red]not imported:[/red] {exc}", soft_wrap=True)
        raise typer.Exit(1) from None
    console.print(f"{result.imported:,} verified mapping(s) imported; the next `rkpd run` applies them")
    for problem in result.problems:
        console.print(f"[yellow]skipped:[/yellow] {problem}", soft_wrap=True)


@reference_app.command("import")
def reference_import(
    pemda: str = typer.Option(..., help="Kode pemda (kab/kota), e.g. 17.03"),
    tahun: int = typer.Option(..., help="Tahun anggaran from which the lists apply (an SOTK changes between years)"),
    opd: Path | None = typer.Option(None, help="SIPD list of perangkat daerah: kode SKPD, nama SKPD[, singkatan]"),
    kamus: Path | None = typer.Option(None, help="SIPD kamus usulan export (asmas and/or pokir)"),
    renja: Path | None = typer.Option(None, help="Renja/RKPD sub kegiatan per OPD (evidence of who carries what)"),
    pagu: Path | None = typer.Option(None, help="Pagu indikatif: jenis_pagu (opd/kecamatan), kode or nama, pagu"),
    warehouse_url: str | None = typer.Option(None, envvar="RKPD_WAREHOUSE_URL"),
) -> None:
    """Check a pemda's reference files (xlsx or csv) and import them for a tahun into its reference folder and
    the warehouse: every file or none."""
    from tasks.errors import ReferenceImportError
    from tasks.load.reference import import_reference

    files = {kind: path for kind, path in {"opd": opd, "kamus": kamus, "renja": renja, "pagu": pagu}.items() if path}
    settings = load_settings()
    try:
        result = import_reference(pemda, tahun, files, settings.reference_dir, _engine(warehouse_url))
    except ReferenceImportError as exc:
        console.print("[red]not imported[/red] (nothing was written):")
        for problem in exc.problems:
            console.print(f"  {problem}", soft_wrap=True, markup=False, highlight=False)
        raise typer.Exit(1) from None
    rows = ", ".join(f"{name} {count:,} rows" for name, count in result.rows.items())
    console.print(f"imported for {pemda} from tahun {tahun}: {rows} -> {result.folder}", soft_wrap=True)
    for note in result.notes:
        console.print(f"[yellow]note:[/yellow] {note}", soft_wrap=True)
    _print_status(pemda, tahun)


def _print_status(pemda: str, tahun: int) -> None:
    from reference import store

    status = store.reference_status(pemda, tahun)
    table = RichTable("list", "source", "version (tahun)", "file", title=f"reference of {pemda} for tahun {tahun}")
    for s in status.lists:
        table.add_row(s.name, s.source, str(s.tahun or ""), s.path or "")
    console.print(table)
    for notice in status.notices():
        console.print(f"[yellow]template:[/yellow] {notice}", soft_wrap=True)


@reference_app.command("status")
def reference_status(
    pemda: str = typer.Option(..., help="Kode pemda, e.g. 17.03"),
    tahun: int = typer.Option(..., help="Tahun anggaran"),
) -> None:
    """Which reference lists a pemda runs on for a tahun: its own (imported or shipped), the template's, or none."""
    _print_status(pemda, tahun)


@mapping_app.command("evaluate")
def mapping_evaluate(
    tahun: int = typer.Option(2026, help="Tahun anggaran (nomenclature, Renja and OPD master of that year)"),
    eval_file: list[Path] | None = typer.Option(
        None,
        help="Labelled usulan (uraian_usulan, kode_bidang_urusan, kode_opd; optionally kode_pemda, nama_kecamatan, "
        "kasus, bidang_alternatif, kewenangan); repeat. Default: both files in tests/data",
    ),
    per_bidang: bool = typer.Option(True, help="Print precision and recall per bidang"),
) -> None:
    """Map labelled usulan through `mapping predict` (the run's mapping) and print bidang top-1, the share
    auto-mapped and its precision, OPD accuracy, out-of-scope handling, the coverage/precision curve and
    precision and recall per bidang, per pemda."""
    import pandas as pd

    from tasks.map.evaluate import evaluate_mapping, format_mapping_report, pemda_of
    from tasks.map.predict import prediction_context

    for path in eval_file or list(EVAL_FILES):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        context = prediction_context(tahun, pemda_of(frame), None, _models_dir())
        report = evaluate_mapping(path.name, frame, context)
        console.print(format_mapping_report(report, per_bidang), soft_wrap=True, highlight=False)


@mapping_app.command("predict")
def mapping_predict(
    input_file: Path = typer.Argument(..., help="CSV or xlsx list with a text column 'uraian' (or an alias)"),
    pemda: str = typer.Option(..., help="Kode pemda whose reference (kamus, OPD, Renja) maps the list"),
    tahun: int = typer.Option(..., help="Tahun anggaran"),
    out: Path = typer.Option(..., help="CSV or xlsx to write: the input's columns plus the mapping"),
    warehouse_url: str | None = typer.Option(
        None, help="Also learn from this warehouse's verified corrections of the pemda (default: none)"
    ),
) -> None:
    """Map every row's text as a run would (kamus, jurisdiction, classifier, review), for planners to pre-map a
    list; rows that need review carry the best suggestion and the reason."""
    import time

    from tasks.errors import SourceError
    from tasks.map.predict import input_columns, predict_frame, prediction_context, read_list, write_list

    verified = None
    if warehouse_url:
        from tasks.map.review import read_verified

        verified = read_verified(_engine(warehouse_url), pemda)
    try:
        frame = read_list(input_file)
        found = input_columns(frame, input_file)
    except SourceError as exc:
        console.print(f"[red]not read:[/red] {exc}", soft_wrap=True)
        raise typer.Exit(1) from None
    context = prediction_context(tahun, [pemda], verified, _models_dir())
    started = time.perf_counter()
    result = predict_frame(frame, found, pemda, context)
    seconds = time.perf_counter() - started
    write_list(result, out)
    review = int(result["perlu_review"].sum())
    console.print(
        f"{len(result):,} usulan mapped in {seconds:.1f} s: {len(result) - review:,} mapped, {review:,} to review; "
        f"written to {out}",
        soft_wrap=True,
    )


@app.command()
def serve(
    data: Path | None = typer.Option(None, help="Data folder the served runs use (default: RKPD_DATA_DIR or ./data)"),
) -> None:
    """Serve every deployment of prefect.yaml from this process, without a worker, as `<flow>/<name>-serve`
    (schedules fire when a Prefect server runs: `prefect server start`, then set PREFECT_API_URL). Prints one
    line when each run starts and ends."""
    quiet_services()
    from prefect import serve as prefect_serve

    from flows.deployments import runner_deployments

    settings = load_settings()
    root = (data or settings.data_dir).resolve()
    if not os.environ.get("PREFECT_API_URL"):
        console.print(
            "[yellow]PREFECT_API_URL is not set:[/yellow] schedules only fire against a running "
            "server (`prefect server start`, then `export PREFECT_API_URL=http://127.0.0.1:4200/api`)",
            soft_wrap=True,
        )
    deployments = runner_deployments(
        overrides={
            "inbox": str(root / "inbox"),
            "lake_root": str(root / "lake"),
            "warehouse_url": os.environ.get("RKPD_WAREHOUSE_URL") or settings.warehouse_url,
        }
    )
    console.print(
        f"serving {len(deployments)} deployments on data {root}: "
        + ", ".join(f"{d.flow_name}/{d.name}" for d in deployments),
        soft_wrap=True,
    )
    prefect_serve(*deployments, print_starting_message=False)


@db_app.command("upgrade")
def db_upgrade(warehouse_url: str | None = typer.Option(None, envvar="RKPD_WAREHOUSE_URL")) -> None:
    """Create the warehouse or bring it to the newest schema."""
    from warehouse.db import create_engine
    from warehouse.migrate import upgrade

    url = warehouse_url or load_settings().warehouse_url
    upgrade(create_engine(url))
    console.print(f"warehouse at {url} is up to date")


if __name__ == "__main__":
    app()
