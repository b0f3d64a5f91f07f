"""Safe output: values and file names escaped in the quality page and the Data Docs, CSV cells that never become
formulas, and the quality page's reasons with examples and error-share trend (times in Asia/Jakarta)."""

from __future__ import annotations

import csv
import datetime as dt

import pandas as pd
import pytest

from schemas import LOAD_LOG, QUARANTINE, RUN, USULAN
from tasks.deliver.data_docs import localise_page, sanitise_result
from tasks.deliver.opd_extracts import COLUMNS, write_csv
from tasks.deliver.quality_page import write_quality_page
from tasks.deliver.safe import neutralise_formula
from warehouse.bulk import upsert_rows
from warehouse.db import create_engine
from warehouse.migrate import upgrade

EVIL_FILE = "desa/usulan <img src=x onerror=alert(1)>.csv"
EVIL_VALUE = "<script>alert('kode_skpd')</script>"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ('=HYPERLINK("http://x","klik")', '\'=HYPERLINK("http://x","klik")'),
        ("+62 812", "'+62 812"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Jalan Merdeka = 2 km", "Jalan Merdeka = 2 km"),
    ],
)
def test_formula_starts_are_neutralised(text, shown):
    assert neutralise_formula(text) == shown


def test_opd_extract_csv_writes_no_live_formula(tmp_path):
    row = {name: None for name, _, _ in COLUMNS}
    row.update(id_usulan="1802", uraian_usulan='=HYPERLINK("http://evil","klik")', alasan="@cmd", anggaran=-0.0)
    row.update(lokasi="-1+1", nama_desa="Kalirejo", volume=75.0, level="desa")
    path = tmp_path / "x.csv"
    write_csv(path, pd.DataFrame([row]))
    with open(path, encoding="utf-8-sig", newline="") as handle:
        record = next(csv.DictReader(handle, delimiter=";"))
    assert record["Uraian Usulan"] == '\'=HYPERLINK("http://evil","klik")'
    assert (record["Alasan"], record["Lokasi"], record["Desa/Kelurahan"]) == ("'@cmd", "'-1+1", "Kalirejo")
    assert record["Volume"] == "75"  # numbers stay numbers


def _warehouse(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'w.sqlite'}")
    upgrade(engine)
    key = {"tahun": 2025, "kode_pemda": "18.02", "level": "desa", "source": "csv"}
    runs, logs = [], []
    for i, (run_id, read, out) in enumerate((("2025-a", 100, 10), ("2025-b", 100, 4))):
        started = dt.datetime(2026, 1, 5 + i, 19, 30, tzinfo=dt.UTC)  # 02:30 WIB the next day
        runs.append({"run_id": run_id, "tahun": 2025, "started_at": started, "run_status": "success"})
        logs.append(
            {**key, "run_id": run_id, "source_file": EVIL_FILE, "rows_read": read, "rows_loaded": read - out,
             "rows_quarantined": out, "rows_failed": 0, "load_status": "loaded", "loaded_at": started}
        )  # fmt: skip
    logs.append(
        {**key, "source": "json", "run_id": "2025-b", "source_file": "desa/x.json", "rows_read": 0, "rows_loaded": 0,
         "rows_quarantined": 0, "rows_failed": 3, "load_status": "failed", "loaded_at": started,
         "message": f"{EVIL_FILE}: not a workbook <b>bold</b>"}
    )  # fmt: skip
    upsert_rows(engine, RUN, pd.DataFrame(runs))
    upsert_rows(engine, LOAD_LOG, pd.DataFrame(logs))
    quarantine = [
        {**key, "run_id": "2025-b", "quarantine_id": i, "source_file": EVIL_FILE, "source_row": 10 + i,
         "rule": rule, "field": field, "value": value, "severity": "error", "reason_id": reason, "reason_en": "x"}
        for i, (rule, field, value, reason) in enumerate(
            [("kode_skpd_pattern", "kode_opd_awal", EVIL_VALUE, "kode SKPD <tidak> sah")] * 4
            + [("kontak_format", "kontak_pengusul", "0812-PRIBADI", "nomor kontak tidak sah")]
        )
    ]  # fmt: skip
    upsert_rows(engine, QUARANTINE, pd.DataFrame(quarantine))
    return engine


