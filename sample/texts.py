"""Words of the sample data: resident wording, names, alasan, typos and rupiah formatting.

Every function works on whole numpy arrays (one pemda at a time); only the small typo subset is
handled element by element.
"""

from __future__ import annotations

import re

import numpy as np

FIRST_NAMES = np.array(
    [
        "Ahmad",
        "Budi",
        "Sutrisno",
        "Slamet",
        "Suparman",
        "Wayan",
        "Made",
        "Nyoman",
        "Agus",
        "Bambang",
        "Joko",
        "Heru",
        "Sugeng",
        "Supriyadi",
        "Mulyono",
        "Darmawan",
        "Rahmat",
        "Hendra",
        "Irwan",
        "Yusuf",
        "Rudi",
        "Dedi",
        "Eko",
        "Fajar",
        "Hadi",
        "Iwan",
        "Kurniawan",
        "Lukman",
        "Misran",
        "Nurdin",
        "Paijo",
        "Rohmat",
        "Sarjono",
        "Tukiman",
        "Wagiman",
        "Zainal",
        "Marzuki",
        "Saiful",
        "Abdul",
        "Ismail",
        "Siti",
        "Sri",
        "Dewi",
        "Yuliani",
        "Nurhayati",
        "Sumiati",
        "Wartini",
        "Rina",
        "Lestari",
        "Ernawati",
        "Tri",
        "Endang",
        "Suharti",
        "Ratna",
        "Fitri",
        "Ani",
        "Kartini",
        "Mardiyah",
        "Puji",
        "Winarsih",
        "Désy",
        "René",
        "Andi",
        "Herman",
        "Syamsul",
        "Rusdi",
        "Darsono",
        "Ngatimin",
        "Sukardi",
        "Yanto",
    ]
)
LAST_NAMES = np.array(
    [
        "",
        "",
        "",
        "Santoso",
        "Wijaya",
        "Saputra",
        "Hidayat",
        "Setiawan",
        "Pratama",
        "Gunawan",
        "Susanto",
        "Kusuma",
        "Purnomo",
        "Rahayu",
        "Wahyudi",
        "Sulistyo",
        "Nugroho",
        "Utomo",
        "Hartono",
        "Siregar",
        "Effendi",
        "Harahap",
        "Syahputra",
        "Anwar",
        "Hakim",
        "Rosyid",
        "Prasetyo",
        "Maulana",
        "Firmansyah",
        "Ningsih",
        "Wati",
        "Yanti",
        "Sari",
        "Handayani",
        "Permana",
        "Sembiring",
        "Nasution",
        "Manurung",
        "Hasibuan",
        "Pane",
    ]
)
GELAR = np.array(["", "", "", "", "", "", "H. ", "Hj. ", "Drs. ", "Ir. "])
KELOMPOK_TANI = np.array(
    [
        "Kelompok Tani Sumber Rejeki",
        "Kelompok Tani Maju Jaya",
        "Gapoktan Sido Makmur",
        "Kelompok Tani Tunas Harapan",
        "Kelompok Tani Karya Bersama",
        "Kelompok Wanita Tani Melati",
        "Gapoktan Sri Rejeki",
        "Kelompok Tani Subur Makmur",
        "P3A Tirta Mulya",
        "Kelompok Ternak Sapi Lestari",
        "Kelompok Tani Sido Dadi – Blok B",
        "KWT Mawar Indah",
    ]
)
LEMBAGA = np.array(["TP PKK", "Karang Taruna", "LPM", "BPD", "Posyandu Melati", "Majelis Taklim Al-Ikhlas"])
DUSUN_NAMES = np.array(
    [
        "Sukamaju",
        "Karang Anyar",
        "Sidomulyo",
        "Sumber Agung",
        "Tegal Sari",
        "Margo Rejo",
        "Sido Rahayu",
        "Bumi Asri",
        "Sri Rejeki",
        "Banjar Sari",
        "Candi Rejo",
        "Purwosari",
        "Suka Damai",
        "Mekar Jaya",
    ]
)
ROMAN = np.array(["I", "II", "III", "IV", "V", "VI", "VII", "VIII"])
PHONE_PREFIX = np.array(["0812", "0813", "0821", "0822", "0852", "0853", "0857", "0878", "0819", "0896", "0838"])

