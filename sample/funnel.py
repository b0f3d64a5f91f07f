"""The simulated Musrenbang funnel of one pemda for one tahun, as frames (no files).

One row per usulan, with per-level columns `<field>_<level>` (status, alasan, volume, anggaran,
prioritas) for every forum the usulan reached; `level_frame` cuts the rows of one forum out of it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sample import texts
from sample.regions import Region

LEVELS = ("desa", "kecamatan", "forum_opd", "kabkota", "provinsi")
DITERIMA, DITOLAK = "diterima", "ditolak"

ACCEPT_SHARE = {"desa": 0.75, "kecamatan": 0.60, "forum_opd": 0.70, "kabkota": 0.80, "provinsi": 0.50, "pokir": 0.65}
REVISE_SHARE = {"kecamatan": 0.20, "forum_opd": 0.15}
OPD_OWN_SHARE = 0.05
REDIRECT_SHARE = 0.05
PROVINSI_SHARE = 0.03
POKIR_PER_DESA = 0.8


@dataclass
class Funnel:
    usulan: pd.DataFrame  # musrenbang stream (raised in desa, plus OPD-own entries at forum_opd)
    pokir: pd.DataFrame  # pokir DPRD, decided at kabkota level


def _kamus_pools(kamus: pd.DataFrame) -> dict[str, np.ndarray]:
    """Positions of the kamus entries each kind of proposer chooses from."""
    stream = kamus.stream.astype(str).to_numpy()
    level_min = kamus.level_min.fillna("desa").astype(str).str.lower().to_numpy()
    musren = stream == "musrenbang"
    if not musren.any():
        musren = np.ones(len(kamus), dtype=bool)
    pools = {
        "desa": musren & (level_min == "desa"),
        "opd": musren & np.isin(level_min, ["kecamatan", "forum_opd"]),
        "pokir": stream == "pokir",
    }
    return {k: np.flatnonzero(m if m.any() else musren) for k, m in pools.items()}


def _choose_kamus(rng, kamus: pd.DataFrame, pool: np.ndarray, n: int) -> np.ndarray:
    weight = kamus.theme.map(texts.THEME_WEIGHT).fillna(1.0).to_numpy()[pool]
    return rng.choice(pool, size=n, p=weight / weight.sum())


# Plausible volume range per satuan (lower-case); other satuan: 1 .. 1,000,000.
VOLUME_RANGE = {
    "meter": (50, 1500),
    "m2": (50, 800),
    "m3": (20, 300),
    "kilometer": (1, 8),
    "km": (1, 8),
    "hektare": (5, 50),
    "unit": (1, 50),
    "orang": (20, 100),
    "paket": (1, 5),
    "kelompok": (1, 5),
    "kegiatan": (1, 3),
    "desa": (1, 3),
    "titik": (1, 10),
    "ekor": (10, 50_000),
    "rumah": (5, 30),
    "lokasi": (1, 3),
}


def _volume_anggaran(rng, harga: np.ndarray, satuan: np.ndarray, median: float):
    """Volume sized to a plausible budget and satuan; anggaran = volume x harga x U(0.85, 1.2), to Rp 1,000."""
    n = len(harga)
    target = np.clip(rng.lognormal(np.log(median), 0.8, n), 10e6, 5e9)
    harga = np.where(np.isfinite(harga) & (harga > 0), harga, target)
    key = pd.Series(satuan, dtype=object).astype(str).str.lower()
    low = key.map({k: v[0] for k, v in VOLUME_RANGE.items()}).fillna(1).to_numpy(dtype=float)
    high = key.map({k: v[1] for k, v in VOLUME_RANGE.items()}).fillna(1e6).to_numpy(dtype=float)
    volume = np.clip(np.round(target / harga), low, high)
    volume = np.where(volume > 50, np.round(volume / 5) * 5, volume)
    factor = rng.uniform(0.85, 1.2, n)
    return volume, factor, _anggaran(volume, harga, factor)


def _anggaran(volume, harga, factor) -> np.ndarray:
    return (np.round(np.nan_to_num(volume * harga * factor) / 1000) * 1000).astype(np.int64)


def _tanggal(rng, n: int, start: str, days: int) -> np.ndarray:
    seconds = rng.integers(0, days, n) * 86400 + rng.integers(8 * 3600, 16 * 3600, n)
    stamps = np.datetime64(start, "s") + seconds.astype("timedelta64[s]")
    return pd.Series(stamps).dt.strftime("%Y-%m-%d %H:%M:%S").to_numpy(dtype=object)


def _opd_names(region: Region) -> dict[str, str]:
    return dict(zip(region.opd.kode_skpd, region.opd.nama_skpd))


def _base(region: Region, rng, kamus_pos: np.ndarray, desa_pos: np.ndarray, median: float) -> pd.DataFrame:
    """Location, kamus, texts, volume and anggaran of newly raised usulan."""
    n = len(kamus_pos)
    k = region.kamus.iloc[kamus_pos]
    d = region.desa.iloc[desa_pos]
    kec = region.kecamatan.set_index("kode").loc[d.kode_kecamatan.to_numpy()]
    is_kel = d.is_kelurahan.to_numpy()
    dusun = texts.dusun_names(rng, is_kel)
    rt_no, rw_no = rng.integers(1, 13, n), rng.integers(1, 6, n)
    rt_text = np.where(rng.random(n) < 0.5, rt_no.astype(str).astype(object), texts.zero_pad(rt_no, 2))
    phrasings = texts.phrasing_table(region.kamus.nama_kamus.to_numpy(), region.kamus.contoh_teks_warga.to_numpy())
    uraian = texts.resident_texts(rng, phrasings, kamus_pos, dusun, rt_text)
    uraian = texts.typos(rng, texts.case_styles(rng, uraian))
    harga = k.harga_satuan.astype(float).to_numpy()
    volume, factor, anggaran = _volume_anggaran(rng, harga, k.satuan.to_numpy(dtype=object), median)
    kode_skpd = k.kode_skpd.astype(str).to_numpy()
    at_kecamatan = np.char.startswith(kode_skpd.astype(str), "7.01.")
    names = _opd_names(region)
    kode_awal = np.where(at_kecamatan, kec.kode_skpd.astype(object).to_numpy(), kode_skpd)
    nama_awal = np.array([names.get(c, c) for c in kode_awal], dtype=object)
    nama_awal = np.where(at_kecamatan, kec.nama_skpd.to_numpy(), nama_awal)
    return pd.DataFrame(
        {
            "kode_kecamatan": d.kode_kecamatan.to_numpy(),
            "nama_kecamatan": d.nama_kecamatan.to_numpy(),
            "kode_desa": d.kode.to_numpy(),
            "nama_desa": d.nama.to_numpy(),
            "is_kelurahan": is_kel,
            "kamus_pos": kamus_pos,
            "id_kamus": k.id_kamus.to_numpy(),
            "nama_kamus": k.nama_kamus.to_numpy(),
            "jenis": k.jenis_usulan.to_numpy(),
            "kode_bidang_urusan": k.kode_bidang_urusan.to_numpy(),
            "kode_sub_kegiatan": k.kode_sub_kegiatan.to_numpy(),
            "satuan": k.satuan.to_numpy(),
            "harga_satuan": harga,
            "theme": k.theme.to_numpy(),
            "kode_opd_awal": kode_awal,
            "nama_opd_awal": nama_awal,
            "uraian": uraian,
            "permasalahan": texts.permasalahan(rng, k.theme.to_numpy()),
            "lokasi": texts.concat(dusun, " RT ", texts.zero_pad(rt_no, 3), " RW ", texts.zero_pad(rw_no, 3)),
            "latitude": kec.lat.to_numpy() + rng.normal(0, 0.02, n),
            "longitude": kec.lon.to_numpy() + rng.normal(0, 0.02, n),
            "has_koordinat": rng.random(n) >= 0.15,
            "volume": volume,
            "price_factor": factor,
            "anggaran": anggaran,
            "kontak": texts.phone_numbers(rng, n),
        }
    )


def _residents(rng, base: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Pengusul of desa usulan: residents, RT heads, kelompok tani, PKK and other lembaga."""
    n = len(base)
    kind = rng.choice(5, size=n, p=[0.45, 0.2, 0.15, 0.1, 0.1])
    person = texts.person_names(rng, n)
    rt_head = texts.concat(person, " (Ketua RT ", texts.zero_pad(rng.integers(1, 13, n), 2), ")")
    lembaga = texts.concat(
        texts.pick(rng, texts.LEMBAGA, n),
        np.where(base.is_kelurahan, " Kelurahan ", " Desa "),
        base.nama_desa.to_numpy(),
    )
    pkk = texts.concat("TP PKK ", np.where(base.is_kelurahan, "Kelurahan ", "Desa "), base.nama_desa.to_numpy())
    pengusul = np.select(
        [kind == 0, kind == 1, kind == 2, kind == 3],
        [person, rt_head, texts.pick(rng, texts.KELOMPOK_TANI, n), pkk],
        lembaga,
    )
    profil = np.select(
        [kind == 0, kind == 1, kind == 2], ["Masyarakat", "RT/RW", "Kelompok Masyarakat"], "Lembaga Kemasyarakatan"
    )
    return pengusul.astype(object), profil.astype(object)


