import unicodedata

import pytest

from core.text import (
    clean_line,
    contains_phrase,
    find_phrase,
    fold,
    fold_words,
    nfc,
    strip_diacritics,
    syllable_count,
)

pytestmark = pytest.mark.no_database  # the PostgreSQL pass of make test leaves it out

MARKER = "BÀI CỘNG TÁC"


@pytest.mark.parametrize(
    "subject",
    [
        "BÀI CỘNG TÁC",
        "Bai cong tac",
        "bài cộng tác",
        "Fwd: [BÀI CỘNG TÁC] Tin hội nghị chi bộ",
        "RE: Bài cộng tác - Tin sinh hoạt chuyên đề",
        unicodedata.normalize("NFD", "BÀI CỘNG TÁC: bài viết"),
        "[bai-cong-tac] Gương người tốt",
        "BAI CONG TAC",
        "Gửi bài cộng tác tháng 11",
        "bài cộng tác",  # old-style vs new-style tone placement does not matter after folding
    ],
)
def test_subject_forms_match(subject: str) -> None:
    assert contains_phrase(subject, MARKER)


@pytest.mark.parametrize("subject", ["Giấy mời họp chi bộ", "bài cộng", "baicongtac", "", "Cộng tác viên"])
def test_other_subjects_do_not_match(subject: str) -> None:
    assert not contains_phrase(subject, MARKER)


def test_fold_strips_diacritics_case_and_d() -> None:
    assert fold("Đảng uỷ") == fold("dang uy") == "dang uy"
    assert fold("HOÀ") == fold("hòa") == "hoa"
    assert fold_words("[Bài-cộng_tác]!") == "bai cong tac"


def test_strip_diacritics_keeps_case_and_is_what_fold_lowers() -> None:
    assert strip_diacritics("Đảng uỷ Việt Nam") == "Dang uy Viet Nam"
    assert strip_diacritics(unicodedata.normalize("NFD", "HOÀ đồng")) == "HOA dong"
    assert strip_diacritics(None) == strip_diacritics("") == ""
    for text in ("Trao nhà Đại đoàn kết", "Cộng hoà xã hội chủ nghĩa", "Ñandú ÅÆ"):
        assert fold(text) == strip_diacritics(text).casefold()


def test_find_phrase_maps_back_to_original_positions() -> None:
    subject = "Fwd: [BÀI CỘNG TÁC] Tin hội nghị"
    start, end = find_phrase(subject, MARKER) or (0, 0)
    assert subject[start:end] == "BÀI CỘNG TÁC"
    nfd = unicodedata.normalize("NFD", subject)
    span = find_phrase(nfd, MARKER)
    assert span is not None and nfc(nfd)[span[0] : span[1]] == "BÀI CỘNG TÁC"


def test_nfc_and_clean_line() -> None:
    nfd = unicodedata.normalize("NFD", "Việt Nam")
    assert nfc(nfd) == "Việt Nam" and len(nfc(nfd)) == 8
    assert clean_line("  Tin\x00  hội\tnghị \n") == "Tin hội nghị"


def test_syllables_count_vietnamese_words_not_letters() -> None:
    # Vietnamese words are syllables separated by spaces, whatever their length.
    assert syllable_count("Chi bộ Văn phòng sinh hoạt chuyên đề.") == 8
    assert syllable_count("Đảng ủy, 2026 — tốt!") == 4
    assert syllable_count("") == 0
