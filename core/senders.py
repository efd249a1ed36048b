"""Who a sender is: the unit an address belongs to, for intake and for the contributor's emails."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from core.models import Draft, KnownSender
from core.settings import Settings, Unit


def unit_for_address(s: Session, settings: Settings, address: str) -> Unit | None:
    """The settings' [[units]] first, then the addresses editors asked to remember. None: an unknown
    sender, to whom the office's mail echoes nothing they wrote."""
    unit = settings.unit_for_sender(address)
    if unit is None and address:
        known = s.get(KnownSender, address.lower())
        unit = settings.unit_by_code(known.unit_code) if known else None
    return unit


def mail_to(draft: Draft) -> str | None:
    """Where automatic mail about a draft may go: its From address, never Reply-To, and nowhere when
    our server found that From forged (the `sender_unverified` warning: it may be anyone's address)."""
    if not draft.sender or "@" not in draft.sender or "sender_unverified" in draft.warnings:
        return None
    return draft.sender


def short_title(title: str, n: int = 80) -> str:
    """A title short enough for a subject line."""
    return title if len(title) <= n else title[: n - 1].rstrip() + "…"


def greeting(sender_name: str | None) -> str:
    """Whom an email to a contributor addresses after "Kính gửi": "đồng chí Lan", or "đồng chí" alone."""
    return f"đồng chí {sender_name}" if sender_name else "đồng chí"


def kind_label(settings: Settings, kind: str) -> str:
    """The kind as a sentence of an email names it ("tin", "bài"): the settings' label, lower-case."""
    genre = settings.genres.get(kind)
    return (genre.label if genre else kind).lower()


def letter(settings: Settings, sender_name: str | None, *, echo: bool = True) -> dict[str, Any]:
    """What every email to a contributor opens and closes with: the greeting (the sender's name only when
    the mail may echo what the sender wrote) and the office that signs it."""
    return {
        "echo": echo,
        "greeting": greeting(sender_name if echo else ""),
        "office": settings.organization.office_name,
        "organization": settings.organization.name,
    }
