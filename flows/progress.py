"""Progress of a run, stage by stage and level by level, with rows per second.

The flow reports each stage as it ends (`report`); where the report goes is up to whoever runs the flow:
by default a log line per stage (what a scheduled run shows in Prefect's logs), and in a terminal `rkpd run`
installs a live table (see rkpd/cli.py) with `use`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

log = logging.getLogger("rkpd.progress")


@dataclass(frozen=True)
class Step:
    level: str  # forum level, or "run" for the steps of the whole run
    stage: str
    rows: int | None
    seconds: float

    @property
    def rate(self) -> str:
        if not self.rows or self.seconds <= 0:
            return ""
        return f"{self.rows / self.seconds:,.0f} rows/s"

    def line(self) -> str:
        rows = f"{self.rows:,} rows " if self.rows is not None else ""
        return f"{self.level}: {self.stage} {rows}in {self.seconds:.1f} s {self.rate}".rstrip()


def _log(step: Step | str) -> None:
    log.info(step.line() if isinstance(step, Step) else step)


_sink: Callable[[Step | str], None] = _log


def report(step: Step | str) -> None:
    """Tell whoever watches the run that a step ended (a Step) or what the run is doing now (a text)."""
    _sink(step)


@contextmanager
def use(sink: Callable[[Step | str], None]) -> Iterator[None]:
    """Send the run's progress to `sink` meanwhile."""
    global _sink
    previous, _sink = _sink, sink
    try:
        yield
    finally:
        _sink = previous


@dataclass
class Counter:
    rows: int | None = None  # set by the block: how many rows the stage handled


@contextmanager
def timed(level: str, stage: str, rows: int | None = None) -> Iterator[Counter]:
    """Report `stage` of `level` when the block ends, with its rows (given here, or set by the block on the
    counter it receives)."""
    report(f"{level}: {stage} ...")
    counter = Counter(rows)
    started = time.perf_counter()
    yield counter
    report(Step(level, stage, counter.rows, time.perf_counter() - started))