def test_quality_page_escapes_file_names_and_values_and_shows_reasons_and_trend(tmp_path):
    engine = _warehouse(tmp_path)
    page = write_quality_page(engine, "2025-b", tmp_path / "quality").read_text(encoding="utf-8")
    engine.dispose()
    assert "<img src=x" not in page and "<script>alert" not in page and "<b>bold" not in page
    assert "usulan &lt;img src=x onerror=alert(1)&gt;.csv" in page
    assert "&lt;script&gt;alert(" in page  # the value, shown as text
    assert "kode SKPD &lt;tidak&gt; sah" in page
    assert page.count("baris 1") >= 3  # examples: file and row of the first rows of the reason
    assert "0812-PRIBADI" not in page  # a personal field's value is never an example
    assert "mulai / started 2026-01-07 02:30:00 WIB" in page  # the run's start in Asia/Jakarta
    assert "10,00%" in page and "4,00%" in page  # the error share of both runs of the tahun
    trend = page[page.index("Tren porsi") :]
    assert trend.index("2025-a") < trend.index("<b>2025-b</b>")  # oldest first, this run in bold


def test_data_docs_results_keep_few_escaped_examples_and_no_personal_value():
    result = {
        "results": [
            {
                "expectation_config": {"kwargs": {"column": "kode_opd_awal"}},
                "result": {
                    "partial_unexpected_list": [EVIL_VALUE] * 30,
                    "partial_unexpected_counts": [{"value": EVIL_VALUE, "count": 30}],
                    "unexpected_list": [EVIL_VALUE] * 30,
                    "unexpected_index_list": list(range(30)),
                    "unexpected_count": 30,
                },
            },
            {
                "expectation_config": {"kwargs": {"column": USULAN.personal_columns[0]}},
                "result": {"partial_unexpected_list": ["Siti"], "partial_unexpected_counts": [{"value": "Siti"}]},
            },
        ]
    }
    assert sanitise_result(result) and not sanitise_result(result)  # once only: never escaped twice
    first, personal = (r["result"] for r in result["results"])
    assert first["partial_unexpected_list"] == ["&lt;script&gt;alert(&#x27;kode_skpd&#x27;)&lt;/script&gt;"] * 5
    assert first["partial_unexpected_counts"][0]["value"].startswith("&lt;script&gt;")
    assert "unexpected_list" not in first and "unexpected_index_list" not in first and first["unexpected_count"] == 30
    assert personal["partial_unexpected_list"] == [] and personal["partial_unexpected_counts"] == []


def test_data_docs_pages_load_shipped_libraries_only():
    page = (
        '<link rel="stylesheet" href="https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css"/>\n'
        '<script src="https://cdn.jsdelivr.net/npm/vega@5"></script>\n'
        '<script src="https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js" integrity="sha384-x"'
        ' crossorigin="anonymous"></script>\n'
        '<img src="https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/logo-long.png?d=1" alt="GX">\n'
        '<a href="https://greatexpectations.io">GX</a>'
    )
    out, removed = localise_page(page, "../../")
    assert removed == ["https://cdn.jsdelivr.net/npm/vega@5"]
    assert '<link rel="stylesheet" href="../../static/vendor/css/bootstrap.min.css"/>' in out
    assert '<script src="../../static/vendor/js/bootstrap.min.js"></script>' in out and "integrity" not in out
    assert 'src="../../static/images/logo-long.png"' in out and "vega" not in out
    assert '<a href="https://greatexpectations.io">' in out  # a link to follow is not a resource to load
