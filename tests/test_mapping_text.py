"""The text side of the mapping (issue 17): fuzzy kamus match, jurisdiction, object over address, the review
decision, several pemda at once, template conventions, `rkpd mapping predict`, and the independent evaluation set.

The classifier is the session's 18.02 fit (cached under RKPD_MODELS_DIR); nothing here fits another region."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from reference import store
from tasks.map import kamus_match
from tasks.map.classify import model, training
from tasks.map.classify.normalise import Normaliser
from tasks.map.evaluate import evaluate_mapping, format_mapping_report
from tasks.map.kewenangan import jurisdiction
from tasks.map.predict import prediction_context
from tasks.map.text import LOW_CONFIDENCE, map_texts

INDEPENDENT = Path(__file__).parent / "data" / "eval_usulan_independen.csv"


def carried_by(kode_pemda: str, tahun: int) -> set[tuple[str, str]]:
    """(bidang, kode SKPD) pairs of the pemda's OPD list: which OPD carries which bidang."""
    opd = store.opd(kode_pemda, tahun)
    slots = opd.melt(id_vars="kode_skpd", value_vars=["bidang_urusan_1", "bidang_urusan_2", "bidang_urusan_3"])
    return set(zip(slots.value.dropna(), slots.kode_skpd[slots.value.notna()]))


@pytest.fixture(scope="module")
def classifier() -> model.Classifier:
    return model.train_cached(2025, "18.02", cache_dir=os.environ["RKPD_MODELS_DIR"])


@pytest.fixture(scope="module")
def independent() -> pd.DataFrame:
    return pd.read_csv(INDEPENDENT, dtype=str, keep_default_na=False)


def _map(texts: list[str], classifier: model.Classifier) -> pd.DataFrame:
    return map_texts(pd.DataFrame({"kode_pemda": "18.02", "uraian_usulan": texts}), 2025, {"18.02": classifier})


def test_a_residents_phrasing_of_a_kamus_item_matches_it(classifier):
    texts = [
        "Pembangunan lapangan volly ball utk pemuda dusun 3",  # K18020089 Pembangunan Lapangan Bola Voli
        "perbaikan lampu PJU yang mati",  # K18020082 Perbaikan Lampu Penerangan Jalan Umum (PJU) Rusak
        "bantuan bibit kambing utk kelompok peternak",  # two kambing entries score alike: ambiguous
    ]
    phrasings = set(training.kamus_phrases(store.kamus("18.02", 2025)).text.str.lower())
    assert not {t.lower() for t in texts} & phrasings  # not a phrasing the kamus already lists
    out = _map(texts, classifier)
    assert out.mapping_method.tolist()[:2] == ["kamus_fuzzy", "kamus_fuzzy"]
    assert out.id_kamus.tolist()[:2] == ["K18020089", "K18020082"]
    assert out.kode_bidang_urusan.tolist()[:2] == ["2.19", "2.15"]
    assert (out.mapping_confidence.iloc[:2] >= kamus_match.MIN_SCORE / 100).all()
    assert out.mapping_method.iloc[2] != "kamus_fuzzy" and pd.isna(out.id_kamus.iloc[2])  # left to the classifier


def test_the_fuzzy_match_is_right_on_the_kamus_itself():
    normaliser = Normaliser(training.keep_words(2025, "18.02"), training.place_names("18.02"))
    index = kamus_match.kamus_index("18.02", 2025, normaliser)
    figures = kamus_match.leave_one_out(index, kamus_match.MIN_SCORE, kamus_match.MARGIN)
    assert figures["texts"] > 700 and figures["matched"] > 0.3
    assert figures["right bidang"] == 1.0 and figures["right entry"] > 0.9


