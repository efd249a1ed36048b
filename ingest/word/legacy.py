"""Legacy Vietnamese encodings -> Unicode NFC: TCVN3 (ABC, VN3), VNI Windows, Windows-1258.

Word files typed before Unicode carry the legacy *bytes* of a TCVN3 font (".VnTime", ".VnTimeH", ...)
or a VNI font ("VNI-Times", ...). A .docx stores every run as Unicode, so those bytes arrive as the
characters U+00A0-U+00FF (bytes read as Latin-1), with the Windows-1252 characters ("“", "–", ...)
standing for bytes 0x80-0x9F. The converter calls `decode_run(text, font_name)` for each run.

The tables below are facts of the two standards (TCVN 5712:1993 VN3, VNI Windows), checked in the
tests against glibc's TCVN5712-1 charset. Everything returned is NFC.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from typing import Final, Literal

from core.text import nfc

LegacyEncoding = Literal["tcvn3", "vni"]

__all__ = [
    "LegacyEncoding",
    "decode_cp1258",
    "decode_legacy_bytes",
    "decode_run",
    "decode_tcvn3",
    "decode_vni",
    "encode_cp1258",
    "encode_tcvn3",
    "encode_vni",
    "is_capitals_font",
    "legacy_encoding",
    "legacy_score",
    "looks_legacy",
    "looks_legacy_document",
]

_GRAVE, _ACUTE, _TILDE, _HOOK, _DOT = "\u0300", "\u0301", "\u0303", "\u0309", "\u0323"
_TONE_MARKS: Final = frozenset((_GRAVE, _ACUTE, _TILDE, _HOOK, _DOT))
_CIRCUMFLEX, _BREVE, _HORN = "\u0302", "\u0306", "\u031b"

# --- TCVN3 ------------------------------------------------------------------------------------------
# Bytes 0xA0-0xFF, one row of 16 per line. Bytes B0-B4 are combining tones; the capitals with a tone at
# AF, BA, BF-C5, CD, D9-DB, E0, F0 and FF are the VN1 extension that glibc decodes (VN3 keyboards never
# type them: toned capitals are lowercase codes shown in a "...H" font).
_TCVN3_A0_FF: Final = (
    "\u00a0ĂÂÊÔƠƯĐăâêôơưđẰ"
    f"{_GRAVE}{_HOOK}{_TILDE}{_ACUTE}{_DOT}àảãáạẲằẳẵắẴ"
    "ẮẦẨẪẤỀặầẩẫấậèỂẻẽ"
    "éẹềểễếệìỉỄẾỒĩíịò"
    "Ổỏõóọồổỗốộờởỡớợù"
    "Ỗủũúụừửữứựỳỷỹýỵ"
    "Ố"
)
assert len(_TCVN3_A0_FF) == 96
_TCVN3_DECODE: Final = {chr(0xA0 + i): ch for i, ch in enumerate(_TCVN3_A0_FF)}
# Unicode -> the character that sits in a .docx run; combining tones are never produced by encoding.
_TCVN3_ENCODE: Final = {ch: raw for raw, ch in _TCVN3_DECODE.items() if ch not in _TONE_MARKS}
# Legacy characters that only the VN1 extension or decomposed typing produce: a sign of a misreading.
# (Ă Â Ê Ô Ơ Ư Đ at A1-A7 are plain VN3 capitals and stay out of it.)
_TCVN3_UNTYPED: Final = frozenset(
    raw for raw, ch in _TCVN3_DECODE.items() if ch in _TONE_MARKS or (ch.isupper() and raw > "§")
)

# --- VNI Windows ------------------------------------------------------------------------------------
# A letter is an ASCII base plus one "mark" character; ư ơ đ and the toned i / ỵ are single characters.
_VNI_TONE: Final = {"ø": _GRAVE, "ù": _ACUTE, "û": _HOOK, "õ": _TILDE, "ï": _DOT}
_VNI_CIRCUMFLEX: Final = {"â": "", "à": _GRAVE, "á": _ACUTE, "å": _HOOK, "ã": _TILDE, "ä": _DOT}
_VNI_BREVE: Final = {"ê": "", "è": _GRAVE, "é": _ACUTE, "ú": _HOOK, "ü": _TILDE, "ë": _DOT}
_VNI_SINGLE_LOWER: Final = {
    "ñ": "đ",
    "ô": "ơ",
    "ö": "ư",
    "ì": "ì",
    "í": "í",
    "æ": "ỉ",
    "ó": "ĩ",
    "ò": "ị",
    "î": "ỵ",
}
_VNI_LOWER_MARKS: Final = {
    **{k: ("tone", v) for k, v in _VNI_TONE.items()},
    **{k: ("circumflex", _CIRCUMFLEX + v) for k, v in _VNI_CIRCUMFLEX.items()},
    **{k: ("breve", _BREVE + v) for k, v in _VNI_BREVE.items()},
}
# Capital marks are the capital Latin-1 letters (Ø Ù Û Õ Ï, Â À Á Å Ã Ä, Ê È É Ú Ü Ë).
_VNI_MARKS: Final = {**_VNI_LOWER_MARKS, **{k.upper(): v for k, v in _VNI_LOWER_MARKS.items()}}
_VNI_SINGLE: Final = {**_VNI_SINGLE_LOWER, **{k.upper(): v.upper() for k, v in _VNI_SINGLE_LOWER.items()}}
_VNI_MARK_BASES: Final = {"tone": "aeiouyơư", "circumflex": "aeo", "breve": "a"}
_VNI_TONE_OF: Final = {v: k for k, v in _VNI_TONE.items()}
_VNI_CIRCUMFLEX_OF: Final = {v: k for k, v in _VNI_CIRCUMFLEX.items()}
_VNI_BREVE_OF: Final = {v: k for k, v in _VNI_BREVE.items()}
_VNI_I_OF: Final = {"": "i", _GRAVE: "ì", _ACUTE: "í", _HOOK: "æ", _TILDE: "ó", _DOT: "ò"}

# --- Windows-1252 stand-ins ---------------------------------------------------------------------------
# Word shows bytes 0x80-0x9F of these fonts as Windows punctuation (“ ” – …), and real TCVN3 documents
# use them as punctuation, so they are kept. A reader that used Latin-1 leaves C1 controls instead:
# those are turned into the Windows-1252 character of the same byte.
_C1_TO_CP1252: Final[dict[str, str | int | None]] = {
    chr(b): bytes([b]).decode("cp1252") for b in range(0x80, 0xA0) if b not in (0x81, 0x8D, 0x8F, 0x90, 0x9D)
}

# Characters of Unicode Vietnamese outside Latin-1: their presence means the run is already Unicode.
_UNICODE_VIETNAMESE: Final = re.compile("[ĂăĐđĨĩŨũƠơƯư\u1ea0-\u1ef9\u0300-\u0323]")
# Words: letters and every Latin-1 character (TCVN3 letters include "µ", "§", "×"); Unicode
# Vietnamese letters too, so that they can vote.
_TOKEN: Final = re.compile("[A-Za-z\u00a1-\u00ff\u0100-\u01b0\u1ea0-\u1ef9\u0300-\u0323]+")
_LATIN1_LETTER_OR_SIGN: Final = re.compile("[\u00a1-\u00ff]")


def _font_key(font_name: str | None) -> str:
    """Casefolded font name without the alternatives and charset suffixes Word and RTF append."""
    if not font_name:
        return ""
    name = font_name.split(";")[0].strip().casefold()
    # ".VnTimeH Tur", "VNI-Times CE": Word's per-charset aliases of the same font.
    return re.sub(r"\s+(tur|ce|cyr|greek|baltic|western|\(vietnamese\))$", "", name)


def legacy_encoding(font_name: str | None) -> LegacyEncoding | None:
    """The legacy encoding a font implies, or None for Unicode and unknown fonts.

    TCVN3: the ABC fonts (".VnTime", ".VnArialH", ...), names that say "TCVN3" ("VNSTCVN3") and the
    "Vn...(Ds)" family ("VnTimeH(Ds)", "VnArialH(Ds)"), which copies the ABC names.
    VNI: "VNI-..." ("VNI-Times", "VNI-Helve-Condense") and the "VNSVNI..." fonts.
    """
    key = _font_key(font_name)
    if not key:
        return None
    if key.startswith(".vn") or "tcvn3" in key or re.fullmatch(r"vn[a-z0-9 ]+\(ds\)", key):
        return "tcvn3"
    if re.match(r"vni[-_ ]", key) or key.startswith("vnsvni"):
        return "vni"
    return None


def is_capitals_font(font_name: str | None) -> bool:
    """True for the TCVN3 capitals-only fonts (".VnTimeH", ".VnArial NarrowH", "VnTimeH(Ds)")."""
    if legacy_encoding(font_name) != "tcvn3":
        return False
    return _font_key(font_name).removesuffix("(ds)").rstrip().endswith("h")


def _c1_to_cp1252(text: str) -> str:
    return text.translate(str.maketrans(_C1_TO_CP1252)) if re.search("[\x80-\x9f]", text) else text


def decode_tcvn3(text: str, *, capitals: bool = False) -> str:
    """TCVN3 text as it sits in a .docx run -> NFC Unicode; `capitals` for the "...H" fonts."""
    decoded = "".join(_TCVN3_DECODE.get(ch, ch) for ch in _c1_to_cp1252(text))
    decoded = nfc(decoded)
    return nfc(decoded.upper()) if capitals else decoded


def decode_vni(text: str) -> str:
    """VNI Windows text as it sits in a .docx run -> NFC Unicode."""
    out: list[str] = []
    # The letter the next mark may attach to (lowercased), and the marks it already carries.
    base = ""
    has_shape = has_tone = False
    for ch in _c1_to_cp1252(text):
        mark = _VNI_MARKS.get(ch)
        if mark is not None:
            kind, combining = mark
            if base in _VNI_MARK_BASES[kind] and not has_tone and (kind == "tone" or not has_shape):
                out.append(combining)
                has_shape = has_shape or kind != "tone"
                has_tone = kind == "tone" or len(combining) > 1
            else:
                # No letter for it to sit on: keep the character rather than guess.
                out.append(ch)
                base = ""
            continue
        single = _VNI_SINGLE.get(ch)
        letter = single if single is not None else ch
        out.append(letter)
        folded = letter.lower()
        if single is not None and folded in "ơư":
            base, has_shape, has_tone = folded, True, False
        elif single is None and folded in "aeiouy":
            base, has_shape, has_tone = folded, False, False
        else:
            base = ""
    return nfc("".join(out))


def _split_letter(ch: str) -> tuple[str, str, str] | None:
    """A Vietnamese letter as (base, shape mark, tone mark), or None when it is not one."""
    parts = unicodedata.normalize("NFD", ch)
    base, marks = parts[0], parts[1:]
    shape = "".join(m for m in marks if m not in _TONE_MARKS)
    tone = "".join(m for m in marks if m in _TONE_MARKS)
    allowed = {"a": ("", _CIRCUMFLEX, _BREVE), "e": ("", _CIRCUMFLEX), "o": ("", _CIRCUMFLEX, _HORN)}
    allowed |= {"u": ("", _HORN), "i": ("",), "y": ("",)}
    if base.lower() not in allowed or shape not in allowed[base.lower()] or len(tone) > 1:
        return None
    return base, shape, tone


def encode_tcvn3(text: str, *, capitals: bool = False) -> str:
    """Unicode -> TCVN3 characters as Word stores them in a run (for fixtures and round-trip tests).

    VN3 has no capitals with a tone: a heading is encoded lowercase for a "...H" font with
    `capitals=True`; otherwise such a capital raises ValueError (as does any Latin-1 character that
    TCVN3 uses for something else, such as "°").
    """
    source = nfc(text.lower() if capitals else text)
    out: list[str] = []
    for ch in source:
        if ch < "\x80":
            out.append(ch)
        elif ch in _TCVN3_ENCODE:
            out.append(_TCVN3_ENCODE[ch])
        elif ch <= "\xff" or _split_letter(ch) is not None:
            hint = "" if capitals else " (a capital with a tone needs capitals=True)"
            raise ValueError(f"{ch!r} cannot be written in TCVN3 (VN3){hint}")
        else:
            out.append(ch)
    return "".join(out)


def encode_vni(text: str) -> str:
    """Unicode -> VNI Windows characters as Word stores them in a run (for fixtures and tests)."""
    out: list[str] = []
    for ch in nfc(text):
        if ch < "\x80":
            out.append(ch)
            continue
        if ch in "đĐ":
            out.append("ñ" if ch == "đ" else "Ñ")
            continue
        parts = _split_letter(ch)
        if parts is None:
            if "\xc0" <= ch <= "\xff":
                raise ValueError(f"{ch!r} cannot be written in VNI: that code is a Vietnamese mark")
            out.append(ch)
            continue
        base, shape, tone = parts
        upper = base.isupper()
        lower = base.lower()
        if lower == "i":
            piece = _VNI_I_OF[tone]
        elif lower == "y" and tone == _DOT:
            piece = "î"
        elif shape == _HORN:
            piece = ("ô" if lower == "o" else "ö") + (_VNI_TONE_OF[tone] if tone else "")
        elif shape == _CIRCUMFLEX:
            piece = lower + _VNI_CIRCUMFLEX_OF[tone]
        elif shape == _BREVE:
            piece = lower + _VNI_BREVE_OF[tone]
        else:
            piece = lower + (_VNI_TONE_OF[tone] if tone else "")
        out.append(piece.upper() if upper else piece)
    return "".join(out)


# --- telling legacy text from Unicode -------------------------------------------------------------------
_ONSET_TEXT: Final = "b c ch d đ g gh gi h k kh l m n ng ngh nh p ph qu r s t th tr v x"
_ONSETS: Final = sorted(_ONSET_TEXT.split(), key=len, reverse=True)
# Rhymes without their tone; generous on purpose (rare ones like "oong", "uych" included).
_RHYME_TEXT: Final = """
    a ac ach ai am an ang anh ao ap at au ay
    ăc ăm ăn ăng ăp ăt
    âc âm ân âng âp ât âu ây
    e ec em en eng eo ep et
    ê êch êm ên ênh êp êt êu
    i ia ich im in inh ip it iu iêc iêm iên iêng iêp iêt iêu
    o oc oi om on ong op ot oa oac oach oai oam oan oang oanh oao oap oat oay
    oăc oăm oăn oăng oăt oe oen oeo oet oong ooc
    ô ôc ôi ôm ôn ông ôp ôt
    ơ ơi ơm ơn ơp ơt
    u ua uc ui um un ung up ut uân uâng uât uây uê uêch uênh uơ
    uy uya uych uyên uyêt uynh uyt uyu uôc uôi uôm uôn uông uôt
    ư ưa ưc ưi ưm ưn ưng ưt ưu ươc ươi ươm ươn ương ươp ươt ươu
    y yêm yên yêt yêu ych ynh yt
