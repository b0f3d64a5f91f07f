"""Training texts for the classifier: nomenclature names, the region's Renja, the kamus, and planner-verified
mappings.

Each source yields rows (text, kode_bidang_urusan, kode_sub_kegiatan, source, group). Weights per source are
model parameters (see model.PARAMS): verified mappings weigh most, nomenclature names least; the "umum" source
holds unspecific texts labelled BACKGROUND. Every kab/kota bidang is a class, also one no OPD of the region
carries (the mapping sends such a row to review instead of forcing it into a bidang that is carried).

No template convention travels at full weight: a region without its own kamus learns the template kamus's
phrasings, but an entry speaks for the region (source "kamus", weighed like its own kamus) only where the region's
Renja carries the entry's sub kegiatan; the other entries (source "kamus_template") weigh like the nomenclature, so
the region's own Renja outweighs the template's choice of bidang where the two disagree (desa roads: Perkim in the
template, PUPR in Bengkulu Utara's Renja).
"""

from __future__ import annotations

from functools import lru_cache

import pandas as pd

from reference import store
from tasks.map.classify import lexicon
from tasks.map.classify.normalise import Normaliser, expand_words

COLUMNS = ["text", "kode_bidang_urusan", "kode_sub_kegiatan", "source", "group"]  # group: kamus entry


def _frame(text, bidang, sub, source: str, group=pd.NA) -> pd.DataFrame:
    frame = pd.DataFrame({"text": text, "kode_bidang_urusan": bidang, "kode_sub_kegiatan": sub})
    return frame.assign(source=source, group=group).astype("string")


def nomenclature_texts(tahun: int) -> pd.DataFrame:
    """Bidang, program, kegiatan and sub kegiatan names of the kab/kota nomenclature in force in `tahun` (a
    copy of the one frame made per nomenclature version)."""
    return _nomenclature_texts(store.version_for(store.NOMENKLATUR_VERSIONS, tahun).versi).copy()


@lru_cache(maxsize=4)
def _nomenclature_texts(version: str) -> pd.DataFrame:
    nom = store.nomenklatur()
    nom = nom[(nom.versi == version) & nom.kode_bidang_urusan.notna() & ~nom.kode_bidang_urusan.str.startswith("X")]
    level = nom.kode.str.split(".").str[3]  # 1 = provinsi, 2 = kab/kota (kegiatan and sub kegiatan codes)
    kabkota = nom[nom.tingkat.isin(["kegiatan", "sub_kegiatan"]) & (level == "2")]
    programs = nom[(nom.tingkat == "program") & nom.kode.isin(kabkota[kabkota.tingkat == "kegiatan"].kode_induk)]
    bidang = nom[nom.tingkat == "bidang"]
    parts = pd.concat([bidang, programs, kabkota])
    is_sub = parts.tingkat == "sub_kegiatan"
    return _frame(
        parts.nama.to_numpy(), parts.kode_bidang_urusan.to_numpy(), parts.kode.where(is_sub).to_numpy(), "nomenklatur"
    )


def sub_kegiatan_codes(tahun: int) -> frozenset[str]:
    version = store.version_for(store.NOMENKLATUR_VERSIONS, tahun).versi
    nom = store.nomenklatur()
    return frozenset(nom.loc[(nom.versi == version) & (nom.tingkat == "sub_kegiatan"), "kode"])


def kamus_phrases(kamus: pd.DataFrame, blank_placeholders: bool = False) -> pd.DataFrame:
    """Every kamus name and resident phrasing (contoh_teks_warga split on " | ") with its kamus labels."""
    contoh = kamus.contoh_teks_warga.fillna("").str.split(r"\s*\|\s*", regex=True)
    rows = pd.concat(
        [
            kamus[["id_kamus", "nama_kamus", "kode_bidang_urusan", "kode_sub_kegiatan"]].rename(
                columns={"nama_kamus": "text"}
            ),
            kamus[["id_kamus", "kode_bidang_urusan", "kode_sub_kegiatan"]].assign(text=contoh).explode("text"),
        ],
        ignore_index=True,
    )
    rows = rows[rows.text.fillna("").str.strip() != ""]
    for placeholder, value in lexicon.PLACEHOLDERS.items():
        rows["text"] = rows.text.str.replace(placeholder, "" if blank_placeholders else value, regex=False)
    return rows.reset_index(drop=True)


def own_renja(kode_pemda: str, tahun: int) -> pd.DataFrame:
    """The pemda's Renja in force for the tahun (store.renja) outside the penunjang programs (X.XX.01), whose
    sub kegiatan every OPD has and which say nothing about who carries what."""
    rows = store.renja(kode_pemda, tahun)
    return rows[rows.kode_sub_kegiatan.str[5:7] != "01"]