def test_a_national_road_proposal_goes_to_review_as_not_the_kabupatens(classifier):
    texts = [
        "perbaikan jalan nasional lintas timur yang berlubang dan sering makan korban",
        "peningkatan jalan provinsi ruas kalirejo - pringsewu",
        "pembangunan jembatan di ruas jalan provinsi",
        "pos ronda di pinggir jalan provinsi",  # the road is only where the pos ronda stands
        "jalan kampung yang tembus ke jalan nasional rusak berat",  # the kampung's road
    ]
    out = _map(texts, classifier)
    assert out.kewenangan.tolist() == ["pusat", "provinsi", "provinsi", "kabkota", "kabkota"]
    assert out.mapping_method.iloc[:3].isna().all() and out.kode_bidang_urusan.iloc[:3].isna().all()
    assert out.alasan_review.iloc[0].startswith("bukan kewenangan kabupaten/kota (kewenangan pusat: jalan nasional")
    assert out.alasan_review.iloc[1].startswith("bukan kewenangan kabupaten/kota (kewenangan provinsi: jalan provinsi")
    assert (out.saran_bidang_urusan.iloc[:3] == "1.03").all()


def test_jurisdiction_rules_read_the_object_not_the_address_nor_a_place_name():
    normaliser = Normaliser(training.keep_words(2025, "18.02"), training.place_names("18.02"))
    texts = pd.Series(
        {
            "sma": "rehab ruang kelas SMA negeri 1 seputih raman",
            "halte": "halte di depan sma negeri 1",
            "lulusan": "pelatihan komputer bagi lulusan SMA yang belum bekerja",
            "madrasah": "rehab gedung madrasah tsanawiyah",
            "diniyah": "bantuan madrasah diniyah dan tpq",
            "sertifikat": "sertifikat tanah gratis untuk warga",
            "halal": "sertifikasi halal produk umkm",
            "gajah": "revitalisasi pasar tradisional kota gajah",
            "bts": "pembangunan tower bts karena sinyal hilang",
            "tower_air": "sumur bor dan tower air untuk warga",
        }
    )
    out = jurisdiction(texts, normaliser)
    assert out.index.equals(texts.index)
    expected = {"sma": "provinsi", "madrasah": "pusat", "sertifikat": "pusat", "bts": "pusat"}
    assert out.kewenangan.to_dict() == {k: expected.get(k, "kabkota") for k in texts.index}
    assert out.alasan_review[out.kewenangan == "kabkota"].isna().all()
    assert "UU 23/2014" in out.alasan_review["sma"]


def test_a_text_naming_a_school_only_as_an_address_is_not_mapped_to_education(classifier):
    texts = [
        "perbaikan saluran air di depan SD Negeri 3 yang mampet",
        "pemasangan lampu jalan di jalan menuju SMP negeri 2",
        "pembangunan pos ronda di samping sekolah dasar",
        "rehab ruang kelas SD negeri 3 yang atapnya bocor",  # the school is the object here
    ]
    out = _map(texts, classifier)
    best = out.kode_bidang_urusan.fillna(out.saran_bidang_urusan)  # mapped, or the suggestion of a review row
    assert best.tolist() == ["1.03", "2.15", "2.13", "1.01"]
    assert out.mapping_method.iloc[1:].notna().all() and out.kode_bidang_urusan.iloc[:3].ne("1.01").all()


def test_review_rows_carry_the_reason_and_the_best_suggestion(classifier):
    texts = ["", "mohon bantuan", "pelatihan kader pkk tentang gizi keluarga", "pengadaan alat kesehatan puskesmas"]
    out = _map(texts, classifier)
    assert out.mapping_method.iloc[:3].isna().all() and out.mapping_method.iloc[3] == "klasifikasi"
    assert out.alasan_review.iloc[0] == "teks usulan kosong atau tanpa kata bermakna"
    assert out.alasan_review.iloc[1].startswith(LOW_CONFIDENCE)
    assert out.saran_bidang_urusan.iloc[1:3].notna().all() and out.kode_bidang_urusan.iloc[:3].isna().all()
    assert (out.mapping_confidence.iloc[1:3] < classifier.threshold).all()
    assert out.alasan_review.iloc[3] is pd.NA and out.kewenangan.tolist() == ["kabkota"] * 4
    assert out.mapping_version.iloc[3] == classifier.model_version
    assert (
        out.kode_bidang_alternatif.iloc[1:] != out.kode_bidang_urusan.iloc[1:].fillna(out.saran_bidang_urusan.iloc[1:])
    ).all()


