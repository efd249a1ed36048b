"""Legacy Vietnamese encodings: TCVN3 (ABC), VNI Windows, Windows-1258.

Checked against glibc iconv (TCVN5712-1, CP1258), the real files of the shared corpus and LibreOffice.
"""

from __future__ import annotations

import email
import email.header
import re
import subprocess
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import docx
import pytest
from docx.oxml.ns import qn
from docx.styles.style import CharacterStyle
from docx.text.paragraph import Paragraph
from docx.text.run import Run
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from ingest.word.legacy import (
    LegacyEncoding,
    decode_cp1258,
    decode_legacy_bytes,
    decode_run,
    decode_tcvn3,
    decode_vni,
    encode_cp1258,
    encode_tcvn3,
    encode_vni,
    is_capitals_font,
    legacy_encoding,
    legacy_score,
    looks_legacy,
    looks_legacy_document,
)
from tests import corpus as real

pytestmark = pytest.mark.no_database  # the PostgreSQL pass of make test leaves it out

_TONES = ("", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323")
LOWER = [unicodedata.normalize("NFC", v + t) for v in "aăâeêioôơuưy" for t in _TONES] + ["đ"]
UPPER = [letter.upper() for letter in LOWER]
LETTERS = LOWER + UPPER
ASCII_TEXT = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,;:!?-()/\n\t"

_UNICODE_SAMPLE = (
    "Cộng hoà xã hội chủ nghĩa Việt Nam Độc lập Tự do Hạnh phúc Đảng uỷ Khối các cơ quan và doanh "
    "nghiệp tỉnh Trà Vinh bài cộng tác tin ảnh tháng năm người viết đơn vị chi bộ Ban Tuyên giáo "
    "nhuận bút quyết định thông báo kế hoạch hội nghị tôi là có không được những phường quốc "
    "khuỷu ngoái thuở quỳnh giữa gìn hòa hoà thủy thuỷ Ủy uỷ"
)
UNICODE_WORDS = _UNICODE_SAMPLE.split()


def iconv(data: bytes, charset: str) -> str:
    done = subprocess.run(
        ["iconv", "-f", charset, "-t", "UTF-8"], input=data, capture_output=True, check=True, timeout=30
    )
    return done.stdout.decode("utf-8")


# --- the alphabet ------------------------------------------------------------------------------------


def test_the_alphabet_has_146_letters() -> None:
    # 12 vowels x 6 tones + đ = 73 lowercase, and their 73 capitals.
    assert len(set(LOWER)) == 73 and len(set(LETTERS)) == 146
    assert all(len(letter) == 1 for letter in LETTERS)  # every one precomposed in NFC


@pytest.mark.parametrize("letter", LOWER)
def test_tcvn3_lowercase_letter_round_trips(letter: str) -> None:
    encoded = encode_tcvn3(letter)
    assert len(encoded) == 1 and encoded <= "\xff"  # one legacy byte, as Word stores it
    assert decode_tcvn3(encoded) == letter


@pytest.mark.parametrize("letter", UPPER)
def test_tcvn3_capital_round_trips_through_a_capitals_font(letter: str) -> None:
    encoded = encode_tcvn3(letter, capitals=True)
    assert decode_tcvn3(encoded, capitals=True) == letter


@pytest.mark.parametrize("letter", LETTERS)
def test_vni_letter_round_trips(letter: str) -> None:
    encoded = encode_vni(letter)
    assert all(c <= "\xff" for c in encoded) and 1 <= len(encoded) <= 2
    assert decode_vni(encoded) == letter


# The VNI Windows codes of the lowercase letters, written out on their own (rows as in LOWER: no tone,
# huyền, sắc, hỏi, ngã, nặng); capitals are the same codes in capitals ("aø" -> "AØ").
VNI_CODES = {
    "a": "a aø aù aû aõ aï",
    "ă": "aê aè aé aú aü aë",
    "â": "aâ aà aá aå aã aä",
    "e": "e eø eù eû eõ eï",
    "ê": "eâ eà eá eå eã eä",
    "i": "i ì í æ ó ò",
    "o": "o oø où oû oõ oï",
    "ô": "oâ oà oá oå oã oä",
    "ơ": "ô ôø ôù ôû ôõ ôï",
    "u": "u uø uù uû uõ uï",
    "ư": "ö öø öù öû öõ öï",
    "y": "y yø yù yû yõ î",
}
VNI_TABLE = dict(zip(LOWER, [code for row in VNI_CODES.values() for code in row.split()] + ["ñ"], strict=True))


@pytest.mark.parametrize("letter", LETTERS)
def test_vni_codes_are_the_standard_ones(letter: str) -> None:
    expected = VNI_TABLE[letter] if letter in VNI_TABLE else VNI_TABLE[letter.lower()].upper()
    assert encode_vni(letter) == expected
    assert decode_vni(expected) == letter


@pytest.mark.parametrize("letter", LETTERS)
def test_cp1258_letter_round_trips(letter: str) -> None:
    encoded = encode_cp1258(letter)
    assert decode_cp1258(encoded) == letter
    assert iconv(encoded, "CP1258") == letter  # glibc reads our bytes the same way


def test_tcvn3_capitals_without_a_code_are_refused_not_guessed() -> None:
    with pytest.raises(ValueError, match="capitals=True"):
        encode_tcvn3("Ủy ban")  # Ủ has no VN3 code (glibc's VN1 puts it at 0x9E)
    with pytest.raises(ValueError):
        encode_tcvn3("25°C")  # B0 is a combining grave in TCVN3
    assert encode_tcvn3("Độc lập") == "§éc lËp"  # the seven plain capitals exist in VN3


def test_vni_refuses_latin1_letters_it_uses_as_marks() -> None:
    with pytest.raises(ValueError):
        encode_vni("Zürich")
    assert encode_vni("© 2024 “Đảng”") == "© 2024 “Ñaûng”"


# --- TCVN3 against glibc -------------------------------------------------------------------------------


def test_tcvn3_agrees_with_glibc_iconv_on_every_byte_a0_ff() -> None:
    for value in range(0xA0, 0x100):
        raw = bytes([value])
        expected = iconv(raw, "TCVN5712-1")
        assert decode_legacy_bytes(raw, "tcvn3") == expected, hex(value)
        assert decode_tcvn3(raw.decode("latin-1")) == expected, hex(value)


def test_tcvn3_agrees_with_glibc_iconv_on_a_real_letterhead() -> None:
    raw = "bé tµi chÝnh céng hoµ x· héi chñ nghÜa ViÖt nam §éc lËp-Tù do-H¹nh phóc".encode("latin-1")
    assert decode_legacy_bytes(raw, "tcvn3") == iconv(raw, "TCVN5712-1")


@pytest.mark.parametrize(
    ("legacy", "unicode"),
    [
        ("B\xb6o Th\xbeng", "Bảo Thắng"),
        ("céng hoµ x· héi chñ nghÜa", "cộng hoà xã hội chủ nghĩa"),
        ("Hµ néi, ngµy  22  th¸ng 11 n¨m 2002", "Hà nội, ngày  22  tháng 11 năm 2002"),
        ("M\xadêng", "Mường"),  # 0xAD, the Latin-1 soft hyphen, is ư
        ("Sè:  144 /2002/Q§/BTC", "Số:  144 /2002/QĐ/BTC"),
        ("CH¦¥NG II", "CHƯƠNG II"),
        # Word shows 0x93/0x94 of a .VnTime run as quotes: real TCVN3 files use them so (0112qd.doc).
        ("ph\xad¬ng ph¸p kÕ to¸n “KÐp”", "phương pháp kế toán “Kép”"),
        ("ph\xad¬ng ph¸p kÕ to¸n \x93KÐp\x94", "phương pháp kế toán “Kép”"),  # read as Latin-1
    ],
)
def test_tcvn3_known_strings(legacy: str, unicode: str) -> None:
    assert decode_tcvn3(legacy) == unicode


def test_tcvn3_capitals_font_gives_capitals() -> None:
    assert decode_tcvn3("quyÕt ®Þnh cña bé tr\xadëng", capitals=True) == "QUYẾT ĐỊNH CỦA BỘ TRƯỞNG"
    assert decode_run("bé tµi chÝnh", ".VnTimeH") == "BỘ TÀI CHÍNH"
    assert decode_run("bé tµi chÝnh", ".VnTime") == "bộ tài chính"


@pytest.mark.parametrize(
    ("legacy", "unicode"),
    [
        ("COÄNG HOAØ XAÕ HOÄI", "CỘNG HOÀ XÃ HỘI"),
        ("Xin chaøo caùc baïn", "Xin chào các bạn"),
        ("UÛY BAN NHAÂN DAÂN TÆNH BÌNH PHÖÔÙC", "ỦY BAN NHÂN DÂN TỈNH BÌNH PHƯỚC"),
        ("CHUÛ NGHÓA VIEÄT NAM", "CHỦ NGHĨA VIỆT NAM"),
        ("Ñoäc laäp – Töï do – Haïnh phuùc", "Độc lập – Tự do – Hạnh phúc"),
        ("Teân ñôn vò: Phoøng", "Tên đơn vị: Phòng"),
        ("naêm 2008, ngaøy 14", "năm 2008, ngày 14"),
        ("yù kieán, kyø hoïp, Myõ, Thuûy, ñoäi nguõ, hoaëc", "ý kiến, kỳ họp, Mỹ, Thủy, đội ngũ, hoặc"),
        ("Aên, AÉ, AÈ, AÚ, AÜ, AË, Î, î", "Ăn, Ắ, Ằ, Ẳ, Ẵ, Ặ, Ỵ, ỵ"),
        ("ngöôøi, Ñöôøng, thöôûng", "người, Đường, thưởng"),
    ],
)
def test_vni_known_strings(legacy: str, unicode: str) -> None:
    assert decode_vni(legacy) == unicode


# --- font names ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("font", "encoding", "capitals"),
    [
        (".VnTime", "tcvn3", False),
        (".VnTimeH", "tcvn3", True),
        (".vntimeh", "tcvn3", True),
        (".VnArial NarrowH", "tcvn3", True),
        (".VnAvantH", "tcvn3", True),
        (".VnBahamasBH", "tcvn3", True),
        (".VnCentury Schoolbook", "tcvn3", False),
        (".VnTimeH Tur", "tcvn3", True),  # RTF charset alias
        ("VnTimeH(Ds)", "tcvn3", True),
        ("VnSouthern(Ds)", "tcvn3", False),
        ("VNSTCVN3", "tcvn3", False),
        ("VNI-Times", "vni", False),
        ("vni-helve-condense", "vni", False),
        ("VNI-Helve", "vni", False),
        ("VNSVNI2", "vni", False),
        ("Times New Roman", None, False),
        ("DT-Times;Courier New", None, False),
        ("Arial", None, False),
        ("", None, False),
        (None, None, False),
    ],
)
def test_font_names(font: str | None, encoding: str | None, capitals: bool) -> None:
    assert legacy_encoding(font) == encoding
    assert is_capitals_font(font) is capitals


