"""A real SIPD-like HTTP test server on loopback: `POST .../listMonitor` with paging, key check and faults.

    with SipdServer(records, api_key="k", faults={(2, 1): 500}) as server:
        pull(ApiSource(server.url, ...), out_dir)
        server.requests  # every request: page, attempt, headers, body, status

Faults are keyed by (page, attempt), attempt = 1 for the first request of that page number over
the server's life (a second pass asks page 1 again as attempt 2). Values: an HTTP status (429 comes
with `Retry-After`), "slow" (a valid answer after `slow_seconds`), "garbage" (an HTML body with
HTTP 200), "drop" (close the connection without an answer), "no_list" (JSON without a record list).
`shift=(page, record)` inserts `record` at the front just before the first request of `page` is
served, so every later record moves one place and a page boundary repeats one record.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

PATH = "/api/usulan/usul_bantuan/listMonitor"


@dataclass
class Request:
    page: int | None
    attempt: int
    headers: dict[str, str]
    body: object
    status: int | str


def load_records(folder: Path) -> list[dict]:
    """The records of all listMonitor pages in a folder (as `sample.generate` writes them)."""
    records: list[dict] = []
    for path in sorted(Path(folder).glob("listMonitor_page_*.json")):
        records += json.loads(path.read_bytes())["data"]
    return records


class SipdServer:
    def __init__(
        self,
        records: list[dict],
        *,
        api_key: str = "test-key",
        faults: dict | None = None,
        shift: tuple[int, dict] | None = None,
        slow_seconds: float = 1.0,
        retry_after: str = "0",
        max_page_size: int | None = None,
        nested: bool = False,
        total_offset: int = 0,
    ):
        self.records = list(records)
        self.api_key, self.faults, self.shift = api_key, dict(faults or {}), shift
        self.slow_seconds, self.retry_after = slow_seconds, retry_after
        self.max_page_size, self.nested, self.total_offset = max_page_size, nested, total_offset
        self.requests: list[Request] = []
        self._attempts: Counter = Counter()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}{PATH}"

    def pages_requested(self) -> list[int | None]:
        return [r.page for r in self.requests]

    # --- lifecycle --------------------------------------------------------------------------------
    def start(self) -> SipdServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                server._handle(self)

            def log_message(self, *args) -> None:  # keep test output quiet
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._thread.join(timeout=5)

    def __enter__(self) -> SipdServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- one request ------------------------------------------------------------------------------
    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        raw = h.rfile.read(int(h.headers.get("Content-Length") or 0))
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw.decode("utf-8", "replace")
        page = body.get("page") if isinstance(body, dict) else None
        size = body.get("pageSize") if isinstance(body, dict) else None
        with self._lock:
            self._attempts[page] += 1
            attempt = self._attempts[page]
            if self.shift and page == self.shift[0] and attempt == 1:
                self.records.insert(0, self.shift[1])
            fault = self.faults.get((page, attempt))
            if h.path != PATH:
                fault = 404
            elif h.headers.get("x-api-key") != self.api_key:
                fault = 401
            elif not isinstance(page, int) or not isinstance(size, int) or page < 1 or size < 1:
                fault = 400
            request = Request(page, attempt, {k.lower(): v for k, v in h.headers.items()}, body, fault or 200)
            self.requests.append(request)
            if fault is None or fault == "slow":
                size = min(size, self.max_page_size or size)
                data = [dict(r) for r in self.records[(page - 1) * size : page * size]]
                total = len(self.records) + self.total_offset
        if fault == "drop":
            h.close_connection = True
            return
        if fault == "garbage":
            return self._send(h, 200, b"<html><body>Maintenance</body></html>", "text/html")
        if fault == "no_list":
            return self._send(h, 200, json.dumps({"success": True, "data": "none"}).encode(), "application/json")
        if isinstance(fault, int):
            headers = {"Retry-After": self.retry_after} if fault == 429 else {}
            message = {"success": False, "message": f"HTTP {fault}"}
            return self._send(h, fault, json.dumps(message).encode(), "application/json", headers)
        if fault == "slow" and self._stopping.wait(self.slow_seconds):
            return
        if self.nested:
            payload = {"success": True, "data": {"data": data, "recordsTotal": total}}
        else:
            payload = {
                "success": True,
                "message": "",
                "recordsTotal": total,
                "page": page,
                "pageSize": size,
                "data": data,
            }
        self._send(h, 200, json.dumps(payload, ensure_ascii=False).encode("utf-8"), "application/json")

    @staticmethod
    def _send(
        h: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str, headers: dict | None = None
    ) -> None:
        try:
            h.send_response(status)
            h.send_header("Content-Type", content_type)
            h.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                h.send_header(name, value)
            h.end_headers()
            h.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout): nothing to answer
