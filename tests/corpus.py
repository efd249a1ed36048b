"""Where the real third-party files are; the only code that knows.

The corpus has 70 files in seven folders (docx/, doc/, legacy-font/, other/, email/, tnef/, msg/). The
49 whose licence allows it are copied into the repository (tests/fixtures/real, see its SOURCES.md);
the other 21 are read from the folder named by TOASOAN_REAL_CORPUS (a relative value is relative to the
repository; default ../shared/corpus/real). CI always has that folder (.ci/run requires it). On a
fresh clone without it, the tests of those 21 files are skipped with SKIP_REASON, never failed.

Names are relative to the corpus root, e.g. "docx/khoach_bia_cover-page.docx"; patterns are fnmatch
patterns over such names, e.g. "docx/*.docx".
"""

from __future__ import annotations

import os
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
IN_REPO = REPO / "tests" / "fixtures" / "real"
# REPO / an absolute value is that value; an empty one counts as unset
EXTERNAL = (REPO / (os.environ.get("TOASOAN_REAL_CORPUS") or "../shared/corpus/real")).resolve()
SKIP_REASON = f"real corpus not found at {EXTERNAL}: set TOASOAN_REAL_CORPUS"
FOLDERS = ("docx", "doc", "legacy-font", "other", "email", "tnef", "msg")
TOTAL = 70

# Not redistributable (no licence; see tests/fixtures/real/SOURCES.md): only ever in EXTERNAL. Listed
# here so that tests keep the same ids, and skip, when the folder is absent.
EXTERNAL_ONLY = (
    "doc/mauvanban_don-xin-nghi-phep.doc",
    "doc/qlxdvbpl_07-2025-QD-UBND-thai-nguyen.doc",
    "docx/khoach_bao-cao-do-an_images-toc.docx",
    "docx/khoach_bia_cover-page.docx",
    "docx/kiemtravanban_tai-lieu_ho-so-du-thau.docx",
    "docx/mauvanban_don-khoi-kien_wps-office.docx",
    "docx/mauvanban_don-yeu-cau_vntime-style-decoy.docx",
    "docx/mauvanban_huong-dan-lap-van-ban_images.docx",
    "docx/mauvanban_thoa-thuan-chia-tai-san.docx",
    "docx/onluyenthpt_de-thi_latex-in-text.docx",
    "docx/qlxdvbpl_TP-CC-36_so-theo-doi.docx",
    "docx/quanlyvanban_HSCV-chi-tiet-chuc-nang_pandoc.docx",
    "docx/soangiaoan_huong-dan-soan-giao-an-toan_gdocs.docx",
    "docx/soangiaoan_tieu-chi-du-gio-cis.docx",
    "docx/toasoan_bantin_3_phpword.docx",
    "docx/vanbanai_01-to-khai-khai-sinh_generated.docx",
    "docx/wallkool_he-thong-chi-tieu-ICT-Index-2022.docx",
    "email/gitlist_windows-1258-8bit.eml",
    "other/baocaoccpm_BaoCao_word2013.odt",
    "other/mqtt_baocao_libreoffice6.odt",
    "other/xlaptit_baocao_libreoffice24.odt",
)


def external_present() -> bool:
    return EXTERNAL.is_dir()


def in_repo_names() -> list[str]:
    return sorted(
        f"{folder}/{p.name}" for folder in FOLDERS if (IN_REPO / folder).is_dir() for p in (IN_REPO / folder).iterdir()
    )


def names(*patterns: str) -> list[str]:
    """Every corpus name matching any of the patterns, present here or not: pattern order, then sorted."""
    every = sorted({*in_repo_names(), *EXTERNAL_ONLY})
    out: list[str] = []
    for pattern in patterns or ("*",):
        out += [n for n in every if fnmatchcase(n, pattern) and n not in out]
    return out


def is_available(name: str) -> bool:
    return (IN_REPO / name).is_file() or external_present()


def locate(name: str) -> Path:
    """The file's path, in-repo copy first; nothing is checked (a missing file fails when read)."""
    here = IN_REPO / name
    return here if here.is_file() else EXTERNAL / name


def path(name: str) -> Path:
    """The file's path; skips the calling test when the file is only in the absent external folder."""
    if not is_available(name):
        pytest.skip(SKIP_REASON)
    return locate(name)


def read(name: str) -> bytes:
    return path(name).read_bytes()


def paths(*patterns: str) -> list[Path]:
    """All files matching the patterns, for a test that loops over them: skips when any is missing."""
    return [path(n) for n in names(*patterns)]


def available(*patterns: str) -> list[Path]:
    """The matching files present on this machine (all of them when the external folder is there)."""
    return [locate(n) for n in names(*patterns) if is_available(n)]


def params(*patterns: str) -> list[Any]:
    """pytest parameters (Path values) for every matching file; those not on this machine skip."""
    skip = pytest.mark.skip(reason=SKIP_REASON)
    return [pytest.param(locate(n), marks=() if is_available(n) else skip) for n in names(*patterns)]
