"""Declared word lists for normalising usulan text: abbreviations, typos, stop words and location markers.

Everything the normaliser rewrites is listed here, so a planner can read and extend it without touching code.
Keys are lower case; values may hold several words. Changing any list changes the model version.
"""

from __future__ import annotations

# Multi-word spellings, rewritten first (on the lower-cased text with punctuation turned into spaces).
PHRASES: dict[str, str] = {
    "sd n": "sdn",
    "smp n": "smpn",
    "sma n": "sman",
    "smk n": "smkn",
    "sumur bur": "sumur bor",
    "sumur bour": "sumur bor",
    "e ktp": "ktp",
    "ktp el": "ktp",
    "ktp elektronik": "ktp",
    "pos kamling": "poskamling",
    "pos ronda": "poskamling",
    "tps 3r": "tps3r",
    "hand tractor": "traktor tangan",
    "hand traktor": "traktor tangan",
    "wc umum": "mck",
    "lampu jalan": "penerangan jalan umum",
    "solar cell": "tenaga surya",
    "solar sel": "tenaga surya",
    "kawin suntik": "inseminasi buatan",
    "sepak bola": "sepakbola",
    "bola voli": "voli",
    "bola volly": "voli",
    "bola voly": "voli",
    "karang taruna": "karangtaruna",
    "taman kanak kanak": "tk",
    "anak usia dini": "paud",
    "keluarga berencana": "kb",
}

