"""The SIPD API client against a real HTTP server on loopback (tests/sipd_server.py)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import httpx
import pytest
from sipd_server import SipdServer, load_records

from tasks.errors import SourceError
from tasks.extract.api import ApiSource, pull
from tasks.extract.readers import read_source

KEY = "s3cr3t-KEY-4f9a"


@pytest.fixture(scope="module")
def rows(sample_inbox: Path) -> dict[str, list[dict]]:
    """Recorded SIPD rows of the sample region: forum_opd (planted duplicate rows included) and pokir."""
    root = sample_inbox / "2025" / "18.02"
    return {level: load_records(root / level) for level in ("forum_opd", "pokir")}


def unique(records: list[dict]) -> list[dict]:
    return list({r["id_usulan"]: r for r in records}.values())


@pytest.fixture
def sipd(monkeypatch):
    """Start a SipdServer (same arguments) with the right key in SIPD_API_KEY; stopped after the test."""
    servers = []
    monkeypatch.setenv("SIPD_API_KEY", KEY)

    def start(records, **kwargs) -> SipdServer:
        server = SipdServer(records, api_key=KEY, **kwargs).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def source(server: SipdServer, **kwargs) -> ApiSource:
    options = {
        "tahun": 2025,
        "id_daerah": 473,
        "page_size": 100,
        "timeout_seconds": 2,
        "max_retries": 3,
        "backoff_seconds": 0.01,
    } | kwargs
    return ApiSource(server.url, **options)


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def ids_of(files: list[Path]) -> list[int]:
    return [int(i) for f in files for i in read_source(f).cells["id_usulan"]]


def assert_no_key(result, out: Path) -> None:
    for path in out.iterdir():
        assert KEY.encode() not in path.read_bytes()


# --- clean pulls ----------------------------------------------------------------------------------
def test_clean_pull_writes_every_record_once(rows, sipd, tmp_path):
    records = unique(rows["forum_opd"])
    server = sipd(records)
    result = pull(source(server, page_size=500, level="skpd"), tmp_path, sleep=Sleeps())

    expected = sorted(r["id_usulan"] for r in records)
    assert result.records == len(expected) == 1747
    assert (result.pages_fetched, result.requests_made, result.retries, result.passes) == (4, 4, 0, 1)
    assert result.duplicates_dropped == result.replaced == 0 and result.records_total == len(expected)
    assert [f.name for f in result.files] == [f"listMonitor_page_{i:03d}.json" for i in range(1, 5)]
    assert sorted(p.name for p in tmp_path.iterdir()) == [f.name for f in result.files]
    assert ids_of(result.files) == expected
    for i, path in enumerate(result.files):
        table = read_source(path)
        assert table.source_row.tolist() == list(range(1, len(table.cells) + 1))
        page = json.loads(path.read_bytes())
        assert (page["page"], page["pageSize"], page["recordsTotal"]) == (i + 1, 500, len(expected))
    by_id = {r["id_usulan"]: r for r in records}
    assert all(r == by_id[r["id_usulan"]] for f in result.files for r in json.loads(f.read_bytes())["data"])

    first = server.requests[0]
    assert first.body == {
        "tahun": 2025,
        "id_daerah": 473,
        "id_jenis_usul": 8,
        "level": "skpd",
        "page": 1,
        "pageSize": 500,
    }
    assert first.headers["x-api-key"] == KEY and first.headers["accept"] == "application/json"
    assert server.pages_requested() == [1, 2, 3, 4]
    assert_no_key(result, tmp_path)


def test_nested_envelope_and_capped_page_size(rows, sipd, tmp_path):
    """{"data": {"data": [...], "recordsTotal"}} and a server that serves 100 when asked for 500."""
    records = unique(rows["pokir"])
    server = sipd(records, nested=True, max_page_size=100)
    result = pull(source(server, page_size=500, id_jenis_usul=13), tmp_path)
    assert ids_of(result.files) == sorted(r["id_usulan"] for r in records)
    assert server.pages_requested() == [1, 2, 3] and server.requests[0].body["id_jenis_usul"] == 13
    assert "level" not in server.requests[0].body


def test_unchanged_pull_is_byte_identical_and_replaces_old_pages(rows, sipd, tmp_path):
    records = unique(rows["pokir"])
    server = sipd(records)
    (tmp_path / "listMonitor_page_007.json").write_text("{}")
    (tmp_path / "keep.csv").write_text("x")
    first = pull(source(server), tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.csv", *[f.name for f in first.files]]
    before = {f.name: f.read_bytes() for f in first.files}

    server.records.reverse()  # same data in another order
    second = pull(source(server), tmp_path, rng=random.Random(7))
    assert second.fingerprint == first.fingerprint
    assert {f.name: f.read_bytes() for f in second.files} == before

    server.records[0] = dict(server.records[0], anggaran=1)
    assert pull(source(server), tmp_path).fingerprint != first.fingerprint
    smaller = pull(source(server, page_size=200), tmp_path)  # fewer pages: the extra old page goes
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.csv", *[f.name for f in smaller.files]]


# --- faults ---------------------------------------------------------------------------------------
def test_429_500_slow_and_dropped_pages_are_retried(rows, sipd, tmp_path):
    records = unique(rows["pokir"])
    server = sipd(
        records, faults={(1, 1): 429, (2, 1): 500, (2, 2): 500, (3, 1): "slow", (3, 2): "drop"}, slow_seconds=2
    )
    sleeps = Sleeps()
    result = pull(source(server, timeout_seconds=0.3, backoff_seconds=0.5), tmp_path, sleep=sleeps)

    assert ids_of(result.files) == sorted(r["id_usulan"] for r in records)
    assert (result.retries, result.requests_made, result.pages_fetched) == (5, 8, 3)
    assert server.pages_requested() == [1, 1, 2, 2, 2, 3, 3, 3]
    assert [r.status for r in server.requests] == [429, 200, 500, 500, 200, "slow", "drop", 200]
    assert sleeps[0] == 0  # Retry-After: 0 honoured
    assert 0.5 <= sleeps[1] <= 0.5 * 1.25 and 1.0 <= sleeps[2] <= 1.0 + 0.5 * 0.25  # exponential backoff
    assert 0.5 <= sleeps[3] <= 0.625 and 1.0 <= sleeps[4] <= 1.125
    assert_no_key(result, tmp_path)


def test_page_that_keeps_failing_names_the_page(rows, sipd, tmp_path):
    server = sipd(unique(rows["pokir"]), faults={(2, n): 503 for n in range(1, 10)})
    sleeps = Sleeps()
    with pytest.raises(SourceError) as err:
        pull(source(server, max_retries=2), tmp_path, sleep=sleeps)
    assert "page 2" in err.value.problem and "HTTP 503" in err.value.problem and "3 attempts" in err.value.problem
    assert err.value.path == server.url
    assert server.pages_requested() == [1, 2, 2, 2] and len(sleeps) == 2
    assert list(tmp_path.iterdir()) == []  # nothing written on failure


@pytest.mark.parametrize("fault, words", [("garbage", "not JSON"), ("no_list", "no record list"), (404, "HTTP 404")])
def test_unusable_answer_is_not_retried(rows, sipd, tmp_path, fault, words):
    server = sipd(unique(rows["pokir"]), faults={(2, 1): fault})
    with pytest.raises(SourceError, match=words) as err:
        pull(source(server), tmp_path, sleep=Sleeps())
    assert "page 2" in err.value.problem and server.pages_requested() == [1, 2]


def test_an_error_page_keeps_its_own_text_on_one_line(monkeypatch, tmp_path):
    """The API answers an HTML error page: the message keeps what it says (tags gone, one line, no key)."""
    monkeypatch.setenv("SIPD_API_KEY", KEY)
    page = f"<html><body>\n<h1>502 Bad Gateway</h1>\n<p>upstream SIPD database timeout ({KEY})</p></body></html>"
    answer = httpx.MockTransport(lambda request: httpx.Response(502, text=page, headers={"content-type": "text/html"}))
    url = "http://sipd.test/api/usulan/usul_bantuan/listMonitor"
    with httpx.Client(transport=answer) as client, pytest.raises(SourceError) as err:
        pull(ApiSource(url, 2025, 473, max_retries=1), tmp_path, client=client, sleep=Sleeps())
    problem = err.value.problem
    assert "page 1" in problem and "HTTP 502: 502 Bad Gateway upstream SIPD database timeout (***)" in problem
    assert "\n" not in problem and "<" not in problem and KEY not in problem
    with (
        httpx.Client(
            transport=httpx.MockTransport(lambda r: httpx.Response(400, json={"message": "tahun salah"}))
        ) as c,
        pytest.raises(SourceError, match="HTTP 400 Bad Request: tahun salah"),
    ):
        pull(ApiSource(url, 2025, 473), tmp_path, client=c, sleep=Sleeps())


def test_wrong_key_fails_at_once_without_leaking_it(rows, sipd, tmp_path, monkeypatch):
    server = sipd(unique(rows["pokir"]))
    monkeypatch.setenv("SIPD_API_KEY", "wrong-" + KEY)
    with pytest.raises(SourceError) as err:
        pull(source(server), tmp_path, sleep=Sleeps())
    text = str(err.value)
    assert "HTTP 401" in text and "SIPD_API_KEY" in text and KEY not in text
    assert len(server.requests) == 1


def test_missing_key_variable_fails_before_any_request(rows, sipd, tmp_path, monkeypatch):
    server = sipd(unique(rows["pokir"]))
    with pytest.raises(SourceError, match="RKPD_SIPD_KEY"):
        pull(source(server, api_key_env="RKPD_SIPD_KEY"), tmp_path)
    assert server.requests == []


# --- shifting lists and duplicates ----------------------------------------------------------------
def test_shift_between_pages_triggers_second_pass(rows, sipd, tmp_path):
    records = unique(rows["pokir"])
    new = dict(records[0], id_usulan=91802099999, detail_gagasan="USULAN BARU")
    server = sipd(records, shift=(2, new))
    result = pull(source(server), tmp_path, sleep=Sleeps())

    ids = ids_of(result.files)
    assert ids == sorted({r["id_usulan"] for r in records} | {new["id_usulan"]}) and len(ids) == len(set(ids))
    assert result.passes == 2 and server.pages_requested() == [1, 2, 3, 1, 2, 3]
    assert result.duplicates_dropped == 1 and result.records == result.records_total == len(records) + 1
    assert any("recordsTotal changed" in n for n in result.notes)
    assert any("second full pass" in n for n in result.notes)


def test_records_still_missing_after_second_pass(rows, sipd, tmp_path):
    server = sipd(unique(rows["pokir"]), total_offset=3)  # claims 3 more than it serves
    with pytest.raises(SourceError, match="3 of 252 records are missing after 2 passes"):
        pull(source(server), tmp_path, sleep=Sleeps())
    assert list(tmp_path.iterdir()) == []


def test_duplicate_rows_in_the_api_itself(rows, sipd, tmp_path):
    """The sample's planted duplicate rows: two passes agree, so one of each is kept, not an error."""
    records = rows["forum_opd"]
    server = sipd(records)
    result = pull(source(server, page_size=500), tmp_path)
    assert result.passes == 2 and result.duplicates_dropped == 16  # 8 repeated rows, seen in both passes
    assert ids_of(result.files) == sorted({r["id_usulan"] for r in records})
    assert any("repeats another row" in n for n in result.notes)