UNKNOWN_PLACES = (
    "Kampung Sumber Makmur Jaya",
    "Desa Tirta Kencana Raya",
    "Sidodadi Makmur Sentosa",
    "Karya Bakti Wiratama",
    "Kampung Sinar Harapan Baru",
    "Desa Mekar Sari Indah Permai",
    "Tanjung Rejo Kencana",
    "Bumi Sejahtera Abadi",
)
UNKNOWN_SATUAN = np.array(["lonjor", "bh2", "ikat", "rit", "colt", "lbr2", "bks", "tumpuk"])

# Permasalahan per theme of the kamus (the theme comes from keywords in the kamus name or the bidang).
PERMASALAHAN = {
    "jalan": (
        "jalan rusak berlubang, becek saat musim hujan",
        "jalan tanah licin dan sulit dilalui kendaraan",
        "aspal mengelupas, sering terjadi kecelakaan",
        "akses jalan ke kebun dan sekolah terputus saat hujan",
        "jalan lingkungan masih tanah – berdebu di musim kemarau",
    ),
    "drainase": (
        "drainase tersumbat sehingga air meluap ke jalan",
        "tidak ada saluran air, rumah warga tergenang",
        "saluran pembuangan rusak dan dangkal – air masuk ke rumah",
        "genangan air di permukiman setiap hujan deras",
    ),
    "sungai": (
        "sungai dangkal dan meluap setiap musim hujan",
        "tebing sungai longsor – mengancam rumah warga",
        "tanah di pinggir jalan longsor saat hujan",
        "banjir tahunan merendam sawah dan permukiman",
    ),
    "jembatan": (
        "jembatan kayu lapuk membahayakan pengguna",
        "belum ada jembatan penghubung antar dusun",
        "jembatan putus diterjang banjir",
        "plat jembatan retak dan berlubang",
    ),
    "irigasi": (
        "saluran irigasi jebol, sawah kekurangan air",
        "irigasi tersier masih tanah sehingga air banyak hilang",
        "pintu air rusak – pembagian air tidak merata",
        "sawah tadah hujan hanya panen sekali setahun",
    ),
    "air": (
        "warga kesulitan air bersih di musim kemarau",
        "sumur warga kering dan airnya keruh",
        "jaringan air bersih belum menjangkau dusun",
        "warga membeli air bersih dengan harga mahal",
    ),
    "penerangan": ("jalan gelap di malam hari, rawan kejahatan", "lampu jalan banyak yang mati"),
    "pendidikan": (
        "ruang kelas rusak dan kekurangan meja kursi",
        "sekolah belum memiliki perpustakaan",
        "anak usia dini belum terlayani PAUD",
    ),
    "kesehatan": (
        "posyandu belum memiliki gedung sendiri",
        "angka stunting di desa masih tinggi",
        "jarak ke puskesmas jauh, pelayanan kesehatan terbatas",
    ),
    "perumahan": (
        "masih banyak rumah tidak layak huni",
        "warga belum memiliki jamban sehat",
        "sampah dibuang ke sungai karena tidak ada TPS",
    ),
    "pertanian": (
        "hasil panen rendah karena kekurangan pupuk dan alsintan",
        "petani kesulitan bibit unggul",
        "ternak warga sering terserang penyakit",
    ),
    "ekonomi": (
        "pelaku UMKM kekurangan modal dan pelatihan",
        "pasar desa kumuh dan becek",
        "pemuda banyak yang menganggur",
    ),
    "sosial": (
        "banyak lansia dan disabilitas belum tersentuh bantuan",
        "rawan bencana banjir dan longsor",
        "kegiatan pemuda dan olahraga kurang fasilitas",
    ),
    "umum": (
        "belum tersedia sarana yang memadai",
        "kebutuhan masyarakat belum terpenuhi",
        "fasilitas yang ada sudah rusak berat",
    ),
}
THEME_KEYWORDS = (  # (theme, keywords in the lower-cased kamus name), first match wins
    ("perumahan", ("jamban", "mck", "septic", "sanitasi", "tps3r", "rumah tidak layak", "rtlh")),
    ("jembatan", ("jembatan", "gorong", "box culvert", "plat deker")),
    ("sungai", ("sungai", "tanggul", "bronjong", "penahan tanah", "talud", "turap", "banjir")),
    ("drainase", ("drainase", "saluran air", "siring", "parit")),
    ("irigasi", ("irigasi", "embung", "bendung", "pintu air", "tersier")),
    ("air", ("air bersih", "air minum", "sumur", "spam", "bor", "hidran")),
    ("penerangan", ("penerangan", "pju", "lampu")),
    ("jalan", ("jalan", "rabat", "aspal", "lapen", "onderlaag", "paving", "hotmix", "telford")),
)
THEME_OF_BIDANG = {
    "1.01": "pendidikan",
    "1.02": "kesehatan",
    "1.04": "perumahan",
    "2.11": "perumahan",
    "3.27": "pertanian",
    "2.09": "pertanian",
    "3.25": "pertanian",
    "2.17": "ekonomi",
    "3.30": "ekonomi",
    "3.31": "ekonomi",
    "2.07": "ekonomi",
    "3.26": "ekonomi",
    "1.06": "sosial",
    "1.05": "sosial",
    "2.19": "sosial",
    "2.08": "sosial",
    "2.13": "sosial",
    "1.03": "jalan",
    "2.15": "penerangan",
}
# Relative weight of a kamus entry by theme: roads, drainage, bridges, irrigation and water dominate.
THEME_WEIGHT = {
    "jalan": 10.0,
    "drainase": 6.0,
    "sungai": 2.0,
    "jembatan": 4.0,
    "irigasi": 5.0,
    "air": 4.0,
    "penerangan": 2.0,
}