def speaks_for(kamus: pd.DataFrame, kode_pemda: str, tahun: int) -> pd.Series:
    """Per kamus entry: does it speak for the pemda? Its own kamus does; a template entry does where the pemda's
    Renja carries its sub kegiatan."""
    if store.kamus_owner(kode_pemda, tahun) == kode_pemda:
        return pd.Series(True, index=kamus.index)
    return kamus.kode_sub_kegiatan.isin(set(own_renja(kode_pemda, tahun).kode_sub_kegiatan))


def usable_kamus(kode_pemda: str, tahun: int) -> pd.DataFrame:
    """The kamus entries that speak for the pemda (see `speaks_for`)."""
    kamus = store.kamus(kode_pemda, tahun)
    return kamus[speaks_for(kamus, kode_pemda, tahun)].reset_index(drop=True)


def kamus_texts(kode_pemda: str, tahun: int) -> pd.DataFrame:
    """Kamus names and phrasings, source "kamus" for entries that speak for the pemda and "kamus_template" for the
    others; sub kegiatan kept only where it exists in the tahun's version."""
    kamus = store.kamus(kode_pemda, tahun)
    rows = kamus_phrases(kamus)
    own = rows.id_kamus.map(pd.Series(speaks_for(kamus, kode_pemda, tahun).to_numpy(), index=kamus.id_kamus))
    sub = rows.kode_sub_kegiatan.where(rows.kode_sub_kegiatan.isin(sub_kegiatan_codes(tahun)))
    frame = _frame(
        rows.text.to_numpy(), rows.kode_bidang_urusan.to_numpy(), sub.to_numpy(), "kamus", rows.id_kamus.to_numpy()
    )
    frame["source"] = frame.source.where(own.fillna(False).to_numpy(), "kamus_template")
    return frame


def renja_texts(kode_pemda: str, tahun: int) -> pd.DataFrame:
    """The region's Renja sub kegiatan names and output indicators, labelled with their bidang and sub kegiatan."""
    own = own_renja(kode_pemda, tahun).drop_duplicates("kode_sub_kegiatan")
    if own.empty:
        return pd.DataFrame(columns=COLUMNS, dtype="string")
    texts = pd.concat([own.nama_sub_kegiatan, own.tolok_ukur])
    codes = pd.concat([own.kode_sub_kegiatan, own.kode_sub_kegiatan])
    frame = _frame(texts.to_numpy(), codes.str[:4].to_numpy(), codes.to_numpy(), "renja")
    return frame[frame.text.fillna("").str.strip() != ""].drop_duplicates(["text", "kode_bidang_urusan"])


def verified_texts(verified: pd.DataFrame | None) -> pd.DataFrame:
    """Planner-verified mappings (uraian_usulan, kode_bidang_urusan[, kode_sub_kegiatan])."""
    if verified is None or verified.empty:
        return pd.DataFrame(columns=COLUMNS, dtype="string")
    sub = verified["kode_sub_kegiatan"] if "kode_sub_kegiatan" in verified else pd.Series(pd.NA, index=verified.index)
    frame = _frame(
        verified["uraian_usulan"].to_numpy(), verified["kode_bidang_urusan"].to_numpy(), sub.to_numpy(), "verified"
    )
    frame = frame.replace("", pd.NA)
    return frame[frame.text.notna() & frame.kode_bidang_urusan.notna()].reset_index(drop=True)


BACKGROUND = "umum"  # label of unspecific texts; never returned as a bidang


@lru_cache(maxsize=1)
def _generic_texts() -> pd.DataFrame:
    """Unspecific texts (generic actions and nouns alone or in pairs, operator filler) labelled BACKGROUND."""
    pairs = [f"{a} {n}" for a in lexicon.GENERIC_ACTIONS for n in lexicon.GENERIC_NOUNS]
    texts = [*lexicon.GENERIC_ACTIONS, *lexicon.GENERIC_NOUNS, *pairs, *lexicon.FILLER_TEXTS]
    return _frame(texts, BACKGROUND, pd.NA, "umum")


def generic_texts() -> pd.DataFrame:
    """Unspecific texts (generic actions and nouns alone or in pairs, operator filler) labelled BACKGROUND."""
    return _generic_texts().copy()


def bidang_of_pemda(kode_pemda: str, tahun: int) -> frozenset[str]:
    """Bidang carried by some OPD of the pemda's list in force for the tahun (worked out once per list: every
    level of a run asks for every pemda)."""
    return _bidang_of(kode_pemda, tahun, store.fingerprint(kode_pemda, tahun))


@lru_cache(maxsize=store.PEMDA_CACHE)
def _bidang_of(kode_pemda: str, tahun: int, fingerprint: str) -> frozenset[str]:
    opd = store.opd(kode_pemda, tahun)
    slots = opd[["bidang_urusan_1", "bidang_urusan_2", "bidang_urusan_3"]].stack()
    return frozenset(slots.dropna().astype(str))


def place_names(kode_pemda: str) -> tuple[str, ...]:
    """Kecamatan and desa names of the pemda in every shipped wilayah version."""
    return _place_names().get(kode_pemda, ())


