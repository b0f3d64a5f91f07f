"""Names to kode wilayah: variants and renames resolve, unknown names are quarantined with candidates."""

import pandas as pd

from reference import store
from tasks.extract.wilayah import WilayahResolver


def test_reference_has_all_of_indonesia_in_both_versions():
    w = store.wilayah()
    latest = w[w.versi == "kepmendagri-2025"]
    assert latest.tingkat.value_counts().to_dict() == {"desa": 83762, "kecamatan": 7285, "kabkota": 514, "provinsi": 38}
    lamteng = latest[latest.kode.str.startswith("18.02.")]
    assert (lamteng.tingkat == "kecamatan").sum() == 28 and (lamteng.tingkat == "desa").sum() == 311
    old = w[(w.versi == "kepmendagri-2022") & (w.kode == "18.02.17")].nama.item()
    assert old == "Way Pangubuan"


def test_resolves_variants_and_renames_and_names_candidates():
    resolver = WilayahResolver("18.02")
    staged = pd.DataFrame(
        {
            "nama_kecamatan": ["Kalirejo", "Way Pangubuan", "Way Pengubuan", "Kec. Gn. Sugih", "Kalirejo", None],
            "nama_desa": ["Sriwaylangsep", None, None, None, "Kalireejo", "SRI WAY LANGSEP"],
        }
    )
    out, issues = resolver.resolve(staged, desa_required=False)
    assert out.kode_kecamatan.tolist()[:4] == ["18.02.01", "18.02.17", "18.02.17", "18.02.04"]
    assert out.kode_desa.tolist()[0] == out.kode_desa.tolist()[5] == "18.02.01.2001"
    assert issues[["row", "rule", "field"]].values.tolist() == [[4, "wilayah_unknown", "nama_desa"]]
    assert "Kalirejo" in issues.reason_en.item() and "candidates" in issues.reason_en.item()