def _rank_within(groups: np.ndarray, rejected: np.ndarray, rng) -> np.ndarray:
    """Priority 1..n within each group: accepted first, in random order."""
    order = np.lexsort((rng.random(len(groups)), rejected, groups))
    sorted_groups = groups[order]
    first = np.r_[True, sorted_groups[1:] != sorted_groups[:-1]]
    starts = np.maximum.accumulate(np.where(first, np.arange(len(order)), 0))
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order)) - starts + 1
    return rank


def _decide(
    df: pd.DataFrame,
    rng,
    level: str,
    reached: np.ndarray,
    previous: str | None,
    alasan_key=None,
    group: str = "kode_kecamatan",
    share: float | None = None,
) -> None:
    """Record the decision of one forum in the `*_<level>` columns for the rows that reached it."""
    n = len(df)
    accept = reached & (rng.random(n) < (ACCEPT_SHARE[level] if share is None else share))
    status = np.where(reached, np.where(accept, DITERIMA, DITOLAK), None).astype(object)
    keys = np.broadcast_to(np.asarray(level if alasan_key is None else alasan_key, dtype=object), (n,))
    alasan = np.full(n, None, dtype=object)
    for key in sorted(set(keys[~accept & reached])):
        mask = ~accept & reached & (keys == key)
        alasan[mask] = texts.pick(rng, texts.ALASAN_DITOLAK[key], int(mask.sum()))
    volume = df["volume" if previous is None else f"volume_{previous}"].to_numpy(dtype=float).copy()
    anggaran = df["anggaran" if previous is None else f"anggaran_{previous}"].to_numpy(dtype=float).copy()
    revise = accept & (rng.random(n) < REVISE_SHARE.get(level, 0.0)) & (volume > 1)
    if revise.any():
        cut = np.maximum(1, np.floor(volume * rng.uniform(0.5, 0.9, n)))
        volume = np.where(revise, cut, volume)
        harga = df.harga_satuan.to_numpy(dtype=float)
        implied = df.anggaran.to_numpy(dtype=float) / df.volume.to_numpy(dtype=float) / df.price_factor.to_numpy()
        harga = np.where(np.isfinite(harga) & (harga > 0), harga, implied)
        anggaran = np.where(revise, _anggaran(volume, harga, df.price_factor.to_numpy()), anggaran)
        alasan[revise] = texts.CATATAN_REVISI
    df[f"status_{level}"] = status
    df[f"alasan_{level}"] = alasan
    df[f"volume_{level}"] = np.where(reached, volume, np.nan)
    df[f"anggaran_{level}"] = np.where(reached, anggaran, np.nan)
    rank = _rank_within(df[group].astype(str).to_numpy(), ~accept, rng)
    df[f"prioritas_{level}"] = np.where(reached, rank, 0)