# --- telling legacy text from Unicode ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("céng hoµ x· héi chñ nghÜa ViÖt nam", "tcvn3"),
        ("Sè:  144 /2002/Q§/BTC", "tcvn3"),
        ("MôC LôC", "tcvn3"),
        ("\xadu ®·i", "tcvn3"),
        ("COÄNG HOAØ XAÕ HOÄI", "vni"),
        ("Xin chaøo caùc baïn", "vni"),
        ("HÑND tænh", "vni"),
    ],
)
def test_looks_legacy_on_legacy_text(text: str, encoding: LegacyEncoding) -> None:
    assert looks_legacy(text, encoding)


@pytest.mark.parametrize(
    "text",
    [
        "Cộng hoà xã hội chủ nghĩa Việt Nam",
        unicodedata.normalize("NFD", "Cộng hoà xã hội chủ nghĩa Việt Nam"),
        "Tôi là",
        "Cá và tôi",
        "Plain ASCII text, 2024.",
        "",
        "25°C",
        "© 2024 Word®",
        "a² + b²",
        "café, naïve, Zürich, São Paulo, Ångström, garçon, façade",
        "«Hello» · ½ · ± 5 %",
        "“Quoted” – dashes…",
    ],
)
def test_looks_legacy_is_false_on_unicode_and_ascii(text: str) -> None:
    assert not looks_legacy(text, "tcvn3")
    assert not looks_legacy(text, "vni")


