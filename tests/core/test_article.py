"""core.article.compose: the one article renderer (review preview, static site, WordPress)."""

from __future__ import annotations

import pytest

from core.article import Photo, compose

pytestmark = pytest.mark.no_database  # the PostgreSQL pass of make test leaves it out

A = "a" * 64
B = "b" * 64
C = "c" * 64
BODY = (
    f'<p>Mở đầu</p><figure><img src="/media/{A}" alt="x"><figcaption>Chú thích cũ</figcaption></figure>'
    f'<p>Giữa</p><figure><img src="/media/{B}" alt="y"></figure><p>Kết</p>'
)


def test_kept_photos_get_their_captions_dropped_ones_leave_and_extra_ones_follow() -> None:
    html = compose(BODY, [Photo(A, "Chú thích mới"), Photo(C, "Ảnh gửi kèm", "Ảnh gửi kèm")])
    assert "Chú thích mới" in html and "Chú thích cũ" not in html
    assert B not in html  # the editors dropped it
    assert html.index("Kết") < html.index(C)  # a photo sent beside the file follows the text
    assert f'src="/media/{A}"' in html  # the review UI's own address by default


def test_each_target_says_where_its_readers_load_the_photos() -> None:
    html = compose(BODY, [Photo(A, "Ảnh"), Photo(C)], media_url=lambda sha: f"../anh/{sha[:8]}.jpg?v=1&w=2")
    assert 'src="../anh/aaaaaaaa.jpg?v=1&amp;w=2"' in html and 'src="../anh/cccccccc.jpg' in html
    assert "/media/" not in html


def test_hostile_markup_never_survives_whatever_the_media_url() -> None:
    hostile = f'<p onclick="x()">Tin</p><script>alert(1)</script><img src="/media/{A}" onerror="alert(2)">'
    html = compose(hostile, [Photo(A, '"><script>alert(3)</script>')], media_url=lambda sha: f"/site/m/{sha}")
    assert "<script" not in html and "onerror" not in html and "onclick" not in html
    assert "&lt;script&gt;alert(3)" in html or "alert(3)" not in html
