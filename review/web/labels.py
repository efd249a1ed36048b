"""What the board reads: Vietnamese labels for codes (warnings, reasons, actions, fields), and the small
formatting rules of the UI. Pure data and pure functions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from core.drafts import STATUS_LABELS
from core.models import DraftStatus
from review.models import ROLE_LABELS

__all__ = [
    "ACTION_LABELS",
    "FIELD_LABELS",
    "PUBLICATION_LABELS",
    "REASON_LABELS",
    "STATUS_LABELS",
    "TARGET_LABELS",
    "WARNINGS",
    "Warning",
    "actor_label",
    "format_coefficient",
    "month_label",
    "recent_months",
    "role_label",
    "status_label",
    "warning",
]


@dataclass(frozen=True)
class Warning:
    code: str
    badge: str  # short, for the queue
    text: str  # what it means and what to check, for the draft page
    duplicate_of: int | None = None


# Every warning code intake can set (README "Draft warnings"); duplicate_of:<id> is built below.
WARNINGS: dict[str, tuple[str, str]] = {
    "unknown_sender": (
        "Chưa rõ đơn vị",
        "Địa chỉ người gửi chưa gắn với đơn vị nào: hãy chọn đơn vị khi sửa bài "
        "(có thể ghi nhớ địa chỉ này cho lần sau).",
    ),
    "sender_unverified": (
        "Người gửi chưa xác thực",
        "Máy chủ thư của cơ quan báo địa chỉ người gửi có thể bị giả mạo (DMARC/SPF không đạt): không có thư tự "
        "động nào được gửi cho địa chỉ này. Hãy liên hệ trực tiếp với tác giả để xác nhận trước khi sử dụng bài.",
    ),
    "from_email_body": (
        "Bài trong thân thư",
        "Thư không kèm tệp Word: bài được lấy từ nội dung thư. Hãy kiểm tra lời chào, chữ ký đã được bỏ đúng chưa.",
    ),
    "legacy_font_converted": (
        "Phông cũ đã chuyển",
        "Tệp dùng phông chữ cũ (TCVN3/VNI) và đã được chuyển sang Unicode: hãy soát lại dấu tiếng Việt.",
    ),
    "title_from_subject": (
        "Tiêu đề lấy từ thư",
        "Tệp Word không có tiêu đề rõ ràng: tiêu đề được lấy từ tiêu đề thư. Hãy kiểm tra lại.",
    ),
    "title_from_filename": (
        "Tiêu đề lấy từ tên tệp",
        "Không tìm được tiêu đề trong tệp và trong thư: tiêu đề được lấy từ tên tệp. Hãy sửa lại.",
    ),
    "text_lost": (
        "Có thể mất chữ",
        "Một phần chữ trong tệp Word không có trong bản xem trước: hãy đối chiếu với tệp gốc.",
    ),
    "image_missing": (
        "Thiếu ảnh",
        "Tệp Word có ảnh liên kết ra ngoài hoặc ảnh bị hỏng nên không lấy được: hãy xem tệp gốc "
        "hoặc đề nghị tác giả gửi ảnh kèm thư.",
    ),
    "image_unconverted": (
        "Ảnh chưa chuyển",
        "Có ảnh không tạo được bản hiển thị trên web (định dạng lạ): hãy xem ảnh gốc.",
    ),
    "attached_image_rejected": (
        "Ảnh kèm bị loại",
        "Có ảnh gửi kèm thư không đọc được hoặc quá lớn nên đã bị loại.",
    ),
    "macros_stripped": (
        "Đã bỏ macro",
        "Tệp Word có macro (.docm); macro đã bị loại bỏ, nội dung bài vẫn giữ nguyên.",
    ),
    "tracked_changes": (
        "Còn theo dõi sửa đổi",
        "Tệp còn các sửa đổi chưa chấp nhận (Track Changes): bản xem trước đã chấp nhận tất cả. "
        "Hãy kiểm tra chỗ bị xóa, chỗ được thêm.",
    ),
    "text_boxes": (
        "Có hộp văn bản",
        "Tệp có chữ trong hộp văn bản (text box): chữ đã được đưa vào bài, hãy kiểm tra vị trí.",
    ),
    "drawing_skipped": (
        "Bỏ qua hình vẽ",
        "Tệp có hình vẽ, biểu đồ hoặc đối tượng nhúng không phải ảnh: đã bỏ qua, hãy xem tệp gốc.",
    ),
    "embedded_document_skipped": (
        "Bỏ qua tài liệu nhúng",
        "Tệp có tài liệu khác nhúng bên trong: đã bỏ qua, hãy xem tệp gốc.",
    ),
    "too_short": ("Quá ngắn", "Bài ngắn bất thường so với thể loại: hãy kiểm tra thể loại (tin/bài) và nội dung."),
    "too_long": ("Quá dài", "Bài dài bất thường so với thể loại: hãy kiểm tra thể loại (tin/bài) và nội dung."),
}


def warning(code: str) -> Warning:
    if code.startswith("duplicate_of:"):
        ref = code.split(":", 1)[1]
        number = int(ref) if ref.isdigit() else None
        return Warning(
            code=code,
            badge=f"Trùng bài số {ref}",
            text=f"Cùng tệp Word với bài số {ref} đã nhận trước đây: hãy so sánh hai bài rồi giữ cả hai "
            f"hoặc không sử dụng bài này.",
            duplicate_of=number,
        )
    badge, text = WARNINGS.get(code, (code, f"Cảnh báo {code}"))
    return Warning(code=code, badge=badge, text=text)


# InboundMessage.reason (ingest.models.Reason) and per-file problems.
REASON_LABELS: dict[str, str] = {
    "not_a_submission": "Không phải thư gửi bài",
    "duplicate": "Thư trùng (đã nhận trước đó)",
    "no_document": "Không có tệp bài viết",
    "corrupt_document": "Tệp bị hỏng, không đọc được",
    "encrypted_document": "Tệp có đặt mật khẩu",
    "unsupported_document": "Không phải tệp Word (PDF, ảnh đổi tên…)",
    "converter_missing": "Máy chủ chưa có LibreOffice để đọc tệp .doc/.odt/.rtf",
    "too_large": "Thư hoặc tệp quá lớn",
    "internal_error": "Lỗi của chương trình khi xử lý (không phải do tệp), sẽ tự động thử lại",
}

ACTION_LABELS: dict[str, str] = {
    "received": "Nhận bài",
    "revision_received": "Nhận bản sửa của tác giả",
    "edited": "Sửa bài",
    "comment": "Trao đổi nội bộ",
    "duplicate_kept": "Không phải bài trùng",
    "proposed": "Đề xuất duyệt",
    "approved": "Duyệt bài",
    "rejected": "Không sử dụng",
    "changes_requested": "Đề nghị tác giả sửa",
    "published": "Đăng bài",
    "withdrawn": "Gỡ bài",
    "corrected": "Đính chính bài đã đăng",
    "published_on_target": "Đăng lên thêm một trang",
    "updated_on_target": "Cập nhật bài trên trang",
    "withdrawn_from_target": "Gỡ bài khỏi trang",
    "publish_retry": "Yêu cầu đăng lại",
    "manual_url": "Ghi địa chỉ bài đăng thủ công",
    "manual_withdrawn": "Xác nhận đã gỡ bài khỏi cổng",
}

# publish.models.PublicationStatus, per target on the draft page.
PUBLICATION_LABELS: dict[str, str] = {
    "pending": "Chờ đăng",
    "published": "Đã đăng",
    "failed": "Đăng không thành công",
    "awaiting_manual": "Chờ đăng thủ công",
    "withdrawn": "Đã gỡ",
}
TARGET_LABELS: dict[str, str] = {
    "static": "Trang tin (trang tĩnh)",
    "wordpress": "Cổng thông tin (WordPress)",
    "manual": "Đăng thủ công",
}

# DraftEvent.data["fields"] of an edit.
FIELD_LABELS: dict[str, str] = {
    "title": "tiêu đề",
    "lead": "sa-pô",
    "body_html": "nội dung",
    "byline": "tác giả",
    "kind": "thể loại",
    "unit_code": "đơn vị",
    "category": "chuyên mục",
    "caption": "chú thích ảnh",
    "image_removed": "bỏ ảnh",
}


def field_label(name: str) -> str:
    return FIELD_LABELS.get(name.split(":", 1)[0], name)


def status_label(status: str | None) -> str:
    return STATUS_LABELS.get(status or "", status or "")


def role_label(role: str) -> str:
    return ROLE_LABELS.get(role, role)


def actor_label(actor: str, names: dict[str, str]) -> str:
    """A user's full name, the contributor, or the system."""
    if actor.startswith("contributor:"):
        return f"Tác giả ({actor.split(':', 1)[1]})"
    if actor == "system":
        return "Hệ thống"
    return names.get(actor) or actor


def format_coefficient(value: Decimal | None) -> str:
    """1.50 -> '1,5'; 10 -> '10' (Vietnamese decimal comma)."""
    if value is None:
        return ""
    text = format(Decimal(value).normalize(), "f")
    return text.replace(".", ",")


def month_label(month: str) -> str:
    year, mon = month.split("-", 1)
    return f"Tháng {int(mon):02d}/{year}"


def recent_months(now: datetime, count: int = 24) -> list[str]:
    """'YYYY-MM' of this month and the ones before it, newest first (for the month filter)."""
    year, mon = now.year, now.month
    out = []
    for _ in range(count):
        out.append(f"{year:04d}-{mon:02d}")
        year, mon = (year, mon - 1) if mon > 1 else (year - 1, 12)
    return out


# Statuses in the order the board works them (the queue's tabs).
STATUS_ORDER: tuple[str, ...] = (
    DraftStatus.pending_review,
    DraftStatus.proposed,
    DraftStatus.changes_requested,
    DraftStatus.approved,
    DraftStatus.published,
    DraftStatus.rejected,
    DraftStatus.withdrawn,
)
