"""Who a sender is: the unit an address belongs to, for intake and for the contributor's emails."""

from __future__ import annotations

from sqlmodel import Session

from core.models import KnownSender
from core.settings import Settings, Unit


def unit_for_address(s: Session, settings: Settings, address: str) -> Unit | None:
    """The settings' [[units]] first, then the addresses editors asked to remember. None: an unknown
    sender, to whom the office's mail echoes nothing they wrote."""
    unit = settings.unit_for_sender(address)
    if unit is None and address:
        known = s.get(KnownSender, address.lower())
        unit = settings.unit_by_code(known.unit_code) if known else None
    return unit