def _ids(prefix: str, start: int, n: int) -> np.ndarray:
    return texts.concat(prefix, texts.zero_pad(np.arange(start, start + n), 6))


# Bidang whose OPD an usulan is often moved to at the forum perangkat daerah.
SISTER_BIDANG = {
    "1.01": ("2.19", "2.23"),
    "1.02": ("2.14",),
    "1.03": ("1.04",),
    "1.04": ("1.03", "2.11"),
    "1.06": ("2.08", "2.13"),
    "2.07": ("2.17",),
    "2.08": ("1.06",),
    "2.09": ("3.27",),
    "2.11": ("1.04",),
    "2.13": ("1.06", "7.01"),
    "2.14": ("1.02",),
    "2.15": ("1.03",),
    "2.17": ("3.30", "2.07"),
    "2.19": ("1.01",),
    "3.25": ("3.27",),
    "3.26": ("2.19",),
    "3.27": ("2.09", "3.25"),
    "3.30": ("2.17",),
    "3.31": ("2.17",),
}


def _sister_opd(region: Region, rng, kode_awal: np.ndarray, bidang: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Another dinas with the same or a related bidang (else the same urusan digit) for a redirected usulan."""
    dinas = region.opd[~region.opd.kode_skpd.str.startswith("7.01.")]
    kode = dinas.kode_skpd.to_numpy(dtype=object)
    nama = dinas.nama_skpd.to_numpy(dtype=object)
    slots = dinas[["bidang_urusan_1", "bidang_urusan_2", "bidang_urusan_3"]].astype(object).to_numpy()
    pick = rng.integers(0, 1 << 30, len(kode_awal))
    out_kode, out_nama = [], []
    for awal, b, p in zip(kode_awal, bidang, pick):  # only the ~5% redirected rows
        related = {b, *SISTER_BIDANG.get(b, ())}
        pool = [i for i, c in enumerate(kode) if c != awal and related & set(slots[i])]
        pool = pool or [i for i, c in enumerate(kode) if c != awal and c[:1] == str(awal)[:1]]
        pool = pool or [i for i, c in enumerate(kode) if c != awal] or [0]
        out_kode.append(kode[pool[p % len(pool)]])
        out_nama.append(nama[pool[p % len(pool)]])
    return np.array(out_kode, dtype=object), np.array(out_nama, dtype=object)


def _musrenbang(region: Region, rng, tahun: int, pools: dict) -> pd.DataFrame:
    digits = region.kode.replace(".", "")
    n_desa = len(region.desa)
    per_desa = rng.integers(8, 17, n_desa)
    desa_pos = np.repeat(np.arange(n_desa), per_desa)
    kamus_pos = _choose_kamus(rng, region.kamus, pools["desa"], len(desa_pos))
    df = _base(region, rng, kamus_pos, desa_pos, 150e6)
    df.insert(0, "id_usulan", _ids(digits, 1, len(df)))
    df["origin"] = "desa"
    df["pengusul"], df["profil"] = _residents(rng, df)
    df["tanggal_usul"] = _tanggal(rng, len(df), f"{tahun - 1}-01-02", 29)
    df["langsung"] = rng.random(len(df)) < 0.3
    reached = np.ones(len(df), dtype=bool)
    _decide(df, rng, "desa", reached, None, np.where(df.is_kelurahan, "kelurahan", "desa"), group="kode_desa")
    _decide(df, rng, "kecamatan", df.status_desa.to_numpy() == DITERIMA, "desa")

    # Forum perangkat daerah: the accepted kecamatan usulan plus the OPD's own entries.
    carried = df.status_kecamatan.to_numpy() == DITERIMA
    n_own = round(OPD_OWN_SHARE * carried.sum())
    own = _base(
        region, rng, _choose_kamus(rng, region.kamus, pools["opd"], n_own), rng.integers(0, n_desa, n_own), 400e6
    )
    own.insert(0, "id_usulan", _ids(digits, len(df) + 1, n_own))
    own["origin"] = "forum_opd"
    own["pengusul"] = own.nama_opd_awal
    own["profil"] = "Perangkat Daerah"
    own["tanggal_usul"] = _tanggal(rng, n_own, f"{tahun - 1}-02-15", 30)
    own["langsung"] = False
    own["volume_kecamatan"] = own.volume
    own["anggaran_kecamatan"] = own.anggaran.astype(float)
    df = pd.concat([df, own], ignore_index=True)
    reached = np.r_[carried, np.ones(n_own, dtype=bool)]
    df["kode_opd_akhir"], df["nama_opd_akhir"] = df.kode_opd_awal.to_numpy(), df.nama_opd_awal.to_numpy()
    redirect = reached & (rng.random(len(df)) < REDIRECT_SHARE)
    if redirect.any():
        kec = region.kecamatan.set_index("kode").loc[df.kode_kecamatan[redirect].to_numpy()]
        to_kecamatan = (
            (rng.random(int(redirect.sum())) < 0.5)
            & ~df.kode_opd_awal[redirect].astype(str).str.startswith("7.01.").to_numpy()
            & kec.kode_skpd.notna().to_numpy()
        )
        sister_kode, sister_nama = _sister_opd(
            region, rng, df.kode_opd_awal[redirect].to_numpy(), df.kode_bidang_urusan[redirect].to_numpy()
        )
        df.loc[redirect, "kode_opd_akhir"] = np.where(to_kecamatan, kec.kode_skpd.to_numpy(dtype=object), sister_kode)
        df.loc[redirect, "nama_opd_akhir"] = np.where(to_kecamatan, kec.nama_skpd.to_numpy(dtype=object), sister_nama)
    df["redirected"] = redirect
    _decide(df, rng, "forum_opd", reached, "kecamatan", group="kode_opd_akhir")
    note = redirect & (df.status_forum_opd.to_numpy() == DITERIMA)
    df.loc[note, "alasan_forum_opd"] = "Dialihkan ke " + df.nama_opd_akhir[note].astype(str)

    # Musrenbang RKPD kab/kota; ~3% go on to the provincial forum.
    reached = df.status_forum_opd.to_numpy() == DITERIMA
    _decide(df, rng, "kabkota", reached, "forum_opd", group="kode_opd_akhir")
    forwarded = reached & (rng.random(len(df)) < PROVINSI_SHARE)
    df.loc[forwarded, "status_kabkota"] = DITERIMA
    df.loc[forwarded, "alasan_kabkota"] = texts.CATATAN_PROVINSI
    df["ke_provinsi"] = forwarded
    df["group_provinsi"] = "provinsi"
    _decide(df, rng, "provinsi", forwarded, "kabkota", group="group_provinsi")
    return df


def _dewan(rng, n_desa: int) -> tuple[np.ndarray, np.ndarray]:
    """DPRD members of the pemda (20 to 50 seats) with their fraksi."""
    seats = int(np.clip(round(n_desa / 7), 20, 50))
    names = texts.concat(texts.person_names(rng, seats), texts.pick(rng, texts.GELAR_BELAKANG, seats))
    return names, texts.pick(rng, texts.FRAKSI, seats)


def _pokir(region: Region, rng, tahun: int, pools: dict) -> pd.DataFrame:
    n_desa = len(region.desa)
    n = round(POKIR_PER_DESA * n_desa)
    df = _base(region, rng, _choose_kamus(rng, region.kamus, pools["pokir"], n), rng.integers(0, n_desa, n), 200e6)
    df.insert(0, "id_usulan", _ids("9" + region.kode.replace(".", ""), 1, n))
    names, fraksi = _dewan(rng, n_desa)
    member = rng.integers(0, len(names), n)
    df["pengusul"], df["fraksi_dewan"], df["profil"] = names[member], fraksi[member], "Anggota DPRD"
    df["tanggal_usul"] = _tanggal(rng, n, f"{tahun - 1}-03-01", 14)
    df["origin"] = "pokir"
    df["langsung"] = False
    df["kode_opd_akhir"], df["nama_opd_akhir"] = df.kode_opd_awal.to_numpy(), df.nama_opd_awal.to_numpy()
    _decide(df, rng, "kabkota", np.ones(n, dtype=bool), None, "pokir", group="pengusul", share=ACCEPT_SHARE["pokir"])
    return df


def simulate(region: Region, tahun: int, rng: np.random.Generator) -> Funnel:
    pools = _kamus_pools(region.kamus)
    return Funnel(usulan=_musrenbang(region, rng, tahun, pools), pokir=_pokir(region, rng, tahun, pools))


def level_frame(funnel: Funnel, level: str) -> pd.DataFrame:
    """The rows one forum saw, with that forum's status, alasan, volume, anggaran and prioritas."""
    if level == "pokir":
        df, lvl = funnel.pokir, "kabkota"
    else:
        df, lvl = funnel.usulan, level
        df = df[df[f"status_{lvl}"].notna()]
    out = df.assign(
        status=df[f"status_{lvl}"],
        alasan=df[f"alasan_{lvl}"],
        volume=df[f"volume_{lvl}"],
        anggaran=df[f"anggaran_{lvl}"].astype(np.int64),
        prioritas=df[f"prioritas_{lvl}"],
    )
    if level in ("desa", "kecamatan"):
        out = out.assign(kode_opd_akhir=out.kode_opd_awal, nama_opd_akhir=out.nama_opd_awal)
    nxt = {"desa": "kecamatan", "kecamatan": "forum_opd", "forum_opd": "kabkota", "kabkota": "provinsi"}.get(level)
    carried = out[f"status_{nxt}"].notna() if nxt and f"status_{nxt}" in out else pd.Series(False, index=out.index)
    return out.assign(carried=carried.to_numpy()).reset_index(drop=True)
