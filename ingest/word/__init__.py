"""Word conversion: what a contributor's file is, and the article inside it.

The orchestrator: size checks -> sniff -> zip guards -> LibreOffice for .doc/.odt/.rtf -> the
python-docx converter (`ingest.word.docx`) -> images (probe, web renditions, EMF/WMF via
LibreOffice) -> ConvertedDocument. Every bad input ends as a DocumentError with a reason code the
pipeline stores on the quarantined message; nothing else escapes for bad input.

`convert_document` runs in the calling process; `convert_document_isolated` runs the same in a
persistent pool of worker processes with a memory ceiling and a wall-clock timeout, which is what
the ingest pipeline uses for files from the outside world.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import TYPE_CHECKING, TypeVar

from core.text import nfc
from ingest.word import images as _images
from ingest.word import libreoffice as _lo
from ingest.word import pool as _pool
from ingest.word import sandbox as _sandbox
from ingest.word.sniff import REASONS, DocumentError, check_zip, sniff

if TYPE_CHECKING:
    from ingest.word.docx import DocxArticle, DocxImage

__all__ = [
    "REASONS",
    "ConversionLimits",
    "ConvertedDocument",
    "ConvertedImage",
    "DocumentError",
    "convert_document",
    "convert_document_isolated",
    "is_document_candidate",
    "sniff",
]


@dataclass(frozen=True)
class ConversionLimits:
    max_document_bytes: int = 20 * 2**20
    max_uncompressed_bytes: int = 200 * 2**20  # sum of declared zip member sizes
    max_compression_ratio: int = 100  # per member, above a small-size floor
    max_image_pixels: int = 50_000_000
    web_width: int = 1200  # web rendition max width (px)
    timeout_seconds: float = 60.0
    memory_mb: int = 1024  # address-space ceiling of the worker process
    soffice: str | None = "soffice"  # command or path; None = LibreOffice disabled
    # bubblewrap around LibreOffice: "required" (refused without it: converter_missing), "preferred"
    # (unconfined with a logged warning when bwrap cannot run), "off" (tests of the other layers)
    confinement: str = "required"


DEFAULT_LIMITS = ConversionLimits()


@dataclass
class ConvertedImage:
    sha256: str
    data: bytes
    content_type: str
    width: int | None
    height: int | None
    caption: str | None
    alt: str | None
    web_data: bytes | None
    web_content_type: str | None
    web_width: int | None
    web_height: int | None
    origin: str  # "embedded" | "attached"


@dataclass
class ConvertedDocument:
    format: str  # "docx" | "docm" | "doc" | "odt" | "rtf"
    title: str | None
    lead: str | None
    byline: str | None
    body_html: str
    text: str
    images: list[ConvertedImage]
    warnings: list[str]


# ---------------------------------------------------------------------------------------------
# is this attachment "the Word file"?

_DOCUMENT_EXTENSIONS = frozenset({".docx", ".docm", ".dotx", ".dotm", ".doc", ".dot", ".odt", ".rtf", ".pdf"})
_DOCUMENT_CONTENT_TYPES = frozenset(
    {
        "application/msword",
        "application/x-msword",
        "application/vnd.msword",
        "application/vnd.ms-word",
        "application/doc",
        "application/x-doc",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.template",
        "application/vnd.ms-word.document.macroenabled.12",
        "application/vnd.ms-word.template.macroenabled.12",
        "application/vnd.oasis.opendocument.text",
        "application/rtf",
        "application/x-rtf",
        "text/rtf",
        "text/richtext",
        "application/pdf",
        "application/x-pdf",
    }
)
# What mail clients say when they do not know: the bytes decide.
_GENERIC_CONTENT_TYPES = frozenset(
    {
        "",
        "application/octet-stream",
        "binary/octet-stream",
        "application/unknown",
        "application/x-unknown",
        "application/download",
        "application/force-download",
        "application/zip",
        "application/x-zip",
        "application/x-zip-compressed",
    }
)
# Sniffed as encrypted or PDF, but named like another office file: not the Word file.
_OTHER_OFFICE_EXTENSIONS = frozenset({".xls", ".xlsx", ".xlsm", ".ppt", ".pptx", ".pptm", ".msg", ".vsd"})
_WORD_KINDS = frozenset({"docx", "docm", "doc", "odt", "rtf"})
_NEEDS_LIBREOFFICE = frozenset({"doc", "odt", "rtf"})
_KIND_NAMES = {"pdf": "a PDF file", "zip": "a zip archive", "image": "an image"}


def _extension(filename: str) -> str:
    return PurePath(nfc(filename).strip().replace("\\", "/")).suffix.lower()


def is_document_candidate(filename: str, content_type: str, data: bytes) -> bool:
    """Should the pipeline treat this attachment as the Word file of a submission?

    Yes by extension (.docx/.docm/.doc/.odt/.rtf/.pdf: a PDF or a disguised file is then refused
    with a reason the contributor is told), by a Word/ODF/RTF/PDF content type, or for a generic
    content type when the bytes sniff as a document. Images never are: they become photos.
    """
    kind = sniff(data, filename)
    if kind == "image":
        return False
    ext = _extension(filename)
    if ext in _DOCUMENT_EXTENSIONS:
        return True
    mime = content_type.split(";", 1)[0].strip().lower()
    if mime.startswith("image/"):
        return False
    if mime in _DOCUMENT_CONTENT_TYPES:
        return True
    if mime in _GENERIC_CONTENT_TYPES:
        if kind in _WORD_KINDS:
            return True
        return kind in ("encrypted", "pdf") and ext not in _OTHER_OFFICE_EXTENSIONS
    return False


# ---------------------------------------------------------------------------------------------
# conversion


def convert_document(
    data: bytes,
    filename: str,
    *,
    limits: ConversionLimits = DEFAULT_LIMITS,
    attached_images: Sequence[tuple[str, bytes]] = (),
) -> ConvertedDocument:
    """Convert one contributor file (in this process). Raises DocumentError for every bad input."""
    with _as_document_error():
        deadline = time.monotonic() + limits.timeout_seconds
        kind = _inspect(data, filename, limits)
        docx_data = _via_libreoffice(data, kind, limits, deadline) if kind in _NEEDS_LIBREOFFICE else data
        return _finish(docx_data, kind, limits, attached_images, deadline)


@contextlib.contextmanager
def _as_document_error() -> Iterator[None]:
    """Bad input ends as a DocumentError, whatever the library underneath raised."""
    try:
        yield
    except DocumentError:
        raise
    except MemoryError as exc:
        raise DocumentError("corrupt_document", "conversion ran out of memory") from exc
    except RecursionError as exc:
        raise DocumentError("corrupt_document", "document nested too deeply") from exc
    except Exception as exc:
        raise DocumentError("corrupt_document", f"{type(exc).__name__}: {exc}"[:300]) from exc


def _inspect(data: bytes, filename: str, limits: ConversionLimits) -> str:
    """Size, kind and container checks; the kind to convert from ("docx", "doc", ...)."""
    if not data:
        raise DocumentError("corrupt_document", "empty file")
    if len(data) > limits.max_document_bytes:
        raise DocumentError("too_large", f"document is {_mb(len(data))} (limit {_mb(limits.max_document_bytes)})")
    kind = sniff(data, filename)
    if kind == "encrypted":
        raise DocumentError("encrypted_document", "password-protected document")
    if kind in ("pdf", "zip", "image"):
        raise DocumentError("unsupported_document", f"{_KIND_NAMES[kind]}, not a Word document")
    if kind == "unknown":
        if _extension(filename) in _DOCUMENT_EXTENSIONS:
            raise DocumentError("corrupt_document", f"not a readable {_extension(filename)} file")
        raise DocumentError("unsupported_document", "not a Word, ODF or RTF document")
    if kind in ("docx", "docm", "odt"):
        _check_zip(data, limits)
    return kind


def _finish(
    docx_data: bytes,
    kind: str,
    limits: ConversionLimits,
    attached: Sequence[tuple[str, bytes]],
    deadline: float,
) -> ConvertedDocument:
    """From (LibreOffice's or the sender's) .docx bytes to the article with its images."""
    if kind in _NEEDS_LIBREOFFICE:
        _check_zip(docx_data, limits)  # LibreOffice's output: ours, but still bounded
    article = _docx_to_article(docx_data, is_docm=kind == "docm")
    images, image_warnings = _collect_images(article.images, attached, limits, deadline)
    return ConvertedDocument(
        format=kind,
        title=article.title,
        lead=article.lead,
        byline=article.byline,
        body_html=article.body_html,
        text=article.text,
        images=images,
        warnings=_unique([*article.warnings, *image_warnings]),
    )


def _check_zip(data: bytes, limits: ConversionLimits) -> None:
    check_zip(data, max_uncompressed=limits.max_uncompressed_bytes, max_ratio=limits.max_compression_ratio)


def _lo_memory(limits: ConversionLimits) -> int:
    # soffice.bin maps ~500 MB before reading a byte: never give it less than 1 GB.
    return max(limits.memory_mb, 1024)


def _via_libreoffice(
    data: bytes, kind: str, limits: ConversionLimits, deadline: float, elsewhere: _lo.BatchRunner | None = None
) -> bytes:
    if _lo.find_soffice(limits.soffice) is None:
        what = "disabled" if not limits.soffice else f"not found ({limits.soffice})"
        raise DocumentError("converter_missing", f"LibreOffice {what}: needed for .{kind}")
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise DocumentError("corrupt_document", f"conversion timeout after {limits.timeout_seconds:g} s")
    try:
        # Batched with concurrent requests of this process: one soffice start for all of them.
        out = _lo.batcher(limits.soffice, _lo_memory(limits), limits.confinement, elsewhere).convert(
            data, "docx", timeout=remaining, kind=kind
        )
    except _lo.LibreOfficeMissing as exc:
        raise DocumentError("converter_missing", str(exc)) from exc
    except _lo.LibreOfficeTimeout as exc:
        raise DocumentError("corrupt_document", f"{exc} converting .{kind}") from exc
    except _lo.LibreOfficeFailed as exc:
        raise DocumentError("corrupt_document", f"LibreOffice could not read the .{kind} file") from exc
    if sniff(out) not in ("docx", "docm"):
        raise DocumentError("corrupt_document", f"LibreOffice produced no Word file from the .{kind} file")
    return out


def _docx_to_article(data: bytes, *, is_docm: bool) -> DocxArticle:
    # Imported here: the converter is a sibling module that may be absent in a partial checkout.
    try:
        from ingest.word.docx import docx_to_article
    except ImportError as exc:
        raise DocumentError("converter_missing", f"Word converter unavailable: {exc}") from exc
    return docx_to_article(data, is_docm=is_docm)


# ---------------------------------------------------------------------------------------------
# images


@dataclass
class _Pending:
    image: ConvertedImage
    vector: bool


def _collect_images(
    embedded: Sequence[DocxImage],
    attached: Sequence[tuple[str, bytes]],
    limits: ConversionLimits,
    deadline: float,
) -> tuple[list[ConvertedImage], list[str]]:
    """Embedded images (in document order), then attached photos, de-duplicated by sha256."""
    warnings: list[str] = []
    pending: list[_Pending] = []
    seen: set[str] = set()
    for img in embedded:
        data = img.data
        sha = hashlib.sha256(data).hexdigest()
        if sha in seen:
            continue
        seen.add(sha)
        try:
            content_type, width, height = _images.probe(data, limits.max_image_pixels)
        except _images.ImageTooLarge as exc:
            raise DocumentError("too_large", f"embedded {exc}") from exc
        except _images.ImageError:
            content_type, width, height = img.content_type, None, None
        converted = _image(sha, data, content_type, width, height, "embedded")
        converted.caption, converted.alt = img.caption, img.alt
        pending.append(_Pending(converted, content_type in _images.VECTOR_TYPES))
    for _name, data in attached:
        sha = hashlib.sha256(data).hexdigest()
        if sha in seen:
            continue
        seen.add(sha)
        if len(data) > limits.max_document_bytes:
            warnings.append("attached_image_rejected")
            continue
        try:
            content_type, width, height = _images.probe(data, limits.max_image_pixels)
        except _images.ImageError:
            warnings.append("attached_image_rejected")
            continue
        pending.append(_Pending(_image(sha, data, content_type, width, height, "attached"), False))
    for item in pending:
        if not item.vector:
            _add_rendition(item.image, item.image.data, limits)
    vectors = [item.image for item in pending if item.vector]
    if vectors:
        _render_vectors(vectors, limits, deadline)
    if any(item.image.web_data is None for item in pending):
        warnings.append("image_unconverted")
    return [item.image for item in pending], warnings


def _image(
    sha: str, data: bytes, content_type: str, width: int | None, height: int | None, origin: str
) -> ConvertedImage:
    return ConvertedImage(
        sha256=sha,
        data=data,
        content_type=content_type,
        width=width,
        height=height,
        caption=None,
        alt=None,
        web_data=None,
        web_content_type=None,
        web_width=None,
        web_height=None,
        origin=origin,
    )


def _add_rendition(image: ConvertedImage, source: bytes, limits: ConversionLimits) -> None:
    try:
        data, content_type, width, height = _images.web_rendition(
            source, limits.web_width, max_pixels=limits.max_image_pixels
        )
    except _images.ImageError:
        return  # the caller warns once for every image left without a web version
    image.web_data, image.web_content_type = data, content_type
    image.web_width, image.web_height = width, height


def _render_vectors(vectors: list[ConvertedImage], limits: ConversionLimits, deadline: float) -> None:
    remaining = deadline - time.monotonic()
    if _lo.find_soffice(limits.soffice) is None or remaining <= 0:
        return  # left without a web version: the caller warns "image_unconverted"
    try:
        pngs = _lo.vector_images_to_png(
            [image.data for image in vectors],
            soffice=limits.soffice,
            timeout=remaining,
            memory_mb=_lo_memory(limits),
            confinement=limits.confinement,
        )
    except _lo.LibreOfficeError:
        return
    for image, png in zip(vectors, pngs, strict=True):
        if png is not None:
            _add_rendition(image, png, limits)


def _unique(items: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _mb(n: int) -> str:
    return f"{n / 2**20:.1f} MB"


# ---------------------------------------------------------------------------------------------
# isolated conversion


def convert_document_isolated(
    data: bytes,
    filename: str,
    *,
    limits: ConversionLimits = DEFAULT_LIMITS,
    attached_images: Sequence[tuple[str, bytes]] = (),
) -> ConvertedDocument:
    """`convert_document` in a worker process with RLIMIT_AS = limits.memory_mb and a timeout.

    A worker that times out, runs out of memory or dies is replaced, and the call raises
    DocumentError("corrupt_document", ...) saying which. For .doc/.odt/.rtf the worker checks the
    file, this process gathers concurrent requests into one batch and a worker has LibreOffice
    convert the batch (soffice, confined, is started by the worker, never by this process: the web
    server's "Xử lý lại" comes through here), and a worker converts the resulting .docx.
    """
    if len(data) > limits.max_document_bytes:  # refuse before copying it into a worker
        raise DocumentError("too_large", f"document is {_mb(len(data))} (limit {_mb(limits.max_document_bytes)})")
    deadline = time.monotonic() + limits.timeout_seconds
    attached = tuple(attached_images)
    first = _in_worker(_first_stage, deadline, limits, data, filename, limits, attached)
    if isinstance(first, ConvertedDocument):
        return first
    if first not in _NEEDS_LIBREOFFICE:
        raise DocumentError("corrupt_document", f"unexpected worker reply {first!r}")
    with _as_document_error():
        docx_data = _via_libreoffice(data, first, limits, deadline, _batch_in_worker)
    seconds_left = max(0.0, deadline - time.monotonic())
    return _in_worker(_second_stage, deadline, limits, docx_data, first, limits, attached, seconds_left)


def _batch_in_worker(
    inputs: list[tuple[bytes, str]], target: str, soffice: str, timeout: float, memory_mb: int | None, bwrap: str | None
) -> _lo.BatchResult:
    """A LibreOffice batch run by a worker process (which kills soffice with itself on a timeout)."""
    target_fn = f"{_lo.__name__}:{_lo.convert_batch_here.__name__}"
    try:
        result: _lo.BatchResult = _pool.get_pool().call(
            target_fn,
            inputs,
            target,
            soffice,
            timeout,
            memory_mb,
            bwrap,
            timeout=timeout + 10,
            memory_mb=memory_mb or 2048,
        )
    except _sandbox.WorkerTimeout as exc:
        raise _lo.LibreOfficeTimeout(f"LibreOffice timeout after {timeout:g} s") from exc
    except _sandbox.SandboxError as exc:
        raise _lo.LibreOfficeFailed(f"LibreOffice worker failed: {exc}") from exc
    return result


def convert_photos_isolated(
    photos: Sequence[tuple[str, bytes]], *, limits: ConversionLimits = DEFAULT_LIMITS
) -> tuple[list[ConvertedImage], list[str]]:
    """Photos sent without a Word file (an article typed in the email): probed and rendered in a
    worker, like the images of a document. Unreadable ones are left out with a warning."""
    deadline = time.monotonic() + limits.timeout_seconds
    return _in_worker(_photos_stage, deadline, limits, tuple(photos), limits)


def _photos_stage(
    photos: Sequence[tuple[str, bytes]], limits: ConversionLimits
) -> tuple[list[ConvertedImage], list[str]]:
    with _as_document_error():
        return _collect_images((), photos, limits, time.monotonic() + limits.timeout_seconds)


def _first_stage(
    data: bytes, filename: str, limits: ConversionLimits, attached: Sequence[tuple[str, bytes]]
) -> ConvertedDocument | str:
    """In a worker: check the file; convert it if it is a .docx, else name the kind for LibreOffice."""
    with _as_document_error():
        deadline = time.monotonic() + limits.timeout_seconds
        kind = _inspect(data, filename, limits)
        if kind in _NEEDS_LIBREOFFICE:
            return kind
        return _finish(data, kind, limits, attached, deadline)


def _second_stage(
    docx_data: bytes,
    kind: str,
    limits: ConversionLimits,
    attached: Sequence[tuple[str, bytes]],
    seconds_left: float,
) -> ConvertedDocument:
    """In a worker: the .docx LibreOffice made from a .doc/.odt/.rtf."""
    with _as_document_error():
        return _finish(docx_data, kind, limits, attached, time.monotonic() + seconds_left)


_Result = TypeVar("_Result")


def _in_worker(function: Callable[..., _Result], deadline: float, limits: ConversionLimits, *args: object) -> _Result:
    # The worker enforces the deadline itself (LibreOffice included); the margin lets it say so.
    wall = max(0.0, deadline - time.monotonic()) + 5.0
    try:
        # The worker runs `function` by name and sends back what it returned.
        result: _Result = _pool.get_pool().call(
            f"{__name__}:{function.__name__}", *args, timeout=wall, memory_mb=limits.memory_mb
        )
        return result
    except DocumentError:
        raise
    except _sandbox.WorkerTimeout as exc:
        raise DocumentError("corrupt_document", f"conversion timeout after {limits.timeout_seconds:g} s") from exc
    except _sandbox.WorkerMemoryError as exc:
        raise DocumentError("corrupt_document", f"conversion ran out of memory (limit {limits.memory_mb} MB)") from exc
    except _sandbox.WorkerCrashed as exc:
        raise DocumentError(
            "corrupt_document", f"converter process died ({exc}): timeout/memory limit or crash"
        ) from exc
    except Exception as exc:
        raise DocumentError("corrupt_document", f"{type(exc).__name__}: {exc}"[:300]) from exc
