"""What `rkpd run` shows in a terminal: a live table of the stages as they end (rows and rows per second), and
the run's counts at the end, in rows, with files counted apart. Times are Asia/Jakarta (WIB)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from flows import progress

WIB = ZoneInfo("Asia/Jakarta")
console = Console(width=max(Console().width, 110))  # the tables need room when piped


def wib(moment: datetime | None = None) -> str:
    """'2026-12-01 14:05 WIB'."""
    moment = moment or datetime.now(UTC)
    return f"{moment.astimezone(WIB):%Y-%m-%d %H:%M} WIB"


class _LiveSteps:
    """The stages of a run so far, redrawn as each ends; the current one below them."""

    def __init__(self) -> None:
        self.steps: list[progress.Step] = []
        self.now = ""
        self.started = wib()

    def __call__(self, event: progress.Step | str) -> None:
        if isinstance(event, progress.Step):
            self.steps.append(event)
            self.now = ""
        else:
            self.now = event

    def __rich__(self) -> Group:
        table = Table("level", "stage", "rows", "seconds", "rows/s", title=f"rkpd run, started {self.started}")
        for s in self.steps:
            rate = f"{s.rows / s.seconds:,.0f}" if s.rows and s.seconds > 0 else ""
            table.add_row(s.level, s.stage, "" if s.rows is None else f"{s.rows:,}", f"{s.seconds:.1f}", rate)
        return Group(table, Text(self.now, style="dim"))


@contextmanager
def live_progress() -> Iterator[None]:
    """Show the run's stages live in a terminal; elsewhere (piped, CI) print one line per stage."""
    if not console.is_terminal:
        with progress.use(lambda e: console.print(e.line() if isinstance(e, progress.Step) else e, soft_wrap=True)):
            yield
        return
    steps = _LiveSteps()
    with Live(steps, console=console, refresh_per_second=4, transient=False), progress.use(steps):
        yield


def print_report(report) -> None:
    """The run's counts per level and source (rows; files apart), and every file or slice not published."""
    table = Table(
        "level",
        "source",
        "rows read",
        "loaded",
        "quarantined",
        "failed",
        "held back",
        "files",
        "files failed",
        "files unchanged",
        title=f"run {report.run_id}, tahun {report.tahun}, ended {wib()}",
    )
    per_level = report.per_level()
    for r in per_level.itertuples(index=False):
        table.add_row(
            r.level,
            r.source,
            f"{r.rows_read:,}",
            f"{r.rows_loaded:,}",
            f"{r.rows_quarantined:,}",
            f"{r.rows_failed:,}",
            f"{r.rows_held_back:,}",
            f"{r.files:,}",
            f"{r.files_failed:,}",
            f"{r.files_unchanged:,}",
        )
    t = per_level.sum(numeric_only=True)
    table.add_row(
        "total",
        "",
        f"{t.rows_read:,}",
        f"{t.rows_loaded:,}",
        f"{t.rows_quarantined:,}",
        f"{t.rows_failed:,}",
        f"{t.rows_held_back:,}",
        f"{t.files:,}",
        f"{t.files_failed:,}",
        f"{t.files_unchanged:,}",
        style="bold",
    )
    console.print(table)
    if t.files_unchanged:
        console.print(
            f"{t.files_unchanged:,} file(s) unchanged since their last load were not read again (their "
            "rows are counted as in that load; use --force to re-read)",
            soft_wrap=True,
        )
    for note in report.notes:
        console.print(f"[yellow]note:[/yellow] {note}", soft_wrap=True)
    for message in report.failures:
        console.print(f"[red]not loaded:[/red] {message}", soft_wrap=True)
    held = report.files[report.files.load_status == "held_back"]
    for message in held.message.dropna().unique():
        console.print(f"[yellow]held back:[/yellow] {message}", soft_wrap=True)
    for message in report.ignored:
        console.print(f"[yellow]ignored:[/yellow] {message}", soft_wrap=True)
    if report.quality_page:
        console.print(f"quality report: {report.quality_page}", soft_wrap=True)
    if report.report_page:
        console.print(f"run report: {report.report_page}", soft_wrap=True)
    if report.extracts:
        where = Path(report.report_page).parent.parent / "extracts" if report.report_page else "extracts"
        console.print(f"OPD extracts: {len(report.extracts)} folder(s) under {where}", soft_wrap=True)