def test_decoy_run_in_a_legacy_font_is_left_alone() -> None:
    # A .VnTime font declared, the text typed in Unicode: converting it would destroy it.
    assert decode_run("Đơn yêu cầu giải quyết việc dân sự", ".VnTime") is None
    assert decode_run("Kính gửi: Tòa án nhân dân", "VNI-Times") is None
    assert decode_run("Tôi là", ".VnTime") is None
    assert decode_run("Plain ASCII", "VNI-Times") is None
    assert decode_run("céng hoµ", "Times New Roman") is None


def test_ambiguous_runs_follow_the_document() -> None:
    # "Sè" is TCVN3 "Số" and also a well-formed Unicode syllable: alone it stays as it is.
    assert decode_run("Sè", ".VnTime") is None
    assert decode_run("Sè", ".VnTime", document_is_legacy=True) == "Số"
    runs = ["Sè", "Bé", "céng hoµ x· héi chñ nghÜa ViÖt nam"]
    assert looks_legacy_document(runs, "tcvn3")
    assert not looks_legacy_document(["Sè", "Bé", "Cộng hoà xã hội chủ nghĩa Việt Nam"], "tcvn3")
    # Unicode letters never turn into something else, whatever the document says.
    assert decode_run("Cộng hoà", ".VnTime", document_is_legacy=True) is None