ALASAN_DITOLAK = {
    "desa": (
        "Sudah diusulkan tahun lalu",
        "Kewenangan desa, didanai Dana Desa",
        "Lokasi belum jelas",
        "Duplikasi usulan",
        "Melebihi pagu indikatif",
        "Belum menjadi prioritas desa",
        "Sudah dianggarkan dalam APBDes",
        "Status tanah belum jelas",
    ),
    "kelurahan": (
        "Sudah diusulkan tahun lalu",
        "Didanai Dana Kelurahan",
        "Lokasi belum jelas",
        "Duplikasi usulan",
        "Melebihi pagu indikatif",
        "Belum menjadi prioritas kelurahan",
    ),
    "kecamatan": (
        "Melebihi pagu indikatif kewilayahan",
        "Belum menjadi prioritas kecamatan",
        "Duplikasi usulan",
        "Lokasi belum jelas",
        "Data dukung belum lengkap (foto, RAB)",
        "Sudah diusulkan tahun lalu",
        "Kewenangan desa, didanai Dana Desa",
        "Status lahan belum jelas",
    ),
    "forum_opd": (
        "Tidak sesuai dengan Renstra Perangkat Daerah",
        "Keterbatasan pagu anggaran OPD",
        "Sudah ditangani pada tahun berjalan",
        "Bukan kewenangan OPD",
        "Lokasi tidak memenuhi kriteria teknis",
        "Data dukung belum lengkap",
        "Salah OPD tujuan",
    ),
    "kabkota": (
        "Tidak masuk prioritas RKPD",
        "Keterbatasan kemampuan keuangan daerah",
        "Ditunda ke tahun anggaran berikutnya",
        "Belum sesuai prioritas pembangunan daerah",
    ),
    "provinsi": (
        "Bukan kewenangan provinsi",
        "Keterbatasan pagu indikatif provinsi",
        "Belum menjadi prioritas RKPD Provinsi",
        "Diusulkan melalui Bantuan Keuangan Provinsi tahun berikutnya",
    ),
    "pokir": (
        "Data usulan tidak lengkap (alamat, foto, volume)",
        "Tidak sesuai kamus usulan",
        "Melebihi pagu pokir",
        "Bukan kewenangan kabupaten",
        "Duplikasi dengan usulan musrenbang",
    ),
}
CATATAN_REVISI = "Volume disesuaikan dengan pagu indikatif"
CATATAN_PROVINSI = "Kewenangan provinsi – diteruskan ke Musrenbang RKPD Provinsi"

FRAKSI = np.array(
    [
        "Fraksi PDI Perjuangan",
        "Fraksi Partai Golkar",
        "Fraksi Partai Gerindra",
        "Fraksi PKB",
        "Fraksi Partai NasDem",
        "Fraksi PKS",
        "Fraksi Partai Demokrat",
        "Fraksi PAN",
        "Fraksi Persatuan Pembangunan",
    ]
)
GELAR_BELAKANG = np.array(["", "", "", ", S.E.", ", S.H.", ", S.Pd.", ", S.T.", ", S.Sos.", ", M.M.", ", S.IP."])