"""
_RHYMES: Final = frozenset(_RHYME_TEXT.split())
_ONSETS_AND_NONE: Final = [*_ONSETS, ""]
_ABBREVIATION_LETTERS: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZĂÂÊÔƠƯĐ")
_VOWELS: Final = "aăâeêioôơuưy"
_SHAPED_VOWELS: Final = frozenset("ăâêôơư")
_CONSONANTS: Final = frozenset("bcdđghklmnpqrstvx")


def _tone_fits(rhyme: str, at: int, tone: str) -> bool:
    """Whether a tone on letter `at` of `rhyme` is where Vietnamese spelling (old or new style) puts it."""
    if at < 0:
        return False
    vowels = rhyme[: len(rhyme) - len(rhyme.lstrip(_VOWELS))]
    coda = rhyme[len(vowels) :]
    if coda in ("p", "t", "c", "ch") and tone not in (_ACUTE, _DOT):
        return False  # closed syllables take only sắc or nặng
    shaped = [i for i, c in enumerate(vowels) if c in _SHAPED_VOWELS]
    if shaped:
        return at == shaped[-1]  # người, tiếng, tuần
    if len(vowels) == 1 or (not coda and len(vowels) == 2 and vowels not in ("oa", "oe", "uy")):
        return at == 0  # má, mái, của
    if coda:
        return at == len(vowels) - 1  # hoàng, quỳnh
    if len(vowels) == 3:
        return at == 1  # ngoái, khuỷu
    return at in (0, 1)  # hòa / hoà, thủy / thuỷ


def _is_syllable(word: str) -> bool:
    """A well-formed Vietnamese syllable (onset, rhyme, one tone in its place), any letter case."""
    letters: list[str] = []
    tone, tone_at = "", -1
    for i, ch in enumerate(unicodedata.normalize("NFC", word.lower())):
        if ch in _CONSONANTS:
            letters.append(ch)
            continue
        parts = _split_letter(ch)
        if parts is None:
            return False
        base, shape, mark = parts
        letters.append(unicodedata.normalize("NFC", base + shape))
        if mark:
            if tone:
                return False
            tone, tone_at = mark, i
    bare = "".join(letters)
    for onset in _ONSETS_AND_NONE:
        rhyme = bare[len(onset) :]
        if bare.startswith(onset) and rhyme in _RHYMES and (not tone or _tone_fits(rhyme, tone_at - len(onset), tone)):
            return True
    return False


def _plausible(word: str, *, strict_case: bool) -> bool:
    """A Vietnamese syllable or an upper-case abbreviation such as "QĐ", "HĐND".

    Legacy text is judged without letter case: TCVN3 has no toned capitals, so "MụC" is normal there.
    """
    if strict_case and not (word.islower() or word.isupper() or word.istitle()):
        return False
    if _is_syllable(word):
        return True
    return 2 <= len(word) <= 6 and all(c in _ABBREVIATION_LETTERS for c in word)


def _token_reading(token: str, encoding: LegacyEncoding) -> str | None:
    if encoding == "tcvn3":
        return None if any(c in _TCVN3_UNTYPED for c in token) else decode_tcvn3(token)
    return decode_vni(token)


def legacy_score(text: str, encoding: LegacyEncoding) -> int:
    """Votes for reading `text` in `encoding` rather than as Unicode (> 0: legacy, < 0: Unicode).

    Each word with a Latin-1 character votes +1 when only its legacy reading is a Vietnamese syllable
    or abbreviation, -1 when only its Unicode reading is; words that read well both ways ("Tôi" is
    also TCVN3 "Tụi") do not vote. Each word holding a Unicode Vietnamese letter beyond Latin-1
    (ộ, ư, đ) votes -1: legacy bytes never produce those.
    """
    return sum(_token_vote(token, encoding) for token in _TOKEN.findall(_c1_to_cp1252(text)))


@functools.lru_cache(maxsize=65536)  # words repeat: a long document has a few thousand distinct ones
def _token_vote(token: str, encoding: LegacyEncoding) -> int:
    if _UNICODE_VIETNAMESE.search(token):
        return -1
    # A lone sign ("·", "½", "§") is punctuation in Unicode text; the TCVN3 words that look so are
    # single letters ("µ" = à, "ë" = ở) and those are alphabetic.
    if not _LATIN1_LETTER_OR_SIGN.search(token) or not any(c.isalpha() for c in token):
        return 0
    reading = _token_reading(token, encoding)
    legacy_ok = reading is not None and _plausible(reading, strict_case=False)
    return int(legacy_ok) - int(_plausible(token, strict_case=True))


def _convertible(text: str) -> bool:
    """Legacy-looking characters present and no Unicode Vietnamese letter (a run cannot be both)."""
    return bool(_LATIN1_LETTER_OR_SIGN.search(text)) and not _UNICODE_VIETNAMESE.search(text)


def looks_legacy(text: str, encoding: LegacyEncoding) -> bool:
    """True when the text of one run reads as Vietnamese in `encoding` better than as Unicode.

    False for ASCII-only text and for text that already holds Unicode Vietnamese letters; a run whose
    words all read well both ways is taken as Unicode (see `looks_legacy_document` for the context
    that settles those).
    """
    text = _c1_to_cp1252(text or "")
    return _convertible(text) and legacy_score(text, encoding) > 0


def looks_legacy_document(texts: Iterable[str], encoding: LegacyEncoding) -> bool:
    """One verdict for all the runs of one encoding in a document (pass it to `decode_run`).

    Short runs ("Sè", "Bé" = "Số", "Bộ") are ambiguous alone; the whole document is not.
    """
    return sum(legacy_score(text, encoding) for text in texts) > 0


def decode_run(text: str, font_name: str | None, *, document_is_legacy: bool = False) -> str | None:
    """The Unicode text of one Word run in `font_name`, or None when there is nothing to convert.

    None for a Unicode font, or when the text is not legacy (already Unicode, or plain ASCII). A run
    that reads clearly better in the other legacy encoding is decoded in that one (real files label
    VNI runs with a TCVN3 font and the reverse). `document_is_legacy` (from `looks_legacy_document`)
    settles the runs whose words read well both ways. ASCII text in a TCVN3 capitals font comes back
    in capitals, as the reader saw it.
    """
    declared = legacy_encoding(font_name)
    if declared is None or not text:
        return None
    capitals = declared == "tcvn3" and is_capitals_font(font_name)
    text = _c1_to_cp1252(text)
    if not _convertible(text):
        if capitals and not _UNICODE_VIETNAMESE.search(text):
            shown = nfc(text.upper())
            return shown if shown != text else None
        return None
    other: LegacyEncoding = "vni" if declared == "tcvn3" else "tcvn3"
    declared_score, other_score = legacy_score(text, declared), legacy_score(text, other)
    if other_score > max(declared_score, 0):
        encoding: LegacyEncoding = other
    elif declared_score > 0 or (document_is_legacy and declared_score == 0):
        encoding = declared
    else:
        return None
    if encoding == "vni":
        return decode_vni(text)
    if capitals and encoding == declared:
        return decode_tcvn3(text, capitals=True)
    return _restore_capitals(decode_tcvn3(text))


_WORD: Final = re.compile(r"[^\W\d_]+")


def _restore_capitals(text: str) -> str:
    """Words typed in capitals in a plain TCVN3 font carry lowercase toned letters ("MụC LụC"): VN3 has
    no toned capitals. A word with two capitals and no lowercase ASCII letter was meant in capitals
    ("MỤC LỤC"); so was a whole run without lowercase ASCII that has two such words of three letters
    or more ("Kế HOẠCH TỔNG THỂ" -> "KẾ HOẠCH TỔNG THỂ"). "Hà Nội", "Số: 144/QĐ-BTC" are left alone."""
    if not any("a" <= c <= "z" for c in text):
        words = _WORD.findall(text)
        typed_in_capitals = [w for w in words if len(w) >= 3 and not w.isupper() and _capitals(w) >= 2]
        if len(typed_in_capitals) >= 2:
            return text.upper()

    def fix(match: re.Match[str]) -> str:
        word = match.group()
        if any("a" <= c <= "z" for c in word) or _capitals(word) < 2 or word.isupper():
            return word
        return word.upper()

    return _WORD.sub(fix, text)


def _capitals(word: str) -> int:
    return sum(c.isupper() for c in word)


def decode_legacy_bytes(data: bytes, encoding: LegacyEncoding) -> str:
    """Legacy bytes (e.g. RTF \\'xx escapes) -> NFC Unicode; bytes 0x80-0x9F are Windows punctuation."""
    text = data.decode("latin-1")
    return decode_tcvn3(text) if encoding == "tcvn3" else decode_vni(text)


def decode_cp1258(data: bytes, *, errors: str = "replace") -> str:
    """Windows-1258 bytes -> NFC; Python's codec leaves the tones as combining marks."""
    return nfc(data.decode("cp1258", errors=errors))


def encode_cp1258(text: str) -> bytes:
    """Unicode -> Windows-1258 as Windows writes it: a precomposed byte where the code page has one,
    else the base letter with its shape (â ê ô ă ơ ư) followed by a combining tone byte."""
    out = bytearray()
    for ch in nfc(text):
        try:
            out += ch.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        decomposed = unicodedata.normalize("NFD", ch)
        tones = "".join(c for c in decomposed if c in _TONE_MARKS)
        shaped = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _TONE_MARKS))
        out += (shaped + tones).encode("cp1258")  # raises for characters the code page cannot hold
    return bytes(out)
