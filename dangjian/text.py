"""Text normalisation for matching, and the project's private jieba tokenizer.

``normalize`` never changes the length of a string, so an offset into the normalised text is an
offset into the original: quotes stay verbatim, matching sees simplified half-width text.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from pathlib import Path

import jieba

jieba.setLogLevel(logging.WARNING)

# Runs of `*` are redaction marks in these reports (`***社区`, `**次`, `*期`).
REDACTION_RE = re.compile(r"[*＊]+")
_TOKEN_OK_RE = re.compile(r"[0-9A-Za-z\u3400-\u9fff\uf900-\ufaff]")


@lru_cache(maxsize=1)
def _translate_table() -> dict[int, str]:
    table: dict[int, str] = {}
    # Full-width ASCII -> half-width, ideographic space -> space.
    for code in range(0xFF01, 0xFF5F):
        table[code] = chr(code - 0xFEE0)
    table[0x3000] = " "
    # Traditional -> simplified, one character to one character (OpenCC's TSCharacters table).
    import opencc  # opencc-python-reimplemented ships the dictionaries as text files

    ts_path = Path(opencc.__file__).parent / "dictionary" / "TSCharacters.txt"
    for line in ts_path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) != 2:
            continue
        trad, simp = parts[0], parts[1].split(" ")[0]
        if len(trad) == 1 and len(simp) == 1 and trad != simp:
            table[ord(trad)] = simp
    return table


def normalize(text: str) -> str:
    """Full-width to half-width and traditional to simplified, character by character.

    The result has exactly the same length as ``text``.
    """
    return text.translate(_translate_table())


@lru_cache(maxsize=65536)
def normalize_name(name: str) -> str:
    """``normalize`` of a short string met again and again (a method card's name, a section
    heading), done once."""
    return normalize(name)


@lru_cache(maxsize=1)
def _sources() -> dict[str, str]:
    """For a Chinese character, every character ``normalize`` turns into it (itself included)."""
    sources: dict[str, str] = {}
    for code, simple in _translate_table().items():
        if "\u3400" <= simple <= "\u9fff":
            sources[simple] = sources.get(simple, simple) + chr(code)
    return sources


def may_contain(raw: str, folded: str) -> bool:
    """Whether ``normalize(raw).lower()`` may contain ``folded`` (normalised, lower case): false
    only when ``raw`` holds no form of its first Chinese character (cheap: no normalising)."""
    first = next((c for c in folded if "\u3400" <= c <= "\u9fff"), None)
    return first is None or any(c in raw for c in _sources().get(first, first))


_NOT_WORD_RE = re.compile(r"[^0-9a-z\u3400-\u9fff]")


def char_bigrams(text: str) -> set[str]:
    """Adjacent character pairs of ``text`` normalised, letters and digits and Chinese only: how
    two texts overlap regardless of punctuation and spacing."""
    t = _NOT_WORD_RE.sub("", normalize(text).lower())
    return {t[i : i + 2] for i in range(len(t) - 1)}


_HAN_RE = re.compile(r"[\u4e00-\u9fff]")
_LATIN_WORDS_RE = re.compile(r"(?:[A-Za-z]+[^A-Za-z\n]+){2}[A-Za-z]")


def searchable_text(text: str) -> str:
    """What the retrievers read of a passage: in Chinese text, lines in a foreign language (the
    English of a bilingual Party Constitution) are left out, so they neither dilute the passage's
    vector nor its term weights. The passage itself, and its quotes, stay verbatim."""
    if "\n" not in text or not _HAN_RE.search(text):
        return text
    lines = text.split("\n")
    kept = [ln for ln in lines if _HAN_RE.search(ln) or not _LATIN_WORDS_RE.search(ln)]
    return text if len(kept) == len(lines) else "\n".join(kept)


def data_lines(name: str) -> list[str]:
    """Non-empty, non-comment lines of a text file in ``dangjian/data``."""
    raw = resources.files("dangjian.data").joinpath(name).read_text(encoding="utf-8")
    return [ln.strip() for ln in raw.splitlines() if ln.strip() and not ln.startswith("#")]


@lru_cache(maxsize=1)
def domain_words() -> tuple[str, ...]:
    """The 党建 domain dictionary kept in the repository (``dangjian/data/domain_dict.txt``)."""
    return tuple(dict.fromkeys(data_lines("domain_dict.txt")))


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    return frozenset(data_lines("stopwords.txt"))


def _dict_form(word: str) -> str:
    """How a word enters the tokenizer: normalised and lower-cased, as the text it must match."""
    return normalize(word.strip()).lower()


def dictionary_hash(extra_words: Iterable[str] = ()) -> str:
    """Hash of everything that changes tokenisation: jieba version, domain and corpus words."""
    h = hashlib.sha256(f"jieba {jieba.__version__}\n".encode())
    for word in sorted({_dict_form(w) for w in (*domain_words(), *extra_words)}):
        h.update(word.encode("utf-8") + b"\n")
    return h.hexdigest()[:16]


@lru_cache(maxsize=1)
def _base_dictionary() -> tuple[dict[str, int], int]:
    """jieba's default dictionary (word → frequency, total), loaded once; never modified."""
    base = jieba.Tokenizer()
    base.check_initialized()
    return base.FREQ, base.total