PROVINSI_OPD = {  # theme or bidang -> provincial OPD wording; "{prov}" is the province name
    "jalan": "Dinas Bina Marga dan Bina Konstruksi Provinsi {prov}",
    "jembatan": "Dinas Bina Marga dan Bina Konstruksi Provinsi {prov}",
    "irigasi": "Dinas Pengelolaan Sumber Daya Air Provinsi {prov}",
    "sungai": "Dinas Pengelolaan Sumber Daya Air Provinsi {prov}",
    "drainase": "Dinas Pengelolaan Sumber Daya Air Provinsi {prov}",
    "air": "Dinas Perumahan dan Permukiman Provinsi {prov}",
    "perumahan": "Dinas Perumahan dan Permukiman Provinsi {prov}",
    "1.01": "Dinas Pendidikan dan Kebudayaan Provinsi {prov}",
    "1.02": "Dinas Kesehatan Provinsi {prov}",
    "1.04": "Dinas Perumahan dan Permukiman Provinsi {prov}",
    "1.05": "Badan Penanggulangan Bencana Daerah Provinsi {prov}",
    "1.06": "Dinas Sosial Provinsi {prov}",
    "3.27": "Dinas Tanaman Pangan, Hortikultura dan Perkebunan Provinsi {prov}",
    "3.25": "Dinas Kelautan dan Perikanan Provinsi {prov}",
    "2.15": "Dinas Perhubungan Provinsi {prov}",
}
PROVINSI_OPD_LAIN = "Badan Perencanaan Pembangunan Daerah Provinsi {prov}"


def pick(rng: np.random.Generator, choices, n: int) -> np.ndarray:
    """n random elements of choices as an object array."""
    arr = np.asarray(choices, dtype=object)
    return arr[rng.integers(0, len(arr), n)]


def concat(*parts) -> np.ndarray:
    """Element-wise string concatenation of arrays and scalars."""
    out = np.asarray(parts[0], dtype=object)
    for part in parts[1:]:
        out = out + np.asarray(part, dtype=object)
    return out


def zero_pad(values: np.ndarray, width: int) -> np.ndarray:
    return np.strings.zfill(np.asarray(values).astype(np.int64).astype(str), width).astype(object)


def person_names(rng: np.random.Generator, n: int) -> np.ndarray:
    last = pick(rng, LAST_NAMES, n)
    return concat(pick(rng, GELAR, n), pick(rng, FIRST_NAMES, n), np.where(last == "", "", " " + last))


def phone_numbers(rng: np.random.Generator, n: int) -> np.ndarray:
    """Indonesian mobile numbers written 08xx-xxxx-xxxx."""
    return concat(
        pick(rng, PHONE_PREFIX, n),
        "-",
        zero_pad(rng.integers(0, 10_000, n), 4),
        "-",
        zero_pad(rng.integers(0, 10_000, n), 4),
    )


def dusun_names(rng: np.random.Generator, is_kelurahan: np.ndarray) -> np.ndarray:
    """Dusun (or lingkungan in a kelurahan): a roman number or a local name."""
    n = len(is_kelurahan)
    roman = pick(rng, ROMAN[:6], n)
    named = pick(rng, DUSUN_NAMES, n)
    use_named = rng.random(n) < 0.4
    dusun = np.where(use_named, named, "Dusun " + roman)
    return np.where(is_kelurahan, "Lingkungan " + roman, dusun).astype(object)


def theme_of(nama_kamus: np.ndarray, kode_bidang: np.ndarray) -> np.ndarray:
    """The theme of each kamus entry, used for weights and permasalahan."""
    names = np.char.lower(np.asarray(nama_kamus, dtype=str))
    theme = np.array([THEME_OF_BIDANG.get(k, "umum") for k in kode_bidang], dtype=object)  # per kamus entry
    found = np.zeros(len(names), dtype=bool)
    for name, words in THEME_KEYWORDS:
        hit = np.zeros(len(names), dtype=bool)
        for word in words:
            hit |= np.char.find(names, word) >= 0
        theme = np.where(hit & ~found, name, theme)
        found |= hit
    return theme.astype(object)


def permasalahan(rng: np.random.Generator, themes: np.ndarray) -> np.ndarray:
    out = np.empty(len(themes), dtype=object)
    for theme, phrases in PERMASALAHAN.items():
        mask = themes == theme
        if mask.any():
            out[mask] = pick(rng, phrases, int(mask.sum()))
    return out


_PLACEHOLDER = re.compile(r"(\{dusun\}|\{rt\})")