@dataclass
class _Fixed:
    """A stand-in classifier: every text gets the same bidang; counts the texts it is asked about."""

    bidang: str
    normaliser: Normaliser
    threshold: float = 0.5
    model_version: str = "tetap"

    def __post_init__(self):
        self.seen: list[int] = []

    def predict_normalised(self, texts: pd.Series) -> pd.DataFrame:
        self.seen.append(len(texts))
        n = len(texts)
        return pd.DataFrame(
            {
                "kode_bidang_urusan": pd.array([self.bidang] * n, dtype="string"),
                "kode_sub_kegiatan": pd.array([None] * n, dtype="string"),
                "confidence": np.full(n, 0.9),
                "model_version": pd.array([self.model_version] * n, dtype="string"),
                "kode_bidang_alternatif": pd.array(["1.04"] * n, dtype="string"),
            },
            index=texts.index,
        )


def test_several_pemda_at_once_each_distinct_text_once():
    normaliser = Normaliser()
    lampung, bengkulu, metro = _Fixed("1.03", normaliser), _Fixed("3.28", normaliser), _Fixed("2.19", normaliser)
    frame = pd.DataFrame(
        {
            "kode_pemda": ["18.02", "17.03", "18.02", "17.03", "18.02", "18.72"],
            "uraian_usulan": [
                "jalan rusak",
                "jalan rusak",
                "jalan rusak",
                "hutan kota",
                "jalan nasional rusak",
                "voli",
            ],
        },
        index=[10, 11, 12, 13, 14, 15],
    )
    out = map_texts(frame, 2026, {"18.02": lampung, "17.03": bengkulu, "18.72": metro})
    assert out.index.equals(frame.index) and lampung.seen == [2] and bengkulu.seen == [2]
    # Kota Metro has neither kamus nor Renja of its own: no kamus entry speaks for it, the classifier decides
    assert out.loc[15, "mapping_method"] == "klasifikasi" and out.loc[15, "kode_bidang_urusan"] == "2.19"
    assert out.loc[[10, 12], "kode_bidang_urusan"].tolist() == ["1.03", "1.03"]
    # Bengkulu Utara has no OPD for kehutanan (3.28): review, never forced into a bidang it carries
    assert out.loc[[11, 13], "mapping_method"].isna().all()
    assert out.loc[13, "alasan_review"].startswith("bidang 3.28") and out.loc[13, "saran_bidang_urusan"] == "3.28"
    assert out.loc[14, "kewenangan"] == "pusat" and pd.isna(out.loc[14, "kode_bidang_urusan"])


def test_a_fuzzy_match_gives_way_to_a_classifier_sure_of_another_bidang():
    normaliser = Normaliser(training.keep_words(2025, "18.02"), training.place_names("18.02"))
    text = ["Pembangunan lapangan volly ball utk pemuda dusun 3"]  # K18020089, 2.19
    frame = pd.DataFrame({"kode_pemda": "18.02", "uraian_usulan": text})
    agrees = map_texts(frame, 2025, {"18.02": _Fixed("2.19", normaliser)})
    unsure = map_texts(frame, 2025, {"18.02": _Fixed("1.03", normaliser, threshold=0.95)})
    sure = map_texts(frame, 2025, {"18.02": _Fixed("1.03", normaliser)})  # 0.9 >= its threshold 0.5
    assert agrees.mapping_method.iloc[0] == unsure.mapping_method.iloc[0] == "kamus_fuzzy"
    assert agrees.kode_bidang_urusan.iloc[0] == unsure.kode_bidang_urusan.iloc[0] == "2.19"
    assert sure.mapping_method.iloc[0] == "klasifikasi" and sure.kode_bidang_urusan.iloc[0] == "1.03"
    assert pd.isna(sure.id_kamus.iloc[0])