def _word_tags() -> dict[str, str]:
    """jieba's part-of-speech tags of its dictionary words: those its module loads on import
    for its global tagger (read here, never modified)."""
    import jieba.posseg

    return jieba.posseg.dt.word_tag_tab


class Tokenizer:
    """A private jieba tokenizer with the domain dictionary (jieba's global instance is untouched).

    ``cut`` is jieba's precise mode (one token per word, used to check the dictionary);
    ``tokenize`` is search mode over normalised text with punctuation, stop words and redaction
    marks removed (what the lexical index sees).
    """

    def __init__(self, extra_words: Iterable[str] = ()):
        self._jieba = jieba.Tokenizer()
        # a copy of the shared base dictionary: its ~500k strings are not loaded again for every
        # tokenizer (a service holds two or three while a write switches versions: 64 MB each
        # loaded, 14 MB each copied)
        freq, total = _base_dictionary()
        self._jieba.FREQ, self._jieba.total, self._jieba.initialized = dict(freq), total, True
        self._lock = threading.Lock()
        self.words: set[str] = set()
        self._tagger = None
        self.add_words(domain_words())
        self.add_words(extra_words)

    def add_words(self, words: Iterable[str]) -> None:
        with self._lock:
            self._jieba.check_initialized()
            for word in words:
                word = _dict_form(word)
                if len(word) < 2 or word in self.words:
                    continue
                # suggest_freq(tune=False) returns a frequency high enough for the word to win
                # over any split the dictionary would otherwise prefer.
                freq = max(self._jieba.suggest_freq(word, tune=False), 10)
                self._jieba.add_word(word, freq=freq)
                self.words.add(word)

    @property
    def dictionary_hash(self) -> str:
        return dictionary_hash(self.words)

    def tagged(self, text: str) -> list[tuple[str, str]]:
        """(word, part of speech) pairs of jieba's tagger over this tokenizer's dictionary."""
        if self._tagger is None:
            import jieba.posseg

            with self._lock:  # service threads may ask at once
                if self._tagger is None:
                    tagger = jieba.posseg.POSTokenizer.__new__(jieba.posseg.POSTokenizer)
                    # jieba's word tags (84 MB) are shared: they never change, as the words this
                    # tokenizer adds carry no tag
                    tagger.tokenizer, tagger.word_tag_tab = self._jieba, _word_tags()
                    self._tagger = tagger
        return [(pair.word, pair.flag) for pair in self._tagger.cut(text)]

    def cut(self, text: str) -> list[str]:
        return [t for t in self._jieba.cut(normalize(text).lower(), HMM=True) if t.strip()]

    def tokenize(self, text: str) -> list[str]:
        text = REDACTION_RE.sub(" ", normalize(text)).lower()
        stop = stopwords()
        return [
            tok for tok in self._jieba.cut_for_search(text, HMM=True) if _TOKEN_OK_RE.search(tok) and tok not in stop
        ]
