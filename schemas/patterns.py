"""Formats of the codes the pipeline carries. Codes are always text, never numbers."""

KODE_PROVINSI = r"^\d{2}$"
KODE_PEMDA = r"^\d{2}\.\d{2}$"  # kabupaten/kota, PP.KK
KODE_KECAMATAN = r"^\d{2}\.\d{2}\.\d{2}$"
KODE_DESA = r"^\d{2}\.\d{2}\.\d{2}\.[12]\d{3}$"  # VVVV: 1xxx kelurahan, 2xxx desa
KODE_WILAYAH = r"^\d{2}(?:\.\d{2}(?:\.\d{2}(?:\.[12]\d{3})?)?)?$"
KODE_BIDANG = r"^(?:\d\.\d{2}|X\.XX)$"
# U.BB.PP.K.KK.SSSS (4-digit sub kegiatan since Kepmendagri 050-5889/2021; 2 digits before)
KODE_SUB_KEGIATAN = r"^(?:\d\.\d{2}|X\.XX)\.\d{2}\.\d\.\d{2}\.(?:\d{2}|\d{4})$"
KODE_NOMENKLATUR = r"^(?:\d|X)(?:\.(?:\d{2}|XX)(?:\.\d{2}(?:\.\d\.\d{2}(?:\.(?:\d{2}|\d{4}))?)?)?)?$"
# SIPD kode SKPD: bidang-1 . bidang-2 . bidang-3 . unit . sub-unit
KODE_SKPD = r"^\d\.\d{2}\.\d\.\d{2}\.\d\.\d{2}\.\d{2}\.\d{4}$"
