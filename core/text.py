"""Vietnamese text helpers: NFC on the way in, a diacritic fold for matching and search.

Pure functions only. Every string that enters the system goes through `nfc`; everything that is
compared or searched goes through `fold`.
"""

from __future__ import annotations

import re
import unicodedata

_WS = re.compile(r"\s+")
# Everything that is not a letter or digit separates words for matching ("[BÀI-CỘNG_TÁC]").
_NON_WORD = re.compile(r"[^0-9a-z]+")
# A Vietnamese "word" for length rules is a syllable: a run of letters/digits between spaces.
_SYLLABLE = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*", re.UNICODE)


def nfc(text: str | None) -> str:
    """NFC-normalize; None becomes the empty string."""
    if not text:
        return ""
    return unicodedata.normalize("NFC", text)


# Control and format characters (C0/C1 controls, zero-width and direction marks, BOM, line separators).
_INVISIBLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]")


def clean_line(text: str | None) -> str:
    """NFC, control characters removed, whitespace collapsed, stripped."""
    return _WS.sub(" ", _INVISIBLE.sub(" ", nfc(text))).strip()


def strip_diacritics(text: str | None) -> str:
    """Every diacritic removed and đ mapped to d, case kept: 'Đảng ủy' becomes 'Dang uy' (ASCII names)."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", stripped)


def _slow_fold(text: str) -> str:
    return strip_diacritics(text).casefold()


# Every Latin letter with diacritics (Latin-1, Extended-A/B, Extended Additional = all Vietnamese
# letters) and every combining mark, folded once: fold() is then one str.translate per string.
_FOLD_TABLE = {
    cp: _slow_fold(chr(cp))
    for block in (range(0x00C0, 0x0250), range(0x1E00, 0x1F00))
    for cp in block
    if _slow_fold(chr(cp)) != chr(cp).casefold()
}
_FOLD_TABLE.update({cp: "" for cp in range(0x0300, 0x0370)})


def fold(text: str | None) -> str:
    """Lower-case, strip every diacritic, map đ to d: 'Đảng uỷ' and 'dang uy' fold alike.

    Folding by decomposition also removes the old/new tone-placement difference (hòa/hoà),
    which is what matching needs; the stored text is never rewritten.
    """
    if not text:
        return ""
    return text.translate(_FOLD_TABLE).casefold()


def fold_words(text: str | None) -> str:
    """`fold`, with every run of punctuation and spaces turned into one space."""
    return _NON_WORD.sub(" ", fold(text)).strip()


def contains_phrase(haystack: str | None, phrase: str) -> bool:
    """True when `phrase` occurs in `haystack` as whole words, ignoring case, accents, punctuation.

    'BÀI CỘNG TÁC' matches 'Fwd: [Bai cong tac] ...', 'bài-cộng-tác' and NFD forms; it does not
    match 'bài cộng' alone or 'baicongtac'.
    """
    needle = fold_words(phrase)
    if not needle:
        return False
    return f" {needle} " in f" {fold_words(haystack)} "


def syllable_count(text: str | None) -> int:
    """Number of Vietnamese syllables (space-separated words), the unit of every length rule."""
    return len(_SYLLABLE.findall(nfc(text)))


def _folded_chars(text: str) -> list[str]:
    """`fold` applied per character of the NFC text, so positions map back to the original."""
    return [fold(ch) for ch in text]


def find_phrase(haystack: str, phrase: str) -> tuple[int, int] | None:
    """Span (start, end) in NFC `haystack` of the first whole-word, fold-insensitive match of `phrase`.

    Words of the phrase may be separated by any punctuation or spaces in the haystack.
    """
    haystack = nfc(haystack)
    words = fold_words(phrase).split()
    if not words:
        return None
    chars = _folded_chars(haystack)
    # Tokenize the haystack into (folded word, start, end) using the per-char fold.
    tokens: list[tuple[str, int, int]] = []
    i, n = 0, len(chars)
    while i < n:
        if _NON_WORD.fullmatch(chars[i] or " "):
            i += 1
            continue
        j = i
        while j < n and not _NON_WORD.fullmatch(chars[j] or " "):
            j += 1
        tokens.append(("".join(chars[i:j]), i, j))
        i = j
    for k in range(len(tokens) - len(words) + 1):
        if all(tokens[k + m][0] == w for m, w in enumerate(words)):
            return tokens[k][1], tokens[k + len(words) - 1][2]
    return None