def test_a_run_in_the_other_legacy_encoding_is_decoded_in_that_one() -> None:
    # Real: 2004-duanLD9820.doc labels VNI table cells with VNSTCVN3 and a TCVN3 line with VNI-Times.
    assert decode_run("Maùy löu ñieän 1000 VA", "VNSTCVN3") == "Máy lưu điện 1000 VA"
    assert decode_run("§VT: 1000 ®ång", "VNI-Times") == "ĐVT: 1000 đồng"


def test_capitals_typed_in_a_plain_tcvn3_font_are_restored() -> None:
    assert decode_run("MôC LôC", "VNSTCVN3") == "MỤC LỤC"
    assert decode_run("PHÇN THø NHÊT: KÕ ho¹ch", ".VnTime") == "PHẦN THỨ NHẤT: Kế hoạch"
    assert decode_run("KÕ HO¹CH TæNG THÓ PH¸T TRIÓN CNTT", ".VnTime") == "KẾ HOẠCH TỔNG THỂ PHÁT TRIỂN CNTT"
    assert decode_run("Hµ Néi - UBND", ".VnTime") == "Hà Nội - UBND"
    assert decode_run("Sè:  144 /2002/Q§/BTC", ".VnTime") == "Số:  144 /2002/QĐ/BTC"


def test_ascii_in_a_capitals_font_is_shown_in_capitals() -> None:
    assert decode_run("ubnd huyen", ".VnTimeH") == "UBND HUYEN"
    assert decode_run("UBND", ".VnTimeH") is None


