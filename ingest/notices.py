"""What contributors are told, in Vietnamese: the receipt, and why a submission could not be used."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from core.formats import format_datetime, format_size
from core.senders import kind_label, letter
from core.settings import Settings
from core.templating import render

# reason -> (what is wrong, how to resend). Only reasons the contributor can act on are here;
# converter_missing is the office's own problem and is not mailed.
EXPLANATIONS: dict[str, tuple[str, str]] = {
    "no_document": (
        "Thư không kèm tệp bài viết (có thể tệp đã bị quên đính kèm).",
        "Đề nghị đồng chí gửi lại thư, đính kèm tệp Word (.docx hoặc .doc) của bài viết.",
    ),
    "encrypted_document": (
        "Tệp bài viết được đặt mật khẩu nên Ban Biên tập không mở được.",
        "Đề nghị đồng chí mở tệp trong Word, gỡ mật khẩu (Tệp > Thông tin > Bảo vệ tài liệu > Mã hóa bằng mật"
        " khẩu, xóa mật khẩu rồi lưu lại) và gửi lại tệp.",
    ),
    "corrupt_document": (
        "Tệp bài viết bị hỏng hoặc không đọc được.",
        "Đề nghị đồng chí mở lại tệp trong Word, lưu lại (Lưu thành > Tài liệu Word .docx) và gửi lại.",
    ),
    "unsupported_document": (
        "Tệp gửi kèm không phải là tệp Word (ví dụ tệp PDF hoặc tệp ảnh đổi tên).",
        "Đề nghị đồng chí gửi bài dưới dạng tệp Word (.docx hoặc .doc); ảnh có thể gửi kèm riêng.",
    ),
    "too_large": (
        "Thư hoặc tệp bài viết quá lớn{limit}.",
        "Đề nghị đồng chí giảm dung lượng ảnh trong bài (hoặc gửi ảnh thành các thư riêng) rồi gửi lại.",
    ),
}


# A reason the contributor cannot act on (the office's converter, a fault of ours) is never told as a
# damaged file: the receipt names the file and says the office will look at it.
OFFICE_SIDE = (
    "Ban Biên tập chưa xử lý được tệp này; cán bộ phụ trách sẽ kiểm tra và liên hệ lại nếu cần.",
    "Đồng chí không cần gửi lại tệp này.",
)


def explanation(reason: str, limit_bytes: int | None = None) -> tuple[str, str]:
    what, advice = EXPLANATIONS.get(reason, OFFICE_SIDE)
    limit = f" (giới hạn {format_size(limit_bytes)})" if limit_bytes else ""
    return what.replace("{limit}", limit), advice


def should_notify(reason: str) -> bool:
    return reason in EXPLANATIONS


@dataclass(frozen=True)
class ReceiptItem:
    title: str
    kind: str
    tracking_code: str
    linked: bool = False  # the same document was received before: no new draft
    revised: bool = False  # the contributor's revised file for a draft already in the queue


def receipt(
    settings: Settings,
    *,
    sender_name: str,
    subject: str,
    received_at: datetime,
    items: list[ReceiptItem],
    problems: list[dict[str, str]],
    echo: bool = True,
) -> tuple[str, str]:
    """echo=False (a sender who is no known unit): only the tracking codes and fixed text, nothing the
    sender wrote (name, subject, titles, file names), so the office's mail carries no stranger's text."""
    codes = ", ".join(i.tracking_code for i in items)
    title = f"Đã nhận bài cộng tác — mã theo dõi {codes}"
    body = render(
        "email/receipt.txt",
        **letter(settings, sender_name, echo=echo),
        subject=subject,
        received_at=format_datetime(received_at, settings.tz),
        drafts=[{**asdict(i), "kind_label": kind_label(settings, i.kind)} for i in items],
        problems=[{"file": p["file"], "explanation": explanation(p["reason"])[0]} for p in problems],
    )
    return title, body


def quarantine_notice(
    settings: Settings, *, sender_name: str, subject: str, received_at: datetime, reason: str, echo: bool = True
) -> tuple[str, str]:
    limit = settings.ingest.max_document_bytes if reason == "too_large" else None
    what, advice = explanation(reason, limit)
    body = render(
        "email/quarantine.txt",
        **letter(settings, sender_name, echo=echo),
        subject=subject,
        received_at=format_datetime(received_at, settings.tz),
        explanation=what,
        advice=advice,
        marker=settings.mailbox.subject_marker,
    )
    return "Bài cộng tác chưa được tiếp nhận — đề nghị gửi lại", body