@lru_cache(maxsize=1)
def _place_names() -> dict[str, tuple[str, ...]]:
    """Place names of every pemda, in one pass over the wilayah list."""
    w = store.wilayah()
    kecamatan = w[w.tingkat == "kecamatan"][["kode", "kode_induk", "nama"]]
    desa = w[(w.tingkat == "desa") & w.kode_induk.isin(kecamatan.kode)][["kode_induk", "nama"]]
    desa = desa.assign(kode_pemda=desa.kode_induk.map(kecamatan.drop_duplicates("kode").set_index("kode").kode_induk))
    names = pd.concat([kecamatan.rename(columns={"kode_induk": "kode_pemda"})[["kode_pemda", "nama"]], desa])
    names = names.dropna(subset=["nama", "kode_pemda"]).drop_duplicates(["kode_pemda", "nama"])
    return {kode: tuple(sorted(group.nama)) for kode, group in names.groupby("kode_pemda")}


def training_texts(tahun: int, kode_pemda: str, verified: pd.DataFrame | None = None) -> pd.DataFrame:
    """All training rows: the kab/kota nomenclature of every bidang, the region's Renja, the usable kamus, the
    verified corrections and the unspecific texts."""
    parts = [reference_texts(tahun, kode_pemda), verified_texts(verified), generic_texts()]
    return pd.concat([p for p in parts if len(p)], ignore_index=True)[COLUMNS]


def reference_texts(tahun: int, kode_pemda: str) -> pd.DataFrame:
    """The rows from the reference: nomenclature, the region's Renja and its usable kamus. Made once per distinct
    reference (pemda running on the same lists share one frame; the frame is not to be changed)."""
    key = reference_key(tahun, kode_pemda)
    if key not in _REFERENCE_TEXTS:
        parts = [nomenclature_texts(tahun), renja_texts(kode_pemda, tahun), kamus_texts(kode_pemda, tahun)]
        _REFERENCE_TEXTS[key] = pd.concat([p for p in parts if len(p)], ignore_index=True)[COLUMNS]
    return _REFERENCE_TEXTS[key]


def reference_key(tahun: int, kode_pemda: str) -> tuple[int, str, bool]:
    """What the reference rows of a pemda depend on: the tahun, the lists it runs on (own or the template's) and
    whether the kamus is its own."""
    return tahun, store.fingerprint(kode_pemda, tahun), store.kamus_owner(kode_pemda, tahun) == kode_pemda


_REFERENCE_TEXTS: dict[tuple[int, str, bool], pd.DataFrame] = {}


def normalise_rows(frame: pd.DataFrame, tahun: int, kode_pemda: str, normaliser: Normaliser) -> pd.Series:
    """Each training text normalised with the place names of the region it was written in: verified texts
    with the pemda's own `normaliser`, the kamus (and the rest) with those of the pemda the kamus was written
    for. So pemda sharing the template kamus share one fit (model._fitted)."""
    owner = store.kamus_owner(kode_pemda, tahun)
    if owner == kode_pemda:
        return normaliser(frame.text)
    texts = tuple(frame.text.fillna(""))
    out = pd.Series(_normalised_as(tahun, owner, texts, normaliser.stem), index=frame.index, dtype="string")
    local = frame.source.isin(["verified", "renja"])
    out[local] = normaliser(frame.text[local])
    return out


@lru_cache(maxsize=8)
def _normalised_as(tahun: int, kode_pemda: str, texts: tuple[str, ...], stem: bool) -> tuple[str, ...]:
    """Texts normalised as written in `kode_pemda` (computed once per process for the template's rows)."""
    normaliser = Normaliser(keep_words(tahun, kode_pemda), place_names(kode_pemda), stem)
    return tuple(normaliser(pd.Series(texts, dtype="string")))


def keep_words(tahun: int, kode_pemda: str) -> frozenset[str]:
    """Words never dropped as names: those of the nomenclature names, and kamus words used by at least two kamus
    entries that are not part of a place name of the pemda (so "posyandu mawar", "way seputih" are not kept)."""
    key = reference_key(tahun, kode_pemda)
    if key not in _VOCABULARY:
        phrases = kamus_phrases(store.kamus(kode_pemda, tahun), blank_placeholders=True)
        per_entry = expand_words(phrases.text).str.split().explode().to_frame("word").assign(entry=phrases.id_kamus)
        counts = per_entry.drop_duplicates().groupby("word").size()
        _VOCABULARY[key] = _words(nomenclature_texts(tahun).text), frozenset(counts[counts >= 2].index)
    nomenclature, shared = _VOCABULARY[key]
    return nomenclature | (shared - _words(place_names(kode_pemda)))


_VOCABULARY: dict[tuple[int, str, bool], tuple[frozenset[str], frozenset[str]]] = {}


def _words(texts) -> frozenset[str]:
    return frozenset(" ".join(expand_words(pd.Series(list(texts), dtype="string"))).split())