def test_legacy_score_counts_words() -> None:
    assert legacy_score("hoµ x· héi chñ", "tcvn3") == 4
    assert legacy_score("céng", "tcvn3") == 0  # "céng" is a well-formed Unicode syllable too
    assert legacy_score("Cộng hoà xã hội", "tcvn3") < 0


# --- properties ------------------------------------------------------------------------------------------

_TCVN3_PLAIN = LOWER + list("ĂÂÊÔƠƯĐ") + list(ASCII_TEXT) + list("“”–…")


@given(st.text(alphabet=_TCVN3_PLAIN, max_size=60))
def test_tcvn3_round_trip_property(text: str) -> None:
    decoded = decode_tcvn3(encode_tcvn3(text))
    assert decoded == text
    assert unicodedata.is_normalized("NFC", decoded)


@given(st.text(alphabet=UPPER + list("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,-"), max_size=60))
def test_tcvn3_capitals_round_trip_property(text: str) -> None:
    assert decode_tcvn3(encode_tcvn3(text, capitals=True), capitals=True) == text


@given(st.text(alphabet=LETTERS + list(ASCII_TEXT) + list("“”–…©«»°"), max_size=60))
def test_vni_round_trip_property(text: str) -> None:
    decoded = decode_vni(encode_vni(text))
    assert decoded == text
    assert unicodedata.is_normalized("NFC", decoded)


@given(st.text(alphabet=LETTERS + list(ASCII_TEXT), max_size=60))
def test_cp1258_round_trip_property(text: str) -> None:
    assert decode_cp1258(encode_cp1258(text)) == text


@given(st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=60))
def test_decoders_return_nfc_for_any_latin1_text(text: str) -> None:
    for decoded in (decode_tcvn3(text), decode_tcvn3(text, capitals=True), decode_vni(text)):
        assert unicodedata.is_normalized("NFC", decoded)
    result = decode_run(text, ".VnTime")
    assert result is None or unicodedata.is_normalized("NFC", result)


@settings(max_examples=300)
@given(st.lists(st.sampled_from(UNICODE_WORDS), min_size=1, max_size=12), st.sampled_from([" ", ", ", "\t"]))
def test_unicode_vietnamese_is_never_taken_for_legacy(words: list[str], separator: str) -> None:
    text = separator.join(words)
    for form in (text, text.upper(), unicodedata.normalize("NFD", text)):
        assert not looks_legacy(form, "tcvn3")
        assert not looks_legacy(form, "vni")
        assert decode_run(form, ".VnTime") is None
        assert decode_run(form, "VNI-Times") is None


# --- Windows-1258 ------------------------------------------------------------------------------------------


def test_cp1258_decodes_real_bytes_to_nfc() -> None:
    raw = b"Vi\xea\xf2t Nam, Tr\xe2\xccn, \xd0o\xe0n"
    decoded = decode_cp1258(raw)
    assert decoded == "Việt Nam, Trần, Đoàn"
    assert unicodedata.is_normalized("NFC", decoded)
    assert not unicodedata.is_normalized("NFC", raw.decode("cp1258"))  # why the helper exists
    assert decoded == iconv(raw, "CP1258")


def test_cp1258_encodes_as_windows_does() -> None:
    assert encode_cp1258("Việt") == b"Vi\xea\xf2t"  # ê precomposed, dot below combining
    assert encode_cp1258("Trần") == b"Tr\xe2\xccn"
    assert encode_cp1258("Đoàn") == b"\xd0o\xe0n"  # à exists precomposed in the code page
    assert encode_cp1258(unicodedata.normalize("NFD", "Việt")) == b"Vi\xea\xf2t"


