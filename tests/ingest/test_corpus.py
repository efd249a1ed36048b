"""Every real third-party file (tests/corpus.py: the in-repository copies, and the external folder when
it is there), sent in as a contributor would, becomes a draft of clean NFC Vietnamese or is quarantined
with a true reason."""

from __future__ import annotations

import unicodedata
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

import pytest

from core.html import html_to_text
from ingest.word.legacy import looks_legacy
from tests import corpus as real
from tests.appkit import write_settings
from tests.clijson import cli_json
from toasoan.cli import main

CONTENT_TYPES = {
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".doc": "application/msword",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".rtf": "application/rtf",
}


def submission(path: Path, n: int) -> bytes:
    """The corpus file as it would reach the office: a Word file attached, an email forwarded as an
    attachment, an Outlook item attached, a winmail.dat from Exchange."""
    msg = EmailMessage()
    msg["From"] = "Cộng tác viên <ctv@vanphong.tinhuy.example>"
    msg["To"] = "bientap@tinhuy.example"
    msg["Subject"] = f"BÀI CỘNG TÁC {n}"
    msg["Message-ID"] = f"<corpus-{n}@vanphong.tinhuy.example>"
    msg.set_content("Kính gửi Ban Biên tập, xin gửi tệp đính kèm.")
    data = path.read_bytes()
    folder = path.parent.name
    if folder == "email":
        msg.add_attachment(data, maintype="message", subtype="rfc822", filename=path.name)
    elif folder == "tnef":
        msg.add_attachment(data, maintype="application", subtype="ms-tnef", filename="winmail.dat")
    elif folder == "msg":
        msg.add_attachment(data, maintype="application", subtype="vnd.ms-outlook", filename=path.name)
    else:
        maintype, subtype = CONTENT_TYPES[path.suffix].split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=path.name)
    return msg.as_bytes(policy=SMTP)


@pytest.mark.slow
def test_every_real_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = real.available()
    # the whole corpus where the external folder is (CI), else every copy in the repository
    expected = real.TOTAL if real.external_present() else len(real.in_repo_names())
    assert len(files) == expected, f"corpus expected at {real.EXTERNAL}"
    config = write_settings(tmp_path, ingest={"soffice": "soffice"})
    new = tmp_path / "maildir" / "new"
    new.mkdir(parents=True)
    for n, path in enumerate(files):
        (new / f"{n:03d}.corpus").write_bytes(submission(path, n))
    assert main(["--config", str(config), "ingest", "--once"]) == 0
    inbox = {int(m["subject"].split()[-1]): m for m in cli_json(config, "inbox", "list", capsys=capsys)}
    assert len(inbox) == len(files)
    outcomes: dict[str, str] = {}
    for n, path in enumerate(files):
        m = inbox[n]
        key = f"{path.parent.name}/{path.name}"
        outcomes[key] = m["status"] if m["status"] == "accepted" else f"{m['status']}/{m['reason']}"
        for draft_id in m["draft_ids"]:
            d = cli_json(config, "drafts", "show", str(draft_id), capsys=capsys)
            text = " ".join([d["title"], d["lead"] or "", html_to_text(d["body_html"]), d["byline"] or ""])
            assert text == unicodedata.normalize("NFC", text), key
            assert "\ufffd" not in d["title"], key
            for encoding in ("tcvn3", "vni"):
                assert not looks_legacy(text, encoding), f"{key}: legacy-encoding garbage left ({encoding})"
    # Every Word-family file is a document the office can use.
    for folder in ("docx", "doc", "legacy-font", "other"):
        bad = {k: v for k, v in outcomes.items() if k.startswith(folder + "/") and v != "accepted"}
        assert bad == {}, bad
    # Mail, Outlook items and winmail.dat: a draft when they carry a Word file, else a true reason.
    for key, outcome in outcomes.items():
        assert outcome in ("accepted", "quarantined/no_document", "quarantined/unsupported_document"), (key, outcome)
    assert outcomes["msg/msgreader_EmailWithInnerMailAndAttachments.msg"] == "quarantined/unsupported_document"  # PDFs