def test_no_template_convention_where_the_regions_renja_says_otherwise():
    # Bengkulu Utara's Renja carries roads with PUPR's 1.03 sub kegiatan, not the template's Perkim PSU ones
    kamus = store.kamus("17.03", 2026)
    speaks = training.speaks_for(kamus, "17.03", 2026).set_axis(kamus.id_kamus)
    assert not speaks["K18020045"] and speaks["K18020103"]  # jalan lingkungan rabat beton / jalan usaha tani
    assert training.speaks_for(store.kamus("18.02", 2026), "18.02", 2026).all()
    rows = training.kamus_texts("17.03", 2026)
    assert set(rows.source[rows.group == "K18020045"]) == {"kamus_template"}
    # the region's evidence relabels a template entry it reads as another bidang, and leaves one it agrees with
    own = ["rehabilitasi jalan", "bangun jalan", "pelihara jalan", "bangun posyandu", "rehab posyandu"]
    texts = np.array([*own, "cor jalan gang", "rabat jalan lingkung", "bangun posyandu baru", "rehab posyandu rusak"])
    labels = np.array(["1.03", "1.03", "1.03", "1.02", "1.02", "1.04", "1.04", "1.02", "1.02"], dtype=object)
    groups = np.array(["", "", "", "", "", "K1", "K1", "K2", "K2"], dtype=object)
    template = groups != ""
    relabelled = model.region_labels(texts, labels, np.ones(len(texts)), groups, template, model.PARAMS)
    assert relabelled.tolist() == ["1.03"] * 3 + ["1.02"] * 2 + ["1.03", "1.03", "1.02", "1.02"]