def phrasing_table(nama_kamus, contoh_teks_warga) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split each kamus entry's resident phrasings into literal/placeholder segments.

    Returns (start, count) per kamus entry into the phrasing rows, and segment texts/kinds
    (0 literal, 1 dusun, 2 rt) as 2-D arrays with one phrasing per row.
    """
    rows: list[list[str]] = []
    start, count = [], []
    for nama, contoh in zip(nama_kamus, contoh_teks_warga):
        phrasings = [p.strip() for p in str(contoh or "").split(" | ") if p.strip()]
        if not phrasings:
            phrasings = [f"{str(nama).lower()} di {{dusun}}"]
        start.append(len(rows))
        count.append(len(phrasings))
        rows.extend([part for part in _PLACEHOLDER.split(p) if part] for p in phrasings)
    width = max(len(r) for r in rows)
    segments = np.full((len(rows), width), "", dtype=object)
    kinds = np.zeros((len(rows), width), dtype=np.int8)
    for i, parts in enumerate(rows):
        for j, part in enumerate(parts):
            segments[i, j] = part
            kinds[i, j] = 1 if part == "{dusun}" else 2 if part == "{rt}" else 0
    return np.array(start), np.array(count), segments, kinds


def resident_texts(rng, table, kamus_pos: np.ndarray, dusun: np.ndarray, rt: np.ndarray) -> np.ndarray:
    """Fill a randomly chosen resident phrasing of each row's kamus entry."""
    start, count, segments, kinds = table
    choice = start[kamus_pos] + (rng.random(len(kamus_pos)) * count[kamus_pos]).astype(np.int64)
    out = np.full(len(kamus_pos), "", dtype=object)
    for j in range(segments.shape[1]):
        kind = kinds[choice, j]
        out = out + np.where(kind == 1, dusun, np.where(kind == 2, rt, segments[choice, j]))
    return out


def case_styles(rng: np.random.Generator, texts: np.ndarray) -> np.ndarray:
    """As written / lower / UPPER / Title, the way residents and operators type."""
    style = rng.choice(4, size=len(texts), p=[0.55, 0.2, 0.15, 0.1])
    plain = np.asarray(texts, dtype=str)
    out = np.where(style == 1, np.strings.lower(plain), plain)
    out = np.where(style == 2, np.strings.upper(plain), out)
    out = np.where(style == 3, np.char.title(plain), out)
    return out.astype(object)


def typos(rng: np.random.Generator, texts: np.ndarray, rate: float = 0.05) -> np.ndarray:
    """Swap two neighbouring letters or drop one letter in about `rate` of the texts."""
    out = np.asarray(texts, dtype=object).copy()
    hit = np.flatnonzero(rng.random(len(out)) < rate)
    where = rng.random(len(hit))
    swap = rng.random(len(hit)) < 0.5
    for i, u, s in zip(hit, where, swap):  # a few percent of the rows only
        text = out[i]
        if len(text) < 6:
            continue
        p = 1 + int(u * (len(text) - 3))
        out[i] = text[:p] + text[p + 1] + text[p] + text[p + 2 :] if s else text[:p] + text[p + 1 :]
    return out


def thousands(values, sep: str = ".") -> np.ndarray:
    """Integers written with a thousands separator: 1250000 -> '1.250.000' (sign kept)."""
    v = np.asarray(values, dtype=np.int64)
    a = np.abs(v)
    groups = [(a // 1000**k) % 1000 for k in range(6)]
    ngroups = np.ones(len(a), dtype=np.int64)
    for k in range(1, 6):
        ngroups = np.where(a >= 1000**k, k + 1, ngroups)
    out = np.full(len(a), "", dtype=object)
    for k in range(5, -1, -1):
        lead = ngroups == k + 1
        inner = ngroups > k + 1
        text = groups[k].astype(str).astype(object)
        padded = np.strings.zfill(groups[k].astype(str), 3).astype(object)
        out = np.where(lead, text, np.where(inner, out + sep + padded, out))
    return np.where(v < 0, "-" + out, out).astype(object)


def rupiah_text(values) -> np.ndarray:
    """'Rp 1.250.000,00' as SIPD prints money."""
    return concat("Rp ", thousands(values), ",00")


def decimal_text(values: np.ndarray, digits: int = 6) -> np.ndarray:
    return np.char.mod(f"%.{digits}f", np.asarray(values, dtype=float)).astype(object)
