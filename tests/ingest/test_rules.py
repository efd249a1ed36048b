import pytest

from ingest import rules

pytestmark = pytest.mark.no_database  # the PostgreSQL pass of make test leaves it out

MARKER = "BÀI CỘNG TÁC"


@pytest.mark.parametrize(
    ("subject", "rest"),
    [
        ("BÀI CỘNG TÁC", ""),
        ("Fwd: [BÀI CỘNG TÁC] Tin hội nghị chi bộ", "Tin hội nghị chi bộ"),
        ("RE: TL: Bai cong tac - Bài: Gương sáng", "Bài: Gương sáng"),
        ("bài cộng tác: Tin, ảnh hoạt động công đoàn", "Tin, ảnh hoạt động công đoàn"),
        ("Gửi bài cộng tác tháng 11", "Gửi tháng 11"),
    ],
)
def test_subject_remainder(subject: str, rest: str) -> None:
    assert rules.subject_remainder(subject, MARKER) == rest


@pytest.mark.parametrize(
    ("texts", "kind"),
    [
        (("Tin hội nghị chi bộ",), "tin"),
        (("Bài: Gương sáng",), "bai"),
        (("", "Bai viet ve chi thi 05"), "bai"),
        (("", "tin_hoi_nghi"), "tin"),
        (("Gửi tháng 11", "Hội nghị"), None),
        (("TIN ẢNH: Hiến máu",), "tin"),
        (("Tín dụng chính sách",), None),  # tones matter: "Tín" is not "Tin"
        (("Bãi bồi ven sông",), None),
    ],
)
def test_explicit_kind(texts: tuple[str, ...], kind: str | None) -> None:
    assert rules.explicit_kind(*texts) == kind


def test_kind_by_length_counts_syllables() -> None:
    assert rules.decide_kind(None, 599, 600) == "tin"
    assert rules.decide_kind(None, 600, 600) == "bai"
    assert rules.decide_kind("tin", 5000, 600) == "tin"


def test_title_never_the_file_name_unless_nothing_else() -> None:
    assert rules.choose_title("Hội nghị sơ kết", "Tin abc", "x.docx") == ("Hội nghị sơ kết", [])
    assert rules.choose_title(None, "Tin: Hội nghị sơ kết quý III", "x.docx") == (
        "Hội nghị sơ kết quý III",
        ["title_from_subject"],
    )
    assert rules.choose_title(None, "", "Tin_hoi_nghi.docx") == ("Tin hoi nghi", ["title_from_filename"])
    assert rules.choose_title(None, "", "")[1] == ["title_missing"]


def test_article_typed_in_the_body() -> None:
    body = (
        "Kính gửi Ban Biên tập,\n\n"
        "Sáng 20/11, Chi bộ Văn phòng tổ chức sinh hoạt chuyên đề.\n\n"
        "Các đồng chí đảng viên đã thảo luận sôi nổi.\n\n"
        "--\nNguyễn Văn An\n"
        "> trích thư cũ\n"
    )
    title, html = rules.body_article(body, "Tin sinh hoạt chuyên đề")
    assert title == "Tin sinh hoạt chuyên đề"
    assert html == (
        "<p>Sáng 20/11, Chi bộ Văn phòng tổ chức sinh hoạt chuyên đề.</p>"
        "<p>Các đồng chí đảng viên đã thảo luận sôi nổi.</p>"
    )
    assert "Kính gửi" not in html and "Nguyễn Văn An" not in html


def test_body_html_is_escaped() -> None:
    _, html = rules.body_article("<script>alert(1)</script> & chữ", "Tiêu đề thư")
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_length_warnings_by_kind() -> None:
    bounds = {"tin": (60, 1200), "bai": (300, 8000)}
    assert rules.length_warnings("tin", 40, bounds) == ["too_short"]
    assert rules.length_warnings("tin", 300, bounds) == []
    assert rules.length_warnings("tin", 1500, bounds) == ["too_long"]
    assert rules.length_warnings("bai", 250, bounds) == ["too_short"]
    assert rules.length_warnings("bai", 9000, bounds) == ["too_long"]
