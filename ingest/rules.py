"""Pure rules of intake: is it a submission, what kind, what title. No I/O here."""

from __future__ import annotations

import html
import re
from pathlib import PurePosixPath

from core.text import clean_line, contains_phrase, find_phrase, fold_words, nfc, syllable_count

# Reply/forward prefixes of the mail clients Vietnamese offices use (English and Vietnamese Outlook,
# Gmail, Zimbra): "Re:", "Fwd:", "TL:" (trả lời), "CT:"/"Chuyển tiếp:".
_PREFIX = re.compile(r"^\s*(?:re|fw|fwd|tl|ct|tr|chuyển tiếp|trả lời|aw|sv)\s*(?:\[\d+\])?\s*:\s*", re.IGNORECASE)
_EDGE_PUNCT = " \t-–—:;,.|/\\[](){}<>\"'“”‘’*_"


def is_submission(subject: str, marker: str) -> bool:
    return contains_phrase(subject, marker)


def strip_reply_prefixes(subject: str) -> str:
    subject = nfc(subject)
    while True:
        stripped = _PREFIX.sub("", subject, count=1)
        if stripped == subject:
            return subject.strip()
        subject = stripped


def subject_remainder(subject: str, marker: str) -> str:
    """The subject without reply prefixes and the marker: what the contributor wrote about the item."""
    subject = strip_reply_prefixes(clean_line(subject))
    span = find_phrase(subject, marker)
    if span is not None:
        subject = subject[: span[0]] + " " + subject[span[1] :]
    return clean_line(strip_reply_prefixes(subject.strip(_EDGE_PUNCT))).strip(_EDGE_PUNCT)


def explicit_kind(*texts: str) -> str | None:
    """'tin' or 'bai' when a text (subject remainder, file name) starts by saying so."""
    for text in texts:
        # Lower-case but keep the tones: "Tín dụng" is not "Tin". Unaccented "bai" is accepted
        # because file names are often typed without accents.
        words = [w for w in re.split(r"[\W_]+", nfc(text).lower()) if w]
        if not words:
            continue
        if words[0] == "tin" or words[:2] == ["bản", "tin"]:
            return "tin"
        if words[0] in ("bài", "bai"):
            return "bai"
    return None


def decide_kind(explicit: str | None, syllables: int, bai_min_syllables: int) -> str:
    if explicit in ("tin", "bai"):
        return explicit
    return "bai" if syllables >= bai_min_syllables else "tin"


def length_warnings(kind: str, syllables: int, bounds: dict[str, tuple[int, int]]) -> list[str]:
    """'too_short' / 'too_long' when the text is unusual for its kind: (min, max) syllables per kind."""
    low, high = bounds.get(kind, (0, 1 << 30))
    if syllables < low:
        return ["too_short"]
    if syllables > high:
        return ["too_long"]
    return []


def file_stem(filename: str) -> str:
    name = PurePosixPath(nfc(filename).replace("\\", "/")).name
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return clean_line(stem.replace("_", " "))


def _strip_kind_word(text: str) -> str:
    """'Tin: Hội nghị ...' -> 'Hội nghị ...' (the kind word is a label, not part of the title)."""
    m = re.match(r"^\s*(tin|bài|bai|bài viết|bai viet)\s*[:\-–—]\s*", text, re.IGNORECASE)
    return text[m.end() :] if m else text


def choose_title(document_title: str | None, subject_rest: str, filename: str) -> tuple[str, list[str]]:
    """The document's own title; else the subject; the file name only when nothing else exists."""
    if document_title and clean_line(document_title):
        return clean_line(document_title), []
    rest = clean_line(_strip_kind_word(subject_rest))
    if syllable_count(rest) >= 2:
        return rest, ["title_from_subject"]
    stem = file_stem(filename) if filename else ""
    if stem:
        return stem, ["title_from_filename"]
    return "(Chưa có tiêu đề)", ["title_missing"]


# The contributor's sign-off and quoted text are not part of an article typed in the body.
_SIGNATURE = re.compile(r"^(--\s*|_{5,}|Sent from my .*|Gửi từ .*|On .* wrote:|Vào .* đã viết:)$", re.IGNORECASE)


def article_text_from_body(text: str) -> str:
    """The part of an email body that could be an article: up to the signature or quoted reply."""
    lines: list[str] = []
    for line in nfc(text).splitlines():
        if _SIGNATURE.match(line.strip()):
            break
        if line.lstrip().startswith(">"):
            continue
        lines.append(line.rstrip())
    return "\n".join(lines).strip()


def paragraphs(text: str) -> list[str]:
    """Blank-line separated blocks, or single lines when the sender used one line per paragraph."""
    text = nfc(text).strip()
    blocks = [b for b in re.split(r"\n\s*\n", text) if b.strip()]
    if len(blocks) <= 1:
        blocks = [line for line in text.splitlines() if line.strip()]
    return [clean_line(b) for b in blocks]


def body_article(text: str, subject_rest: str) -> tuple[str, str]:
    """(title, body_html) for an article typed straight into the email."""
    paras = paragraphs(article_text_from_body(text))
    # A salutation ("Kính gửi Ban Biên tập,") is not the article.
    while paras and fold_words(paras[0]).startswith(("kinh gui", "kinh thua", "gui ban bien tap")):
        paras.pop(0)
    title = clean_line(_strip_kind_word(subject_rest))
    if syllable_count(title) < 2 and paras and syllable_count(paras[0]) <= 30:
        title = paras.pop(0)
    body = "".join(f"<p>{html.escape(p, quote=False)}</p>" for p in paras)
    return title or "(Chưa có tiêu đề)", body
