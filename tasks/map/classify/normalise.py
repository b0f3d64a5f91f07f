"""Indonesian normalisation of usulan text: case, punctuation, abbreviations, location noise, stemming.

`Normaliser` works on a pandas Series and touches each distinct text once. Place and group names are dropped
after marker words ("dusun sukamaju", "kampung bumi ratu", "poktan sumber rejeki"), except words the
training vocabulary knows (`keep_words`), so "kampung iklim" and "desa wisata" survive.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from functools import cache, lru_cache

import pandas as pd

from tasks.map.classify import lexicon

_REDUPLICATION = re.compile(r"\b([a-z]{3,})2\b")  # gorong2 -> gorong gorong
_LETTERS_THEN_NUMBER = re.compile(r"\b([a-z]+)(\d+)\b")  # rt02 -> rt 02
_NOT_WORD = re.compile(r"[^a-z0-9]+")
_RT_RW = re.compile(r"\b(?:rt|rw)\s+\d+(?:\s+\d+)?\b")  # "rt 02", "rt 01 02" (rt/rw 01/02)
_HOUSEHOLDS = re.compile(r"\b(\d+)\s*kk\b")  # "50 kk": households (kepala keluarga), not the kartu keluarga
SEPARATOR = " | "  # between the object words and the address words of a normalised text
_PHRASES = re.compile(r"\b(" + "|".join(sorted(map(re.escape, lexicon.PHRASES), key=len, reverse=True)) + r")\b")


@lru_cache(maxsize=1)
def _stemmer():
    from Sastrawi.Stemmer.StemmerFactory import StemmerFactory

    return StemmerFactory().create_stemmer()


@cache
def stem_word(word: str) -> str:
    """Sastrawi stem of one word, computed once per process."""
    if len(word) <= 3 or word in lexicon.UNSTEMMED or not word.isalpha():
        return word
    return _stemmer().stem(word) or word


@lru_cache(maxsize=65536)
def _expand(text: str) -> tuple[str, ...]:
    """Lower-cased, punctuation-free, abbreviation-expanded tokens with rt/rw numbers removed (each text once: the
    classifier and the jurisdiction check both read it)."""
    text = _REDUPLICATION.sub(r"\1 \1", text.lower().replace("&", " dan "))
    text = _NOT_WORD.sub(" ", text)
    text = _LETTERS_THEN_NUMBER.sub(r"\1 \2", text)
    text = _RT_RW.sub(" ", text)
    text = _HOUSEHOLDS.sub(r"\1 kepala keluarga", text)
    text = _PHRASES.sub(lambda m: lexicon.PHRASES[m.group(1)], text)
    return tuple(" ".join(lexicon.ABBREVIATIONS.get(t, t) for t in text.split()).split())


def _concept_phrases() -> dict[str, list[tuple[tuple[str, ...], str]]]:
    """The concept of an abbreviation the concept list knows, keyed by the words it expands to ("ktp" is read as
    "kartu tanda penduduk" before concepts are added, so its concept is found on those words; a text that spells
    the words out gets it too): first word -> [(words, concept)], longest first."""
    phrases: dict[str, list[tuple[tuple[str, ...], str]]] = {}
    for short, concept in lexicon.CONCEPTS.items():
        words = tuple(lexicon.ABBREVIATIONS.get(short, short).split())
        if short in words:  # the word survives its expansion ("tps3r olah sampah") and meets its concept itself
            continue
        phrases.setdefault(words[0], []).append((words, concept))
    for options in phrases.values():
        options.sort(key=lambda option: len(option[0]), reverse=True)
    return phrases


_CONCEPT_PHRASES = _concept_phrases()


def _with_concepts(tokens: list[str]) -> list[str]:
    """Each word the concept list knows followed by the nomenclature's words for it; the words an abbreviation of
    the list expands to are followed by its concept (the words of it they did not bring already)."""
    out: list[str] = []
    i, n = 0, len(tokens)
    while i < n:
        token = tokens[i]
        for words, concept in _CONCEPT_PHRASES.get(token, ()):
            if tuple(tokens[i : i + len(words)]) == words:
                inner = _word_concepts(words)
                out += inner + [w for w in concept.split() if w not in inner]
                i += len(words)
                break
        else:
            out += _word_concepts((token,))
            i += 1
    return out


def _word_concepts(words: Sequence[str]) -> list[str]:
    """Each word followed by its concept: the word's own, else that of its stem ("persawahan" -> "sawah") unless
    the stem is another word (lexicon.OTHER_THAN_STEM: "jaringan" is no fishing net)."""
    out: list[str] = []
    for t in words:
        out.append(t)
        concept = lexicon.CONCEPTS.get(t)
        if concept is None and t not in lexicon.OTHER_THAN_STEM:
            concept = lexicon.CONCEPTS.get(stem_word(t))
        if concept:
            out += concept.split()
    return out


def expand_words(texts: pd.Series) -> pd.Series:
    """The expanded words of each text before location removal and stemming (for building `keep_words`)."""
    return texts.fillna("").astype(str).map(lambda t: " ".join(_expand(t)))


@lru_cache(maxsize=1 << 16)
def _topic_words(tokens: tuple[str, ...], stem: bool) -> str:
    """The words of tokens left once place names are dropped: concepts added, stop words and numbers out,
    stemmed. The same for every pemda (only dropping place names is the pemda's own), so worked out once per
    process for the texts many pemda share."""
    stemmed = stem_word if stem else str
    words = (stemmed(t) for t in _with_concepts(list(tokens)) if not t.isdigit() and t not in lexicon.STOPWORDS)
    return " ".join(w for w in words if len(w) > 1)


_MARKERS = frozenset(lexicon.LOCATION_MARKERS) | frozenset(lexicon.NAME_MARKERS)


def _is_number(token: str) -> bool:
    return token.isdigit() or token in lexicon.ROMAN_NUMERALS


class Normaliser:
    """Turns raw usulan text into stemmed topic words.

    keep_words: words never dropped as names (see training.keep_words: nomenclature and shared kamus words).
    place_names: names of the pemda's kecamatan and desa, dropped after a marker word, and elsewhere when
    none of their words is a keep word.
    """

    def __init__(self, keep_words: frozenset[str] = frozenset(), place_names: tuple[str, ...] = (), stem: bool = True):
        self.keep_words = frozenset(keep_words)
        self.stem = stem
        self.place_names = tuple(sorted({" ".join(_expand(n)) for n in place_names if n}))
        self._places: dict[str, list[tuple[str, ...]]] = {}
        for name in self.place_names:
            words = tuple(name.split())
            if words:
                self._places.setdefault(words[0], []).append(words)
        for options in self._places.values():
            options.sort(key=len, reverse=True)

    @property
    def signature(self) -> str:
        """Hash of everything that changes the output (part of the model version)."""
        payload = json.dumps(
            [
                lexicon.PHRASES,
                lexicon.ABBREVIATIONS,
                lexicon.CONCEPTS,
                sorted(lexicon.STOPWORDS),
                sorted(lexicon.LOCATION_MARKERS),
                sorted(lexicon.NAME_MARKERS),
                sorted(lexicon.UNSTEMMED),
                sorted(lexicon.OTHER_THAN_STEM),
                sorted(lexicon.ADDRESS_MARKERS),
                sorted(lexicon.ACTION_STEMS),
                sorted(self.keep_words),
                self.place_names,
                self.stem,
            ],
            sort_keys=True,
        )
        return hashlib.sha256(payload.encode()).hexdigest()[:12]

    def _place_at(self, tokens: Sequence[str], i: int, anywhere: bool) -> int:
        """Length of a known place name starting at tokens[i] (0 if none). Away from a marker, a name that
        shares a word with the training vocabulary is kept ("bangun rejo" could be a proposal to build)."""
        for words in self._places.get(tokens[i], ()):
            if tuple(tokens[i : i + len(words)]) == words and (not anywhere or not (set(words) & self.keep_words)):
                return len(words)
        return 0

    def drop_place_names(self, tokens: Sequence[str]) -> list[str]:
        """Remove numbers and names after location/group markers, and known place names anywhere."""
        if self._places.keys().isdisjoint(tokens) and _MARKERS.isdisjoint(tokens):  # most texts: nothing to drop
            return [t for t in tokens if t not in ("lk", "rk")]
        out: list[str] = []
        i, n = 0, len(tokens)
        while i < n:
            token = tokens[i]
            skip = self._place_at(tokens, i, anywhere=True)
            if skip:
                i += skip
                continue
            out.append(token)
            i += 1
            if token not in lexicon.LOCATION_MARKERS and token not in lexicon.NAME_MARKERS:
                continue
            start = i
            named = False
            if i < n and (skip := self._place_at(tokens, i, anywhere=False)):
                i, named = i + skip, True
            while i < n and _is_number(tokens[i]):
                i, named = i + 1, True
            limit = 0 if named else (2 if token in lexicon.LOCATION_MARKERS else 3)
            while limit and i < n and tokens[i] not in self.keep_words and tokens[i] not in lexicon.LOCATION_MARKERS:
                i, limit = i + 1, limit - 1
            if token in lexicon.LOCATION_MARKERS and i > start:
                out.pop()  # "dusun 3", "desa sukamaju": a place, not the topic ("jalan desa", "kampung iklim" stay)
        return [t for t in out if t not in ("lk", "rk")]  # kelurahan lingkungan numbers, not topics

    def _words(self, tokens: Sequence[str]) -> str:
        return _topic_words(tuple(self.drop_place_names(tokens)), self.stem)

    @staticmethod
    @lru_cache(maxsize=1 << 16)
    def address_at(tokens: tuple[str, ...]) -> int | None:
        """Index of the word that starts the address part ("depan", "dekat", "di", "menuju", ...), if an object
        precedes it: some word before it that is neither a stop word, a number nor only an action."""
        for i, token in enumerate(tokens):
            if i == 0 or token not in lexicon.ADDRESS_MARKERS:
                continue
            if token == "di" and i + 1 < len(tokens) and stem_word(tokens[i + 1]) in lexicon.ACTION_STEMS:
                continue  # "mohon di aspal": a verb prefix written apart
            before = (t for t in tokens[:i] if t not in lexicon.STOPWORDS and not _is_number(t))
            if any(stem_word(t) not in lexicon.ACTION_STEMS for t in before):
                return i
        return None

    def object_and_address(self, text: str) -> tuple[str, str, str]:
        """(object words, address marker, address words) of a text, lower-cased, expanded and without place names
        but not stemmed; marker and address are empty when the text names no address
        ("perbaikan drainase depan sdn 1" -> "perbaikan drainase" / "depan" / "sekolah dasar negeri")."""
        tokens = _expand(text)
        cut = self.address_at(tokens)
        if cut is None:
            return " ".join(self.drop_place_names(tokens)), "", ""
        head, tail = self.drop_place_names(tokens[:cut]), self.drop_place_names(tokens[cut + 1 :])
        return " ".join(head), tokens[cut], " ".join(tail)

    def one(self, text: str) -> str:
        """Normalise a single text: "<object words> | <address words>", or the object words alone."""
        tokens = _expand(text)
        cut = self.address_at(tokens)
        if cut is None:
            return self._words(tokens)
        head, tail = self._words(tokens[:cut]), self._words(tokens[cut + 1 :])
        return f"{head}{SEPARATOR}{tail}" if head and tail else head or tail

    def __call__(self, texts: pd.Series) -> pd.Series:
        """Normalise a Series (index kept); each distinct text is worked on once."""
        codes, distinct = pd.factorize(texts.astype("string").fillna(""), sort=False)
        done = pd.Series([self.one(t) for t in distinct], dtype="string")
        return pd.Series(done.to_numpy()[codes] if len(codes) else [], index=texts.index, dtype="string")


def normalise(texts: pd.Series, normaliser: Normaliser | None = None) -> pd.Series:
    """Normalise texts with the given normaliser or one without vocabulary or place names."""
    return (normaliser or Normaliser())(texts)
