"""The sample submissions `make run` seeds: real mail, real Word files, real photos, always the same bytes."""

from __future__ import annotations

import email
import email.policy
import json
import mailbox
import re
import subprocess
import sys
import unicodedata
import zipfile
from datetime import UTC, datetime, timedelta
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from io import BytesIO
from pathlib import Path

import docx
import pytest
from PIL import Image, ImageOps

from core.settings import load_settings
from core.text import fold, syllable_count
from ingest import rules
from ingest.parse import parse_message
from ingest.word.legacy import decode_tcvn3
from toasoan.samples import SAMPLES, BuiltSample, build_samples, write_samples

pytestmark = pytest.mark.sqlite_only  # `make run`'s embedded defaults: SQLite

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 3, 16, 2, 30, tzinfo=UTC)
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
# Unicode Vietnamese letters beyond Latin-1: a TCVN3 run never holds one.
UNICODE_VIETNAMESE = re.compile("[ĂăĐđĨĩŨũƠơƯư\u1ea0-\u1ef9]")


@pytest.fixture(scope="module")
def built() -> list[BuiltSample]:
    return build_samples(NOW)


def parsed(b: BuiltSample) -> EmailMessage:
    msg = email.message_from_bytes(b.raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def attachments(b: BuiltSample, content_type: str) -> list[tuple[str, bytes]]:
    return [
        (part.get_filename() or "", part.get_content())
        for part in parsed(b).walk()
        if part.get_content_type() == content_type and part.get_filename()
    ]


def plain_body(b: BuiltSample) -> str:
    body = parsed(b).get_body(preferencelist=("plain",))
    assert body is not None
    return body.get_content()


def by_key(built: list[BuiltSample], prefix: str) -> BuiltSample:
    return next(b for b in built if b.sample.key.startswith(prefix))


def nfc(text: str) -> bool:
    return unicodedata.is_normalized("NFC", text)


# ------------------------------------------------------------------------------------- the Maildir
def test_write_samples_delivers_every_email_into_new(tmp_path: Path) -> None:
    maildir = tmp_path / "var" / "maildir"  # as in settings.toml: nothing exists yet on a fresh machine
    paths = write_samples(maildir)  # now=None: the moment of seeding

    assert 12 <= len(paths) == len(SAMPLES) <= 14
    assert all(p.parent == maildir / "new" and p.is_file() for p in paths)
    assert len(mailbox.Maildir(maildir, create=False)) == len(paths)
    for path in paths:  # the file's time is the email's Date, as a delivery agent leaves it
        sent = parsedate_to_datetime(email.message_from_bytes(path.read_bytes())["Date"])
        assert abs(path.stat().st_mtime - sent.timestamp()) < 1
        assert datetime.now(UTC) - timedelta(days=28) < sent < datetime.now(UTC)


def test_the_set_covers_every_case_the_intake_must_handle() -> None:
    expected = [(s.expected.status, s.expected.reason, s.expected.warnings) for s in SAMPLES]
    assert sum(status == "accepted" and not warnings for status, _, warnings in expected) >= 8
    assert ("quarantined", "corrupt_document", ()) in expected
    assert ("quarantined", "no_document", ()) in expected
    assert ("ignored", "not_a_submission", ()) in expected
    for warning in ("unknown_sender", "from_email_body", "legacy_font_converted"):
        assert ("accepted", None, (warning,)) in expected
    assert len({s.key for s in SAMPLES}) == len(SAMPLES)
    assert len({s.client for s in SAMPLES}) == 4
    assert any(len(s.files) == 2 for s in SAMPLES)


# ---------------------------------------------------------------------------------------- the mail
def test_every_email_parses_without_defects_with_crlf_line_ends(built: list[BuiltSample]) -> None:
    for b in built:
        msg = parsed(b)
        assert [(part.get_content_type(), part.defects) for part in msg.walk() if part.defects] == [], b.sample.key
        assert b"\n" not in b.raw.replace(b"\r\n", b""), b.sample.key  # CRLF everywhere, as on the wire
        assert msg["Message-ID"] == f"<{b.message_id}>"
        assert msg["To"].addresses[0].addr_spec == "banbientap@tinhuy.example"


def test_subjects_senders_and_bodies_are_nfc_vietnamese(built: list[BuiltSample]) -> None:
    for b in built:
        msg = parsed(b)
        assert str(msg["Subject"]) == b.subject
        assert msg["From"].addresses[0].addr_spec == b.sample.sender[1]
        # The display name through the project's parser and the stdlib's RFC 2047 decoder. (policy.default's
        # address parser keeps the folding space between two encoded words of a long name.)
        assert parse_message(b.raw).sender_name == b.sample.sender[0]
        raw_from = email.message_from_bytes(b.raw)["From"]  # compat32: the header as sent
        assert str(make_header(decode_header(raw_from))).startswith(b.sample.sender[0] + " <")
        body = plain_body(b)
        assert nfc(b.subject) and nfc(body) and nfc(b.sample.sender[0]), b.sample.key
        assert "{" not in b.subject + body, "a placeholder was left unfilled"
    assert "Kính gửi Ban Biên tập" in plain_body(by_key(built, "01"))


def test_dates_spread_over_the_three_weeks_before_now(built: list[BuiltSample]) -> None:
    dates = [parsedate_to_datetime(parsed(b)["Date"]) for b in built]
    assert all(NOW - timedelta(days=28) < d < NOW for d in dates)
    assert max(dates) - min(dates) >= timedelta(days=14)
    assert all(d.utcoffset() == timedelta(hours=7) for d in dates)  # written in the office's time zone


def test_the_mail_clients_encode_attachment_names_their_own_way(built: list[BuiltSample]) -> None:
    raw = b"".join(b.raw for b in built)
    assert b'filename="=?utf-8?B?' in raw  # Outlook: RFC 2047 words inside the quotes
    assert b"filename*=UTF-8''" in raw  # Gmail: RFC 2231
    assert b"filename*0*=UTF-8''" in raw  # Thunderbird: RFC 2231 continuations
    assert b"Subject: =?UTF-8?Q?" in raw  # Thunderbird's Q-encoded subject
    assert b"Content-Transfer-Encoding: 8bit" in raw
    for b in built:  # the project's own parser reads every name back, in NFC
        stdlib = [part.get_filename() for part in parsed(b).walk() if part.get_filename()]
        ours = [a.filename for a in parse_message(b.raw).attachments]
        assert ours == stdlib, b.sample.key
        assert all(nfc(name) for name in ours)


def test_senders_map_to_their_units_in_the_shipped_settings(built: list[BuiltSample]) -> None:
    settings = load_settings(REPO / "settings.toml")
    for b in built:
        unit = settings.unit_for_sender(b.sample.sender[1])
        assert (unit.code if unit else None) == b.sample.unit, b.sample.key
    assert by_key(built, "11").sample.unit is None


def test_only_the_invitation_lacks_the_subject_marker(built: list[BuiltSample]) -> None:
    marker = load_settings(REPO / "settings.toml").mailbox.subject_marker
    outside = [b.sample.key for b in built if not rules.is_submission(b.subject, marker)]
    assert outside == [by_key(built, "14").sample.key]


def test_the_two_cases_without_a_word_file(built: list[BuiltSample]) -> None:
    forgotten, typed = by_key(built, "13"), by_key(built, "10")
    assert attachments(forgotten, DOCX) == attachments(typed, DOCX) == []
    assert not parsed(forgotten).is_multipart()
    assert syllable_count(rules.article_text_from_body(plain_body(forgotten))) < 10
    article = rules.article_text_from_body(plain_body(typed))
    assert 200 <= syllable_count(article) <= 400
    assert "VĂN PHÒNG TỈNH ỦY TẬP HUẤN" in article
    assert len(attachments(typed, "image/jpeg")) == 1


# ---------------------------------------------------------------------------------- the Word files
def paragraphs(data: bytes) -> list[str]:
    return [p.text for p in docx.Document(BytesIO(data)).paragraphs if p.text.strip()]


def test_good_word_files_open_with_their_title_body_and_byline(built: list[BuiltSample]) -> None:
    checked = 0
    for b in built:
        if b.sample.expected.status != "accepted" or not b.sample.files:
            continue
        files = attachments(b, DOCX)
        assert len(files) == len(b.sample.files) == len(b.titles) == len(b.sample.expected.kinds)
        for (name, data), spec, title, kind in zip(
            files, b.sample.files, b.titles, b.sample.expected.kinds, strict=True
        ):
            if spec.legacy:
                continue
            texts = paragraphs(data)
            assert texts[0] == title, name
            assert all(nfc(t) for t in texts)
            assert texts[-1] == spec.article.byline if spec.article else True
            body = [t for t in texts[1:-1] if not t.startswith("Ảnh: ")]
            low, high = (200, 400) if kind == "tin" else (800, 1500)
            assert low <= syllable_count(" ".join(body)) <= high, (name, syllable_count(" ".join(body)))
            checked += 1
    assert checked >= 9


def test_a_photo_in_the_file_has_its_caption_line_under_it(built: list[BuiltSample]) -> None:
    b = by_key(built, "01")
    document = docx.Document(BytesIO(attachments(b, DOCX)[0][1]))
    paras = document.paragraphs
    with_picture = [i for i, p in enumerate(paras) if p._p.xpath(".//pic:pic")]
    assert len(with_picture) == 1
    caption = paras[with_picture[0] + 1]
    assert caption.text.startswith("Ảnh: ")
    assert all(run.italic for run in caption.runs)
    assert caption.runs[0].font.size.pt < 14


def test_the_legacy_file_is_typed_in_vntime_with_tcvn3_text(built: list[BuiltSample]) -> None:
    b = by_key(built, "09")
    (_, data), spec = attachments(b, DOCX)[0], b.sample.files[0]
    document = docx.Document(BytesIO(data))
    runs = [run for p in document.paragraphs for run in p.runs if run.text.strip()]
    assert {run.font.name for run in runs} == {".VnTime", ".VnTimeH"}
    raw_text = "".join(run.text for run in runs)
    assert not UNICODE_VIETNAMESE.search(raw_text)  # the letters are TCVN3 code points, not Unicode
    assert re.search("[\u00a1-\u00ff]", raw_text)
    title_runs = [run for run in runs if run.font.name == ".VnTimeH"]
    assert decode_tcvn3("".join(r.text for r in title_runs), capitals=True) == b.titles[0]
    body = [decode_tcvn3(p.text) for p in document.paragraphs[1:] if p.text.strip()]
    assert spec.article is not None
    assert body[0].startswith("Chiều ") and "Dân vận khéo" in body[0]
    assert body[-1] == spec.article.byline


def test_the_broken_file_is_a_cut_off_zip(built: list[BuiltSample]) -> None:
    ((name, data),) = attachments(by_key(built, "12"), DOCX)
    assert name.endswith(".docx") and data.startswith(b"PK\x03\x04")
    assert not zipfile.is_zipfile(BytesIO(data))
    with pytest.raises(Exception):  # noqa: B017 — python-docx raises whatever zipfile raises
        docx.Document(BytesIO(data))


def test_the_invitation_is_a_real_word_file(built: list[BuiltSample]) -> None:
    ((_, data),) = attachments(by_key(built, "14"), DOCX)
    texts = paragraphs(data)
    assert "GIẤY MỜI" in texts and any(t.startswith("Thời gian: 14 giờ 00") for t in texts)


# --------------------------------------------------------------------------------------- the photos
def test_photos_are_real_1600x1200_jpegs_beside_and_inside_word_files(built: list[BuiltSample]) -> None:
    photos: list[tuple[str, bytes]] = []
    for b in built:
        photos += attachments(b, "image/jpeg")
        for _, data in attachments(b, DOCX):
            if zipfile.is_zipfile(BytesIO(data)):
                with zipfile.ZipFile(BytesIO(data)) as z:
                    photos += [(n, z.read(n)) for n in z.namelist() if n.startswith("word/media/")]
    assert len(photos) >= 8
    upright = []
    for name, data in photos:
        image = Image.open(BytesIO(data))
        assert image.format == "JPEG" and image.size == (1600, 1200), name
        image.load()
        upright.append(ImageOps.exif_transpose(image).size)
    assert (1200, 1600) in upright  # the phone photo held upright (EXIF orientation 6)


def test_the_phone_photo_says_how_to_turn_it(built: list[BuiltSample]) -> None:
    ((name, data),) = attachments(by_key(built, "02"), "image/jpeg")
    exif = Image.open(BytesIO(data)).getexif()
    assert name.startswith("IMG_") and exif[0x0112] == 6 and exif[0x010F] == "samsung"


# ------------------------------------------------------------------------------------ determinism
def test_same_now_same_bytes_and_message_ids_never_change(built: list[BuiltSample], tmp_path: Path) -> None:
    later = build_samples(NOW + timedelta(days=40))
    assert [b.message_id for b in later] == [b.message_id for b in built]
    assert [b.date for b in later] != [b.date for b in built]
    assert len({b.message_id for b in built}) == len(built)

    first, second = tmp_path / "a", tmp_path / "b"
    write_samples(first, now=NOW)
    write_samples(second, now=NOW.replace(tzinfo=None))  # a naive `now` is read as UTC
    contents = [sorted(p.read_bytes() for p in (box / "new").iterdir()) for box in (first, second)]
    assert contents[0] == contents[1] == sorted(b.raw for b in built)


# ------------------------------------------------------------------------ through the real intake
def toasoan(config: Path, *args: str) -> str:
    """The `toasoan` command, as `make run` calls it."""
    done = subprocess.run(
        [sys.executable, "-m", "toasoan.cli", "--config", str(config), *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_seeded_samples_end_up_as_the_table_says(tmp_path: Path) -> None:
    config = tmp_path / "settings.toml"
    config.write_text((REPO / "settings.toml").read_text(encoding="utf-8"), encoding="utf-8")  # var/ in tmp_path
    toasoan(config, "seed")
    assert "không thêm mẫu" in toasoan(config, "seed")  # seeding a Maildir that has mail does nothing
    toasoan(config, "ingest", "--once")
    inbox = {row["message_id"].strip("<>"): row for row in json.loads(toasoan(config, "inbox", "list", "--json"))}
    drafts = {row["id"]: row for row in json.loads(toasoan(config, "drafts", "list", "--json"))}

    built = {b.sample.key: b for b in build_samples()}  # the same Message-IDs whatever the date
    assert len(inbox) == len(SAMPLES)
    flagged = {"unknown_sender", "from_email_body", "legacy_font_converted"}
    for sample in SAMPLES:
        row = inbox[built[sample.key].message_id]
        assert (row["status"], row["reason"]) == (sample.expected.status, sample.expected.reason), sample.key
        made = [drafts[i] for i in row["draft_ids"]]
        assert [d["kind"] for d in made] == list(sample.expected.kinds), sample.key
        for draft, title in zip(made, built[sample.key].titles or ("",), strict=False):
            assert draft["unit"] == sample.unit, sample.key
            assert set(draft["warnings"]) & flagged == set(sample.expected.warnings), (sample.key, draft["warnings"])
            if sample.files:
                assert fold(draft["title"]) == fold(title), sample.key