def test_same_id_with_other_content_keeps_the_later(rows, sipd, tmp_path):
    records = unique(rows["pokir"])
    changed = dict(records[5], anggaran=123)
    server = sipd([*records, changed])  # the last page repeats record 5 with another anggaran
    result = pull(source(server), tmp_path)
    kept = [
        r for f in result.files for r in json.loads(f.read_bytes())["data"] if r["id_usulan"] == changed["id_usulan"]
    ]
    assert kept == [changed] and result.replaced >= 1


def test_pull_command_feeds_the_annual_run(prefect_server, sipd, rows, tmp_path):
    """`rkpd pull` writes the API's usulan into the inbox; the next run loads them as their own slice."""
    from typer.testing import CliRunner

    from flows.annual import annual_run
    from rkpd.cli import app
    from warehouse.db import create_engine

    server = sipd(rows["pokir"], faults={(1, 1): 429})
    inbox = tmp_path / "inbox"
    result = CliRunner().invoke(
        app,
        [
            "pull",
            "--url",
            server.url,
            "--tahun",
            "2025",
            "--pemda",
            "18.02",
            "--id-daerah",
            "473",
            "--folder",
            "pokir",
            "--jenis",
            "13",
            "--inbox",
            str(inbox),
        ],
    )
    assert result.exit_code == 0, result.output
    expected = len(unique(rows["pokir"]))
    assert f"{expected:,} usulan" in result.output and "1 retries" in result.output
    pulled = inbox / "2025" / "18.02" / "pokir" / "sipd-api"
    assert sorted(p.name for p in pulled.iterdir()) == ["_pull.json", "listMonitor_page_001.json"]
    assert json.loads((pulled / "_pull.json").read_text())["endpoint"] == server.url

    url = f"sqlite:///{tmp_path / 'w.sqlite'}"
    report = annual_run(tahun=2025, inbox=inbox, lake_root=tmp_path / "lake", warehouse_url=url, extracts=False)
    assert report.balanced and not report.failures
    line = report.files.iloc[0]
    assert (line.level, line.source, line.rows_read) == ("kabkota", "pokir-sipd-api", expected)
    with create_engine(url).connect() as connection:
        stream = connection.exec_driver_sql("SELECT DISTINCT stream FROM usulan").scalars().all()
    assert stream == ["pokir"] and line.rows_loaded + line.rows_quarantined == expected

    bad = CliRunner(env={"SIPD_API_KEY": "wrong"}).invoke(
        app,
        [
            "pull",
            "--url",
            server.url,
            "--tahun",
            "2025",
            "--pemda",
            "18.02",
            "--id-daerah",
            "473",
            "--folder",
            "pokir",
            "--inbox",
            str(inbox),
        ],
    )
    assert bad.exit_code == 1 and "HTTP 401" in bad.output and "SIPD_API_KEY" in bad.output
    assert "wrong" not in bad.output and "Traceback" not in bad.output