def test_predict_writes_the_input_with_the_mapping(tmp_path, classifier):
    from rkpd.cli import app

    given = tmp_path / "daftar.csv"
    pd.DataFrame(
        {
            "No": ["1", "2", "3", "4"],
            "Uraian": [
                "perbaikan drainase depan SDN 2 yang meluap",
                "perbaikan jalan nasional yang berlubang",
                "lomba kampung tingkat kecamatan",
                "mohon bantuan",
            ],
            "Kecamatan": ["Kalirejo", "Kalirejo", "Bekri", "Bekri"],
            "Kode OPD": ["", "", "", ""],  # an OPD column of the list is not read
        }
    ).to_csv(given, index=False)
    out = tmp_path / "hasil.xlsx"
    result = CliRunner().invoke(
        app, ["mapping", "predict", str(given), "--pemda", "18.02", "--tahun", "2025", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "4 usulan mapped" in result.output
    written = pd.read_excel(out, dtype=str, engine="calamine")
    assert list(written.columns[:4]) == ["No", "Uraian", "Kecamatan", "Kode OPD"]
    assert list(written.columns[4:]) == [
        "kode_bidang_urusan", "nama_bidang_urusan", "kode_skpd", "nama_skpd", "kode_sub_kegiatan", "confidence",
        "mapping_method", "perlu_review", "alasan_review", "kode_bidang_alternatif", "kewenangan",
    ]  # fmt: skip
    assert written.kode_bidang_urusan[0] == "1.03" and written.kode_skpd[0] == "1.03.0.00.0.00.01.0000"
    assert written.perlu_review.tolist() == ["False", "True", "False", "True"]
    assert written.kewenangan[1] == "pusat" and written.alasan_review[1].startswith("bukan kewenangan")
    opd = store.opd("18.02", 2025)
    bekri = opd.kode_skpd[opd.kode_kecamatan == "18.02.15"].item()
    assert written.kode_bidang_urusan[2] == "7.01" and written.kode_skpd[2] == bekri  # the row's own kecamatan
    assert pd.notna(written.kode_bidang_urusan[3])  # review rows hold the best suggestion

    broken = tmp_path / "tanpa_teks.csv"
    broken.write_text("No,Lokasi\n1,dusun 2\n", encoding="utf-8")
    result = CliRunner().invoke(
        app, ["mapping", "predict", str(broken), "--pemda", "18.02", "--tahun", "2025", "--out", str(out)]
    )
    assert result.exit_code == 1 and "no text column" in result.output and "tanpa_teks.csv" in result.output


def test_independent_eval_set_is_large_labelled_and_covers_both_regions(independent):
    assert len(independent) >= 1500 and set(independent.kode_pemda) == {"18.02", "17.03"}
    assert not independent.uraian_usulan.str.lower().duplicated().any()
    assert set(independent.kasus) == {"jelas", "sulit", "alamat", "luar_kewenangan", "tidak_jelas"}
    hard = independent[independent.kasus == "sulit"]
    assert (hard.bidang_alternatif != "").all() and (hard.bidang_alternatif != hard.kode_bidang_urusan).all()
    scope = independent[independent.kasus.isin(["jelas", "sulit", "alamat"])]
    for kode_pemda, rows in scope.groupby("kode_pemda"):
        carried = carried_by(kode_pemda, 2026)
        assert all((b, o) in carried for b, o in zip(rows.kode_bidang_urusan, rows.kode_opd)), kode_pemda
    outside = independent[independent.kasus == "luar_kewenangan"]
    assert set(outside.kewenangan) == {"provinsi", "pusat"} and (outside.kode_opd == "").all()
    assert (independent.bagian.isin(["dev", "uji"])).all()


def test_independent_eval_set_is_not_training_data(independent):
    for kode_pemda, rows in independent.groupby("kode_pemda"):
        train = training.training_texts(2026, kode_pemda)
        assert not set(rows.uraian_usulan.str.lower().str.strip()) & set(train.text.str.lower().str.strip())


def test_evaluation_through_predict_reports_every_figure(classifier):
    frame = pd.DataFrame(
        {
            "kode_pemda": "18.02",
            "nama_kecamatan": "Kalirejo",
            "uraian_usulan": [
                "rehab ruang kelas sd yang bocor",
                "perbaikan jalan nasional",
                "-",
                "bibit padi utk poktan",
            ],
            "kode_bidang_urusan": ["1.01", "1.03", "", "3.27"],
            "kode_opd": ["1.01.2.22.0.00.01.0000", "", "", "3.27.0.00.0.00.01.0000"],
            "kasus": ["jelas", "luar_kewenangan", "tidak_jelas", "sulit"],
            "bidang_alternatif": ["", "", "", "2.09"],
            "kewenangan": ["kabkota", "pusat", "", "kabkota"],
            "bagian": ["dev", "uji", "uji", "uji"],
        }
    )
    context = prediction_context(2025, ["18.02"], None, Path(os.environ["RKPD_MODELS_DIR"]))
    assert context.classifiers["18.02"].model_version == classifier.model_version
    report = evaluate_mapping("kecil", frame, context)
    semua = report.summary.loc["semua"]
    assert semua["bidang top-1"] == 1.0 and semua["luar lingkup auto-mapped"] == 0.0
    assert semua["kewenangan luar dikenali"] == 1.0 and semua["OPD benar | bidang benar (auto)"] == 1.0
    assert report.curve.index[0] == 0.3 and set(report.per_bidang.index) == {"1.01", "3.27"}
    assert report.per_bagian["baris"].to_dict() == {"dev": 1, "uji": 3}
    assert report.per_bagian.loc["uji", "kewenangan luar dikenali"] == 1.0
    text = format_mapping_report(report)
    assert "per bidang" in text and "coverage/presisi" in text and "per bagian" in text
