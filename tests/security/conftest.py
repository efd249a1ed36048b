"""Security tests, one module per threat: each is written as the attacker would try it, against the
real parts (SMTP, Dovecot, LibreOffice, the web app). The web fixtures are the review tests' own."""

from __future__ import annotations

from tests.review.conftest import new_office, office

__all__ = ["new_office", "office"]