def test_cp1258_corpus_email() -> None:
    raw = real.read("email/gitlist_windows-1258-8bit.eml")
    message = email.message_from_bytes(raw)
    assert message.get_content_charset() == "windows-1258"
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    body = decode_cp1258(payload)
    assert "Hello Đoàn," in body
    assert "ĐTCD> Does `git rev-parse commit^{tree}` works for you?" in body
    assert unicodedata.is_normalized("NFC", body)
    (value, charset), *_ = email.header.decode_header(message["To"])
    assert charset == "windows-1258"
    assert decode_cp1258(value) == "Đoàn Trần Công Danh"


# --- RTF bytes -----------------------------------------------------------------------------------------------


def test_rtf_hex_escapes_decode_as_tcvn3() -> None:
    raw = real.read("legacy-font/viparse_tcvn3_2003-A37.rtf")
    body = re.sub(rb"\\'([0-9a-fA-F]{2})", lambda m: bytes([int(m[1], 16)]), raw)
    text = " ".join(decode_legacy_bytes(body, "tcvn3").split())
    assert "Bộ Tài chính - Công nghiệp - Tổng cục Hải quan" in text
    assert "Căn cứ ý kiến của Thủ tướng Chính phủ" in text


# --- real Word files --------------------------------------------------------------------------------------------


def _fonts_of(rpr: etree._Element | None) -> str | None:
    """hAnsi (the font of characters 0x80-0xFF) else ascii; "" for a theme font (never legacy)."""
    if rpr is None:
        return None
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        return None
    for attr in ("w:hAnsi", "w:ascii"):
        if fonts.get(qn(attr + "Theme")) is not None:
            return ""
        if fonts.get(qn(attr)) is not None:
            return fonts.get(qn(attr))
    return None


def _style_chain_font(style: CharacterStyle | None) -> str | None:
    seen = 0
    while style is not None and seen < 20:
        font = _fonts_of(style.element.rPr)
        if font is not None:
            return font
        style, seen = style.base_style, seen + 1
    return None


def effective_font(run: Run, paragraph: Paragraph, document: docx.document.Document) -> str | None:
    """The font Word uses for the run: direct formatting, character style, paragraph style, defaults."""
    for font in (
        _fonts_of(run._r.rPr),
        _style_chain_font(run.style),
        _style_chain_font(paragraph.style),
        _fonts_of(document.styles.element.find(qn("w:docDefaults") + "/" + qn("w:rPrDefault") + "/" + qn("w:rPr"))),
    ):
        if font is not None:
            return font or None
    return None


def runs_with_fonts(path: Path) -> Iterator[tuple[str, str | None]]:
    document = docx.Document(str(path))
    for element in document.element.body.iter(qn("w:p")):
        paragraph = Paragraph(element, document)
        for run in paragraph.runs:
            yield run.text, effective_font(run, paragraph, document)


def test_the_corpus_is_there() -> None:
    assert len([p for p in real.paths("docx/*.docx") if p.is_file()]) >= 15


@pytest.mark.parametrize("path", real.params("docx/*.docx"), ids=lambda p: p.name)
def test_no_unicode_run_of_the_corpus_is_taken_for_legacy(path: Path) -> None:
    runs = list(runs_with_fonts(path))
    assert runs
    texts = [text for text, _ in runs]
    for encoding in ("tcvn3", "vni"):
        assert not looks_legacy_document(texts, encoding)
    for text, font in runs:
        assert not looks_legacy(text, "tcvn3"), text
        assert not looks_legacy(text, "vni"), text
        assert decode_run(text, font) is None, (font, text)
        # Worst case: a converter that takes a style's legacy font for every run.
        assert decode_run(text, ".VnTime") is None, text
        assert decode_run(text, "VNI-Times") is None, text


def test_vntime_decoy_produces_no_conversion() -> None:
    path = real.path("docx/mauvanban_don-yeu-cau_vntime-style-decoy.docx")
    document = docx.Document(str(path))
    assert ".VnTime" in {style.font.name for style in document.styles if hasattr(style, "font")}
    runs = list(runs_with_fonts(path))
    verdict = looks_legacy_document([text for text, _ in runs], "tcvn3")
    assert verdict is False
    converted = [decode_run(text, ".VnTime", document_is_legacy=verdict) for text, _ in runs]
    assert converted == [None] * len(runs)