# Single words: abbreviations, common misspellings and local synonyms.
ABBREVIATIONS: dict[str, str] = {
    # roads, bridges, drainage, water
    "jln": "jalan", "jl": "jalan", "jalam": "jalan", "jaln": "jalan", "jaan": "jalan", "jlan": "jalan",
    "jembtan": "jembatan", "jembatn": "jembatan", "jmbtn": "jembatan",
    "tpt": "tembok penahan tanah", "talud": "talud tembok penahan tanah", "talut": "talud tembok penahan tanah",
    "gorgor": "gorong gorong", "goronggorong": "gorong gorong",
    "drainse": "drainase", "drenase": "drainase", "drainage": "drainase", "dranase": "drainase",
    "siring": "siring drainase", "sirring": "siring drainase",
    "lapen": "lapis penetrasi", "onderlah": "onderlagh", "onderlaag": "onderlagh", "onderlag": "onderlagh",
    "telford": "onderlagh", "hotmik": "hotmix",
    "irigsi": "irigasi", "irgasi": "irigasi", "normalisai": "normalisasi",
    "sumbor": "sumur bor", "spam": "sistem penyediaan air minum", "pamsimas": "pamsimas air minum",
    "mck": "mandi cuci kakus", "wc": "jamban", "toilet": "jamban", "septiktank": "septic tank",
    "tps3r": "tps3r olah sampah", "rth": "ruang terbuka hijau",
    # housing
    "rtlh": "rumah tidak layak huni", "psu": "prasarana sarana utilitas",
    "pju": "penerangan jalan umum", "pjuts": "penerangan jalan umum tenaga surya",
    "pjts": "penerangan jalan umum tenaga surya", "lpju": "penerangan jalan umum",
    "tpu": "tempat pemakaman umum", "kuburan": "makam",
    # general verbs and nouns
    "rehab": "rehabilitasi", "rehap": "rehabilitasi", "rehb": "rehabilitasi", "rehabilitas": "rehabilitasi",
    "pemb": "pembangunan", "pembgn": "pembangunan", "pembng": "pembangunan", "pembngn": "pembangunan",
    "pmbgn": "pembangunan", "pembuatan": "pembangunan", "pembagunan": "pembangunan", "pembanguan": "pembangunan",
    "peningk": "peningkatan", "pngktn": "peningkatan", "peningaktan": "peningkatan",
    "perbaiakn": "perbaikan", "perbaikn": "perbaikan", "perbaian": "perbaikan", "pebaikan": "perbaikan",
    "pengadan": "pengadaan", "pengdaan": "pengadaan", "pngadaan": "pengadaan",
    "bantuang": "bantuan", "batuan": "bantuan", "bantuab": "bantuan", "bantan": "bantuan", "bansos": "bantuan sosial",
    "sarpras": "sarana prasarana", "sapras": "sarana prasarana",
    "pelatiahan": "pelatihan", "pelatihn": "pelatihan", "diklat": "pelatihan", "bimtek": "bimbingan teknis",
    "sosialisai": "sosialisasi", "sosialiasi": "sosialisasi",
    "gd": "gedung", "gdg": "gedung", "ktr": "kantor", "blai": "balai", "lap": "lapangan",
    "lamtai": "lantai", "lnt": "lantai",
    # education
    "sd": "sekolah dasar", "sdn": "sekolah dasar negeri", "smp": "sekolah menengah pertama",
    "smpn": "sekolah menengah pertama negeri", "satap": "satu atap", "rkb": "ruang kelas baru",
    "ape": "alat permainan edukatif", "tbm": "taman bacaan masyarakat", "lab": "laboratorium",
    "perpus": "perpustakaan", "perpusdes": "perpustakaan desa", "meubeler": "mebel", "mebeler": "mebel",
    "meubel": "mebel", "mebelair": "mebel", "tk": "tk paud",
    # health
    "pmt": "pemberian makanan tambahan", "bumil": "ibu hamil", "busui": "ibu menyusui",
    "kek": "kurang energi kronis", "dbd": "demam berdarah", "db": "demam berdarah",
    "foging": "fogging pengasapan", "fogging": "fogging pengasapan", "pustu": "puskesmas pembantu",
    "poskesdes": "pos kesehatan desa", "polindes": "pondok bersalin desa", "pkm": "puskesmas",
    "posbindu": "posbindu penyakit tidak menular", "ptm": "penyakit tidak menular",
    "ambulan": "ambulans", "ambulance": "ambulans", "ambulanc": "ambulans", "posyd": "posyandu",
    # disaster and order
    "apar": "alat pemadam api ringan", "damkar": "pemadam kebakaran", "linmas": "perlindungan masyarakat",
    "satlinmas": "satuan perlindungan masyarakat", "destana": "desa tangguh bencana",
    "ews": "peringatan dini", "bpbd": "penanggulangan bencana", "trc": "tim reaksi cepat",
    # social, women and children, population
    "dtks": "data terpadu kesejahteraan sosial", "dtsen": "data terpadu kesejahteraan sosial",
    "kube": "kelompok usaha bersama", "difabel": "disabilitas", "cacat": "disabilitas",
    "kdrt": "kekerasan dalam rumah tangga", "drppa": "desa ramah perempuan peduli anak",
    "ktp": "kartu tanda penduduk", "kk": "kartu keluarga", "akte": "akta", "kia": "kartu identitas anak",
    "adminduk": "administrasi kependudukan", "dukcapil": "administrasi kependudukan",
    "kb": "keluarga berencana", "mkjp": "metode kontrasepsi jangka panjang", "susuk": "implan",
    "dashat": "dapur sehat atasi stunting", "krs": "keluarga risiko stunting", "tpk": "tim pendamping keluarga",
    "bkb": "bina keluarga balita", "bkr": "bina keluarga remaja", "bkl": "bina keluarga lansia",
    # food, agriculture, fisheries
    "p2l": "pekarangan pangan lestari", "krpl": "kawasan rumah pangan lestari",
    "poktan": "kelompok tani", "gapoktan": "gabungan kelompok tani", "kwt": "kelompok wanita tani",
    "pokdakan": "kelompok pembudidaya ikan", "poknak": "kelompok ternak", "klp": "kelompok",
    "alsintan": "alat mesin pertanian", "tractor": "traktor", "handtraktor": "traktor tangan",
    "jut": "jalan usaha tani", "jitut": "jaringan irigasi tingkat usaha tani", "bpp": "balai penyuluhan pertanian",
    "ib": "inseminasi buatan", "pmk": "penyakit mulut kuku", "lsd": "lumpy skin disease",
    "opt": "organisme pengganggu tumbuhan", "ppl": "penyuluh pertanian lapangan",
    "puskeswan": "pusat kesehatan hewan", "rph": "rumah potong hewan", "rmu": "rice milling unit",
    "slptt": "sekolah lapang", "alkon": "pompa air",
    # economy, desa, youth
    "umkm": "usaha mikro kecil menengah", "ukm": "usaha kecil menengah", "ikm": "industri kecil menengah",
    "kopdes": "koperasi desa", "pirt": "pangan industri rumah tangga",
    "bumdes": "badan usaha milik desa", "bumdesa": "badan usaha milik desa", "bumkam": "badan usaha milik desa",
    "bumkampung": "badan usaha milik desa", "ttg": "teknologi tepat guna",
    "pkk": "pemberdayaan kesejahteraan keluarga", "lpm": "lembaga pemberdayaan masyarakat",
    "bpd": "badan permusyawaratan desa", "kartar": "karangtaruna",
    "volly": "voli", "voly": "voli", "volley": "voli", "volli": "voli",
    "pokdarwis": "kelompok sadar wisata", "zoss": "zona selamat sekolah", "lalin": "lalu lintas",
    "apill": "alat pemberi isyarat lalu lintas", "wifi": "wifi internet", "hotspot": "wifi internet",
    # religion
    "ponpes": "pondok pesantren", "tpq": "taman pendidikan alquran", "mushola": "musala",
    "musholla": "musala", "mushala": "musala", "mesjid": "masjid", "langgar": "musala",
    # places and filler words
    "dsn": "dusun", "dsun": "dusun", "kel": "kelurahan", "ds": "desa", "kp": "kampung", "kmp": "kampung",
    "kpg": "kampung", "kec": "kecamatan", "kab": "kabupaten", "prov": "provinsi",
    "utk": "untuk", "untk": "untuk", "u": "untuk", "yg": "yang", "dgn": "dengan", "dg": "dengan",
    "krn": "karena", "karna": "karena", "tdk": "tidak", "gak": "tidak", "sdh": "sudah", "blm": "belum",
    "msh": "masih", "byk": "banyak", "bbrp": "beberapa", "thn": "tahun", "tsb": "tersebut", "dll": "lain",
    "pd": "pada", "sbg": "sebagai", "jg": "juga", "kpd": "kepada", "dr": "dari", "dlm": "dalam",
    "spt": "seperti", "sdkt": "sedikit", "sbh": "sebuah", "bh": "buah", "org": "orang",
}

