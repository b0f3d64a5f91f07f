"""Pull every usulan of one SIPD-like `listMonitor` endpoint into JSON page files.

The pages are written in the shape the server sends (`{"success", "recordsTotal", "page", "pageSize",
"data"}`), so the pipeline's normal JSON reader (`tasks.extract.readers.read_json`) reads them.
Records are keyed by `id_usulan`: paging over a list that changes meanwhile can repeat or skip
records, so repeats are dropped and a short pass is followed by one more full pass.
The API key is read from an environment variable and is never stored, logged or written.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import random
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx

from tasks.errors import SourceError
from tasks.extract.readers import records_of

log = logging.getLogger(__name__)

PAGE_GLOB = "listMonitor_page_*.json"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
NETWORK_ERRORS = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)
MAX_RETRY_AFTER = 300.0  # seconds; a longer Retry-After is cut to this
MAX_PAGES_PER_PASS = 100_000  # guards against a server that never sends an empty page
ERROR_TEXT_CHARS = 200  # of an error page's text kept in the message


@dataclass
class ApiSource:
    """One endpoint and query: all usulan of one pemda, year and stream."""

    url: str  # full endpoint, e.g. https://sipd-ri.kemendagri.go.id/api/usulan/usul_bantuan/listMonitor
    tahun: int
    id_daerah: int  # SIPD's internal pemda id (not the Kemendagri code), e.g. 473
    id_jenis_usul: int = 8  # 8 asmas / musrenbang, 13 pokir
    level: str | None = None  # SIPD "level" filter
    page_size: int = 500
    api_key_env: str = "SIPD_API_KEY"  # name of the variable holding the key
    timeout_seconds: float = 30
    max_retries: int = 5
    backoff_seconds: float = 1.0


@dataclass
class PullResult:
    """What a pull did. Counters cover all passes."""

    pages_fetched: int = 0  # successful page responses
    requests_made: int = 0
    retries: int = 0
    records: int = 0  # distinct usulan written
    duplicates_dropped: int = 0  # rows identical to a row with the same id_usulan earlier in the same pass
    replaced: int = 0  # rows whose id_usulan came before with different content: the later one was kept
    passes: int = 0
    records_total: int | None = None  # the last recordsTotal the API reported
    files: list[Path] = field(default_factory=list)
    fingerprint: str = ""
    notes: list[str] = field(default_factory=list)  # what people should know (shifts, changed totals)


@dataclass
class _Pass:
    rows: int = 0
    totals: list[int] = field(default_factory=list)
    repeats: Counter = field(default_factory=Counter)


API_SOURCE_NAME = "sipd-api"  # the delivery sub-folder, and so the slice source, of pulled pages


def pull_into_inbox(source: ApiSource, inbox: Path, kode_pemda: str, folder: str, **kwargs) -> PullResult:
    """Pull into `<inbox>/<tahun>/<kode_pemda>/<folder>/sipd-api/`, where the run reads it as a slice,
    with `_pull.json` beside the pages: which endpoint and query they came from, when, and the counts."""
    out_dir = Path(inbox) / str(source.tahun) / kode_pemda / folder / API_SOURCE_NAME
    result = pull(source, out_dir, **kwargs)
    provenance = {
        "endpoint": source.url,
        "tahun": source.tahun,
        "id_daerah": source.id_daerah,
        "id_jenis_usul": source.id_jenis_usul,
        "level": source.level,
        "pulled_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "records": result.records,
        "records_total": result.records_total,
        "requests": result.requests_made,
        "retries": result.retries,
        "duplicates_dropped": result.duplicates_dropped,
        "notes": result.notes,
        "fingerprint": result.fingerprint,
        "files": [f.name for f in result.files],
    }
    (out_dir / "_pull.json").write_text(json.dumps(provenance, indent=1, ensure_ascii=False), encoding="utf-8")
    return result


def pull(
    source: ApiSource,
    out_dir: Path,
    *,
    client: httpx.Client | None = None,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
) -> PullResult:
    """Fetch all pages of `source`, deduplicate by id_usulan and write them to `out_dir`.

    Raises `SourceError(source.url, ...)` when the key is missing or refused, a page keeps failing,
    a response is not a record list, or records are still missing after a second pass.
    """
    key = os.environ.get(source.api_key_env, "").strip()
    if not key:
        raise SourceError(source.url, f"no API key: set the environment variable {source.api_key_env}")
    own = client is None
    client = client or httpx.Client(timeout=source.timeout_seconds)
    fetcher = _Fetcher(source, client, key, sleep, rng or random.Random(0))
    try:
        records: dict[str, dict] = {}
        first = _run_pass(fetcher, records)
        passes = [first]
        if first.totals and len(records) < first.totals[-1]:
            fetcher.result.notes.append(
                f"{first.totals[-1] - len(records)} records missing after the first pass "
                "(records moved between pages?): a second full pass was made"
            )
            passes.append(_run_pass(fetcher, records))
    finally:
        if own:
            client.close()
    result = fetcher.result
    result.passes = len(passes)
    _check_complete(source, records, passes, result)
    ordered = _sorted(records)
    result.records = len(ordered)
    result.files = _write_pages(ordered, Path(out_dir), source.page_size)
    result.fingerprint = fingerprint(ordered)
    return result


class _Fetcher:
    """POSTs one page with retries and turns the response into (records, recordsTotal)."""

    def __init__(self, source: ApiSource, client: httpx.Client, key: str, sleep, rng: random.Random):
        self.source, self.client, self.sleep, self.rng = source, client, sleep, rng
        self.headers = {"x-api-key": key, "Accept": "application/json"}
        self.result = PullResult()

    def page(self, page: int) -> tuple[list[dict], int | None]:
        src = self.source
        body = {
            "tahun": src.tahun,
            "id_daerah": src.id_daerah,
            "id_jenis_usul": src.id_jenis_usul,
            "page": page,
            "pageSize": src.page_size,
        }
        if src.level is not None:
            body["level"] = src.level
        last = ""
        for attempt in range(src.max_retries + 1):
            if attempt:
                self.result.retries += 1
            self.result.requests_made += 1
            try:
                response = self.client.post(src.url, json=body, headers=self.headers, timeout=src.timeout_seconds)
            except NETWORK_ERRORS as exc:
                last = f"{type(exc).__name__}"
                self._wait(page, attempt, last, None)
                continue
            status = response.status_code
            if status in (401, 403):
                raise SourceError(
                    src.url,
                    f"the API refused the key (HTTP {status}): check the environment variable {src.api_key_env}",
                )
            if status in RETRY_STATUSES:
                last = f"HTTP {status}{self._said(response)}"
                self._wait(page, attempt, last, response.headers.get("retry-after"))
                continue
            if status >= 400:
                raise SourceError(
                    src.url,
                    f"page {page}: the API answered HTTP {status} {response.reason_phrase}{self._said(response)}",
                )
            self.result.pages_fetched += 1
            return self._parse(page, response)
        raise SourceError(src.url, f"page {page}: gave up after {src.max_retries + 1} attempts (last: {last})")

    def _said(self, response: httpx.Response) -> str:
        """What the API's error answer says, on one line: its JSON message, or the words of an error page (tags
        and the key left out): ': upstream database timeout'."""
        try:
            payload = response.json()
            text = str(payload.get("message") or payload.get("error") or "") if isinstance(payload, dict) else ""
        except ValueError:
            text = re.sub(r"<[^>]*>", " ", response.text)
        words = " ".join(text.split()).replace(self.headers["x-api-key"], "***")
        return f": {words[:ERROR_TEXT_CHARS]}" if words else ""

    def _wait(self, page: int, attempt: int, reason: str, retry_after: str | None) -> None:
        if attempt >= self.source.max_retries:
            return
        delay = self.source.backoff_seconds * 2**attempt + self.rng.uniform(0, self.source.backoff_seconds / 4)
        if retry_after is not None:
            with contextlib.suppress(ValueError):  # an HTTP date: keep the backoff
                delay = min(max(0.0, float(retry_after)), MAX_RETRY_AFTER)
        log.warning(
            "SIPD API page %d: %s, retry %d of %d in %.2f s", page, reason, attempt + 1, self.source.max_retries, delay
        )
        self.sleep(delay)

    def _parse(self, page: int, response: httpx.Response) -> tuple[list[dict], int | None]:
        url = self.source.url
        try:
            payload = response.json()
        except ValueError:
            start = response.text[:40].strip().replace(self.headers["x-api-key"], "***")
            kind = response.headers.get("content-type", "no content type")
            raise SourceError(url, f"page {page}: the response is not JSON ({kind}, starts {start!r})") from None
        if isinstance(payload, dict) and payload.get("success") is False:
            raise SourceError(url, f"page {page}: the API reports failure: {payload.get('message', '')!r}")
        records = records_of(payload)
        if records is None:
            raise SourceError(url, f"page {page}: no record list in the response (expected 'data': [...])")
        for i, record in enumerate(records, 1):
            if not isinstance(record, dict) or record.get("id_usulan") in (None, ""):
                raise SourceError(url, f"page {page}: record {i} has no id_usulan")
        return records, _records_total(payload)


def _records_total(payload: object) -> int | None:
    for holder in (payload, payload.get("data") if isinstance(payload, dict) else None):
        if isinstance(holder, dict) and holder.get("recordsTotal") is not None:
            try:
                return int(holder["recordsTotal"])
            except (TypeError, ValueError):
                return None
    return None


def _run_pass(fetcher: _Fetcher, records: dict) -> _Pass:
    """One pass over all pages, merged into `records` (id -> record; a later different record wins)."""
    done, result, seen = _Pass(), fetcher.result, set()
    for page in range(1, MAX_PAGES_PER_PASS + 1):
        batch, total = fetcher.page(page)
        if total is not None:
            if done.totals and total != done.totals[-1]:
                result.notes.append(f"recordsTotal changed from {done.totals[-1]} to {total} at page {page}")
            done.totals.append(total)
            result.records_total = total
        if not batch:
            break
        done.rows += len(batch)
        for record in batch:
            ident = str(record["id_usulan"])
            if ident in seen:
                done.repeats[ident] += 1
            old = records.get(ident)
            if old is not None and _canonical(old) != _canonical(record):
                result.replaced += 1
            elif ident in seen:
                result.duplicates_dropped += 1
            seen.add(ident)
            records[ident] = record
        if done.totals and done.rows >= done.totals[-1]:
            break  # by row count, not by pageSize: servers may cap the page size
        if not done.totals and len(batch) < fetcher.source.page_size:
            break  # no recordsTotal: a short page is the last
    return done


def _check_complete(source: ApiSource, records: dict, passes: list[_Pass], result: PullResult) -> None:
    total = result.records_total
    missing = (total or 0) - len(records)
    if missing <= 0:
        return
    a, b = passes[0], passes[-1]
    steady = (
        len(passes) == 2
        and set(a.totals) == set(b.totals) == {total}
        and a.rows == b.rows == total
        and a.repeats == b.repeats
    )
    if steady:  # both passes saw the same rows, repeats included: the API itself lists some ids twice
        result.notes.append(f"the API lists {missing} rows whose id_usulan repeats another row; kept one each")
        return
    raise SourceError(
        source.url,
        f"{missing} of {total} records are missing after {len(passes)} passes "
        "(the list kept changing while it was paged); pull again later",
    )


def _canonical(record: dict) -> str:
    return json.dumps(record, ensure_ascii=False, sort_keys=True, default=str)


def _sorted(records: dict) -> list[dict]:
    numeric = all(k.isdigit() for k in records)
    return [records[k] for k in sorted(records, key=(lambda k: (int(k), k)) if numeric else None)]


def fingerprint(records: list[dict]) -> str:
    """sha256 over the sorted (id_usulan, updated_at) pairs and the content of all records."""
    keys = sorted((str(r["id_usulan"]), str(r.get("updated_at") or "")) for r in records)
    content = hashlib.sha256("\n".join(sorted(_canonical(r) for r in records)).encode()).hexdigest()
    return hashlib.sha256(json.dumps([keys, content]).encode()).hexdigest()


def _write_pages(records: list[dict], out_dir: Path, page_size: int) -> list[Path]:
    """Replace the listMonitor pages in `out_dir` (each written to a hidden temp name, then renamed)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files = []
    for number, start in enumerate(range(0, len(records), page_size), 1):
        payload = {
            "success": True,
            "message": "",
            "page": number,
            "pageSize": page_size,
            "recordsTotal": len(records),
            "data": records[start : start + page_size],
        }
        path = out_dir / f"listMonitor_page_{number:03d}.json"
        temp = out_dir / f".{path.name}.tmp"
        temp.write_bytes(json.dumps(payload, ensure_ascii=False, sort_keys=True).encode("utf-8"))
        os.replace(temp, path)
        files.append(path)
    for old in [*out_dir.glob(PAGE_GLOB), *out_dir.glob(f".{PAGE_GLOB}.tmp")]:
        if old not in files:
            old.unlink()
    return files
