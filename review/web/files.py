"""Photos and original files. Photos are served inline only when their bytes are one of four raster
formats (the type comes from the bytes, never from the sender); everything else is an attachment.
Drafts' photos are unpublished material: never cached. A legacy or macro-enabled Word file is sent as
an opaque download. A raw email goes to editors only, and only one the board has a reason to see."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response
from sqlmodel import select

from core.db import reading
from core.images import web_image_type
from core.models import Draft, DraftRevision
from core.text import nfc, strip_diacritics
from ingest import spool
from ingest.queries import InboundStatus, inbound
from review.service import require
from review.web.deps import NotFound, UserDep, Web, WebDep

router = APIRouter()

_SHA = re.compile(r"[0-9a-f]{64}")
DOCUMENT_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "doc": "application/msword",
    "odt": "application/vnd.oasis.opendocument.text",
    "rtf": "application/rtf",
}
DOCUMENT_TYPES["docm"] = "application/vnd.ms-word.document.macroEnabled.12"
# Legacy binary Word and macro-enabled files may carry macros: an opaque type, so no browser hands them
# to Word by type; the draft page labels them and offers the converted article first.
UNTRUSTED_FORMATS = frozenset({"doc", "dot", "docm", "dotm"})
# The review UI serves unpublished photos (the portal serves the published ones): no copy in any cache.
MEDIA_CACHE = "no-store"
# Raw emails the board may download: those that made a draft, and those on the problem-email page.
RAW_EMAIL_STATUSES = frozenset({InboundStatus.accepted, InboundStatus.quarantined})


def sniff_image(path: Path) -> tuple[str, str] | None:
    """(content type, extension) of a JPEG, PNG, GIF or WebP file, else None."""
    with path.open("rb") as fh:
        return web_image_type(fh.read(16))


def untrusted_document(filename: str | None, fmt: str | None) -> bool:
    """A file that may carry macros, by the sender's name or by its sniffed format (either is enough)."""
    ext = Path(filename or "").suffix.lower().lstrip(".")
    return ext in UNTRUSTED_FORMATS or (fmt or "") in UNTRUSTED_FORMATS


def document_type(filename: str | None, fmt: str | None) -> str:
    if untrusted_document(filename, fmt):
        return "application/octet-stream"
    ext = Path(filename or "").suffix.lower().lstrip(".")
    return DOCUMENT_TYPES.get(ext) or DOCUMENT_TYPES.get(fmt or "") or "application/octet-stream"


def content_disposition(filename: str) -> str:
    """attachment; an ASCII fallback name and the real (Vietnamese) name per RFC 5987/6266."""
    name = nfc(filename).replace("/", "_").replace("\\", "_")
    name = "".join(ch for ch in name if ch.isprintable())[:180] or "tep"
    plain = re.sub(r"[^A-Za-z0-9._ -]+", "_", strip_diacritics(name)).strip() or "tep"
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(name, safe='')}"


def _store_path(web: Web, area: str, sha: str, suffix: str = "") -> Path | None:
    path = web.store.path(area, sha, suffix)
    return path if path.is_file() else None


@router.get("/media/{sha}")
def media(sha: str, web: WebDep, who: UserDep) -> Response:
    require(who.user, "view", web.settings)
    if not _SHA.fullmatch(sha):
        raise NotFound("Không có ảnh này.")
    for suffix in (".web", ""):  # the web rendition, else the original if a browser can show it
        path = _store_path(web, "media", sha, suffix)
        kind = sniff_image(path) if path else None
        if path and kind:
            return FileResponse(path, media_type=kind[0], headers={"Cache-Control": MEDIA_CACHE})
    raise NotFound("Không có ảnh này.")


@router.get("/media/{sha}/original")
def media_original(sha: str, web: WebDep, who: UserDep) -> Response:
    require(who.user, "view", web.settings)
    path = _store_path(web, "media", sha) if _SHA.fullmatch(sha) else None
    if path is None:
        raise NotFound("Không có ảnh này.")
    kind = sniff_image(path)
    ctype, ext = kind if kind else ("application/octet-stream", "")
    headers = {"Content-Disposition": content_disposition(f"anh-goc-{sha[:12]}{ext}"), "Cache-Control": MEDIA_CACHE}
    return FileResponse(path, media_type=ctype, headers=headers)


@router.get("/drafts/{draft_id:int}/source")
def draft_source(request: Request, draft_id: int, web: WebDep, who: UserDep) -> Response:
    """The contributor's Word file (of the latest revision, or of ?revision=N)."""
    require(who.user, "view", web.settings)
    number = request.query_params.get("revision", "")
    with reading(web.engine) as s:
        d = s.get(Draft, draft_id)
        if d is None:
            raise NotFound(f"Không có bài số {draft_id}.")
        sha, name, fmt = d.source_sha256, d.source_file, d.source_format
        if number.isdigit():
            rev = s.exec(
                select(DraftRevision).where(DraftRevision.draft_id == draft_id, DraftRevision.number == int(number))
            ).first()
            if rev is None:
                raise NotFound("Không có phiên bản được yêu cầu.")
            sha, name = rev.source_sha256, rev.source_file
    path = _store_path(web, "documents", sha) if sha else None
    if path is None:
        raise NotFound("Bài này không có tệp Word gốc (bài lấy từ nội dung thư).")
    ctype = document_type(name, fmt)
    filename = name or f"{d.tracking_code}.{fmt or 'bin'}"
    return FileResponse(path, media_type=ctype, headers={"Content-Disposition": content_disposition(filename)})


@router.get("/inbox/{inbound_id:int}/raw")
def raw_email(inbound_id: int, web: WebDep, who: UserDep) -> Response:
    """The email exactly as it was received (the spool copy)."""
    require(who.user, "edit", web.settings)  # the sender's whole email: addresses, every attachment
    with reading(web.engine) as s:
        row = inbound(s, inbound_id)
    shown = row is not None and row.status in RAW_EMAIL_STATUSES  # never an ignored non-submission
    raw = spool.path(web.store, row.raw_sha256) if row and shown else None
    path = raw if raw is not None and raw.is_file() else None
    if path is None:
        raise NotFound(f"Không có thư số {inbound_id}.")
    return FileResponse(
        path, media_type="message/rfc822", headers={"Content-Disposition": content_disposition(f"thu-{inbound_id}.eml")}
    )