# Words that carry no topic. Removed after abbreviations are expanded.
STOPWORDS: frozenset[str] = frozenset("""
yang untuk di ke dari dan atau dengan karena mohon sudah belum masih agar supaya biar kami kita kalau kalo
ini itu tersebut per tiap setiap oleh pada dalam bagi sangat sekali banyak beberapa sedikit juga kepada
seperti sebuah buah orang adalah akan ada tidak lagi jadi bisa dapat harus mau sering kurang lebih para
tolong segera dimohon diusulkan usul usulan diajukan tahun anggaran unit paket lokasi volume
meter m km titik kegiatan program sub sebanyak sepanjang lebar panjang ukuran the of lain lainnya
""".split())

# A place name follows these words; the name is dropped (see normalise.drop_place_names).
LOCATION_MARKERS: frozenset[str] = frozenset(
    "dusun kampung desa kelurahan tiyuh pekon kecamatan lk rk".split()
)

# Group and building names follow these words (posyandu mawar, poktan sumber rejeki, masjid al ikhlas).
NAME_MARKERS: frozenset[str] = frozenset(
    "tani ternak ikan wisata posyandu masjid musala sanggar taklim pesantren paud sekolah negeri".split()
)

ROMAN_NUMERALS: frozenset[str] = frozenset("i ii iii iv v vi vii viii ix x xi xii xiii xiv xv".split())

# Words the stemmer would reduce to a different common word (pengadaan -> ada).
UNSTEMMED: frozenset[str] = frozenset("pengadaan peternakan perikanan pertanian pertanahan".split())

# Fill-ins for the kamus placeholders in contoh_teks_warga (removed again as location noise).
PLACEHOLDERS: dict[str, str] = {"{dusun}": "sukamaju", "{rt}": "03", "{rw}": "02"}

# Words that say what is done or for whom but not in which field. Alone or in pairs they make the
# "umum" (unspecific) training texts, a background class that keeps such usulan below the confidence threshold.
GENERIC_ACTIONS: tuple[str, ...] = tuple("""
pembangunan rehabilitasi perbaikan pengadaan bantuan pelatihan pembinaan peningkatan pemeliharaan penyediaan
sosialisasi pendampingan fasilitasi pemasangan pengembangan penambahan pendataan
""".split())
GENERIC_NOUNS: tuple[str, ...] = tuple("""
warga masyarakat kampung desa dusun kecamatan kabupaten umum kelompok alat sarana gedung kantor baru rusak
dana modal aspirasi kebutuhan fasilitas
""".split())
# Entries operators type when the real content is elsewhere.
FILLER_TEXTS: tuple[str, ...] = (
    "-", "nihil", "tidak ada", "kosong", "belum diisi", "terlampir", "lihat lampiran", "sesuai proposal",
    "sesuai kebutuhan", "hasil musyawarah", "aspirasi masyarakat", "usulan prioritas", "test", "coba", "xxx",
    "lain lain", "dan lain lain", "sesuai rab", "menyesuaikan", "ok",
)
