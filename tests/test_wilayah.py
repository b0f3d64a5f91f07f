"""Names to kode wilayah: variants and renames resolve, unknown names are quarantined with candidates."""

import pandas as pd

from reference import store
from tasks.extract.wilayah import resolve_wilayah


def test_reference_has_all_of_indonesia_in_both_versions():
    w = store.wilayah()
    latest = w[w.versi == "kepmendagri-2025"]
    assert latest.tingkat.value_counts().to_dict() == {"desa": 83762, "kecamatan": 7285, "kabkota": 514, "provinsi": 38}
    lamteng = latest[latest.kode.str.startswith("18.02.")]
    assert (lamteng.tingkat == "kecamatan").sum() == 28 and (lamteng.tingkat == "desa").sum() == 311
    old = w[(w.versi == "kepmendagri-2022") & (w.kode == "18.02.17")].nama.item()
    assert old == "Way Pangubuan"


def test_resolves_variants_and_renames_and_names_candidates():
    staged = pd.DataFrame(
        {
            "kode_pemda": ["18.02"] * 6 + ["18.72", "18.72", "18.02"],
            "nama_kecamatan": [
                "Kalirejo",
                "Way Pangubuan",
                "Way Pengubuan",
                "Kec. Gn. Sugih",
                "Kalirejo",
                None,
                "Metro Pusat",
                None,
                "Metro Pusat",
            ],
            "nama_desa": [
                "Sriwaylangsep",
                None,
                None,
                None,
                "Kalireejo",
                "SRI WAY LANGSEP",
                "Kel. Hadimulyo Timur",
                "Yosodadi",
                None,
            ],
        }
    )
    out, issues = resolve_wilayah(staged, desa_required=False)
    assert out.kode_kecamatan.tolist()[:4] == ["18.02.01", "18.02.17", "18.02.17", "18.02.04"]
    assert out.kode_desa.tolist()[0] == out.kode_desa.tolist()[5] == "18.02.01.2001"
    # one level, several regions: names resolve within their own pemda only
    assert out.kode_desa.tolist()[6:8] == ["18.72.01.1002", "18.72.04.1001"]
    assert issues[["row", "rule", "field"]].values.tolist() == [
        [4, "wilayah_unknown", "nama_desa"],
        [8, "wilayah_unknown", "nama_kecamatan"],
    ]
    assert "Kalirejo" in issues.reason_en.iloc[0] and "candidates" in issues.reason_en.iloc[0]
    assert "candidates" not in issues.reason_en.iloc[1]  # none near in 18.02: candidates come from its own pemda
