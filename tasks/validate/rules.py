"""The rule catalogue: every check the pipeline applies, its default severity and readable reasons.

Severity "error" keeps a row out of the facts (quarantine); "warning" loads it with the rule id in
`quality_flags`. Severities can be overridden per run (`ValidationConfig.severity`).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Rule:
    severity: str  # default: error or warning
    reason_id: str  # Indonesian; {field}, {value}, {detail} are filled in
    reason_en: str


RULES: dict[str, Rule] = {
    # reading and parsing (extract step)
    "empty_row": Rule("error", "Baris kosong, tidak ada isian", "Empty row, nothing filled in"),
    "not_a_number": Rule(
        "error", "Kolom {field} berisi '{value}', bukan angka", "Field {field} holds '{value}', not a number"
    ),
    "bad_date": Rule(
        "error", "Kolom {field} berisi '{value}', bukan tanggal", "Field {field} holds '{value}', not a date"
    ),
    "unknown_status": Rule("error", "Status '{value}' tidak dikenal", "Status '{value}' is not a known decision"),
    "malformed_record": Rule(
        "error",
        "Baris rusak, kolomnya tidak sesuai dengan header ({detail})",
        "Malformed record, its fields do not match the header ({detail})",
    ),
    "encoding_fallback": Rule(
        "warning",
        "Baris ini bukan UTF-8 seperti bagian lain berkas, dibaca sebagai Windows-1252 ({detail})",
        "This line is not UTF-8 like the rest of the file and was read as Windows-1252 ({detail})",
    ),
    "tahun_mismatch": Rule(
        "error",
        "Sumber menyebut tahun {value}, padahal folder tahun {detail}",
        "The source says tahun {value} but its folder is tahun {detail}",
    ),
    "wilayah_unknown": Rule(
        "error",
        "{field} '{value}' tidak ditemukan di kode wilayah{detail}",
        "{field} '{value}' is not in the kode wilayah list{detail}",
    ),
    "wilayah_ambiguous": Rule(
        "error",
        "{field} '{value}' cocok dengan lebih dari satu wilayah: {detail}",
        "{field} '{value}' matches more than one area: {detail}",
    ),
    # the contract (Great Expectations suite generated from schemas/)
    "missing_value": Rule("error", "Kolom wajib {field} kosong", "Required field {field} is empty"),
    "not_in_set": Rule(
        "error",
        "Nilai '{value}' pada {field} tidak termasuk pilihan yang sah",
        "Value '{value}' of {field} is not an allowed value",
    ),
    "bad_format": Rule(
        "error", "Format {field} '{value}' tidak sesuai", "Field {field} '{value}' has the wrong format"
    ),
    "out_of_range": Rule(
        "error", "{field} = {value} di luar rentang wajar{detail}", "{field} = {value} is out of range{detail}"
    ),
    "too_long": Rule("error", "{field} terlalu panjang", "{field} is too long"),
    "duplicate_key": Rule(
        "error",
        "Usulan {value} tercatat lebih dari sekali pada forum yang sama",
        "Usulan {value} appears more than once in the same forum",
    ),
    # domain rules
    "wilayah_not_in_force": Rule(
        "error",
        "Kode wilayah {value} tidak berlaku pada tahun {detail}",
        "Kode wilayah {value} is not in force in tahun {detail}",
    ),
    "bidang_unknown": Rule(
        "error",
        "Bidang urusan {value} tidak ada dalam nomenklatur tahun {detail}",
        "Bidang urusan {value} is not in the nomenclature of tahun {detail}",
    ),
    "sub_kegiatan_unknown": Rule(
        "warning",
        "Sub kegiatan {value} tidak ada dalam nomenklatur tahun {detail}",
        "Sub kegiatan {value} is not in the nomenclature of tahun {detail}",
    ),
    "satuan_unknown": Rule("warning", "Satuan '{value}' tidak dikenal", "Satuan '{value}' is not a known unit"),
    "volume_missing": Rule(
        "warning",
        "Volume kosong atau nol, padahal kamus {detail} memerlukan volume",
        "Volume is empty or zero although kamus {detail} needs one",
    ),
    "anggaran_implausible": Rule(
        "warning",
        "Anggaran Rp {value} tidak wajar untuk volume x harga satuan kamus{detail}",
        "Anggaran Rp {value} is implausible for volume x kamus unit price{detail}",
    ),
    "prioritas_duplicate": Rule(
        "warning",
        "Prioritas {value} dipakai lebih dari sekali dalam forum {detail}",
        "Prioritas {value} is used more than once in forum {detail}",
    ),
    "duplicate_text": Rule(
        "warning",
        "Usulan yang sama sudah tercatat di desa yang sama ({detail})",
        "The same usulan is already recorded for the same desa ({detail})",
    ),
    "repeat_accepted": Rule(
        "warning", "Usulan ini sudah diterima pada tahun {detail}", "This usulan was already accepted in tahun {detail}"
    ),
    "duplicate_source": Rule(
        "error",
        "Usulan yang sama sudah dimuat dari sumber lain forum ini ({detail}); dihitung sekali",
        "The same usulan is already loaded from another source of this forum ({detail}); it is counted once",
    ),
    "lineage_missing": Rule(
        "error",
        "Usulan asal {value} tidak ditemukan di forum {detail}",
        "The source usulan {value} is not found at the {detail} forum",
    ),
    "alasan_missing": Rule("warning", "Usulan ditolak tanpa alasan", "Usulan rejected without a reason"),
}


@dataclass(frozen=True)
class ValidationConfig:
    """Per-run settings: severity overrides and the error share that stops a slice (applied to slices
    of at least `min_rows_to_stop` rows; a short annex with one bad row is not stopped)."""

    max_error_share: float = 0.25
    severity: dict[str, str] = field(default_factory=dict)
    min_rows_to_stop: int = 20

    def severity_of(self, rule: str) -> str:
        return self.severity.get(rule, RULES[rule].severity)