def _run_text(run_element: etree._Element) -> str:
    """Run text with <w:softHyphen/> kept as U+00AD: in a TCVN3 run that "soft hyphen" is the letter ư
    (LibreOffice writes byte 0xAD so; python-docx's run.text drops it)."""
    parts = []
    for child in run_element:
        tag = child.tag
        if tag == qn("w:t"):
            parts.append(child.text or "")
        elif tag == qn("w:softHyphen"):
            parts.append("\xad")
        elif tag == qn("w:tab"):
            parts.append("\t")
    return "".join(parts)


def _decoded_paragraphs(path: Path) -> list[str]:
    document = docx.Document(str(path))
    paragraphs: list[list[tuple[str, str | None]]] = []
    for element in document.element.body.iter(qn("w:p")):
        paragraph = Paragraph(element, document)
        paragraphs.append([(_run_text(run._r), effective_font(run, paragraph, document)) for run in paragraph.runs])
    verdicts = {
        encoding: looks_legacy_document(
            [text for runs in paragraphs for text, font in runs if legacy_encoding(font) == encoding], encoding
        )
        for encoding in ("tcvn3", "vni")
    }
    lines = []
    for runs in paragraphs:
        pieces = []
        for text, font in runs:
            encoding = legacy_encoding(font)
            decoded = decode_run(text, font, document_is_legacy=verdicts[encoding]) if encoding else None
            pieces.append(text if decoded is None else decoded)
        lines.append(" ".join("".join(pieces).split()))
    return [line for line in lines if line]


@pytest.mark.slow
def test_real_legacy_doc_files_converted_by_libreoffice(tmp_path: Path) -> None:
    sources = [
        real.path("legacy-font/viparse_tcvn3_2003-02144qd.doc"),
        real.path("legacy-font/viparse_vni_2009-download.doc"),
    ]
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}",
            "--headless",
            "--convert-to",
            "docx",
            "--outdir",
            str(tmp_path),
            *map(str, sources),
        ],
        check=True,
        capture_output=True,
        timeout=240,
    )
    tcvn3 = _decoded_paragraphs(tmp_path / "viparse_tcvn3_2003-02144qd.docx")
    assert "BỘ TÀI CHÍNH CỘNG HOÀ XÃ HỘI CHỦ NGHĨA VIỆT NAM" in tcvn3  # .VnTimeH
    assert "-0- Độc lập-Tự do-Hạnh phúc" in tcvn3
    assert "Hà nội, ngày 22 tháng 11 năm 2002" in tcvn3
    assert "QUYẾT ĐỊNH CỦA BỘ TRƯỞNG BỘ TÀI CHÍNH" in tcvn3  # ư came as <w:softHyphen/>
    assert "Biểu thuế thuế nhập khẩu ưu đãi" in tcvn3
    vni = _decoded_paragraphs(tmp_path / "viparse_vni_2009-download.docx")
    assert "Tên đơn vị: CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in vni
    assert "BÁO CÁO ĐỊNH KỲ VỀ BẢO HỘ LAO ĐỘNG" in vni
    assert "Kính gửi: Ban Quản lý các Khu công nghiệp Đồng Nai" in vni
    # Nothing of the legacy byte soup is left: only Latin-1 letters that Vietnamese itself uses.
    vietnamese_latin1 = set("àáâãèéêìíòóôõùúýÀÁÂÃÈÉÊÌÍÒÓÔÕÙÚÝ\xa0")
    for line in tcvn3 + vni:
        assert all(c < "\x80" or c > "\xff" or c in vietnamese_latin1 for c in line), line
        assert unicodedata.is_normalized("NFC", line)
