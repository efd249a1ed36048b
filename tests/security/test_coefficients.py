"""Issue 7, item 6: a royalty coefficient that is not a plain number is a clear Vietnamese error, from the
web form (a 422 page) and from `toasoan drafts approve --coefficient` (exit 2 and the message), never
a 500 or a traceback; nothing is written. Decimal() alone takes NaN, Infinity, sNaN and exponents."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from tests.review.webkit import Office, seed_draft, text_of
from toasoan.cli import main

BAD = ["NaN", "Infinity", "-Infinity", "sNaN", "1E+999999", "1e-999999", "", "  ", "1,5,0", "2,555", "-1", "0x10"]


def test_the_web_form_refuses_every_value_that_is_not_a_plain_number(office: Office) -> None:
    chief = office.signed_in("chief")
    draft = seed_draft(office)
    before = office.state(draft)
    for value in BAD:
        r = chief.submit(f"/drafts/{draft}", f"/drafts/{draft}/approve", coefficient=value)
        assert r.status_code == 422, (value, r.status_code)
        assert "hệ số nhuận bút" in text_of(r.text).lower(), value
        assert office.state(draft) == before and office.draft(draft).coefficient is None, value


def test_the_web_form_takes_the_vietnamese_decimal_comma(office: Office) -> None:
    chief = office.signed_in("chief")
    draft = seed_draft(office)
    r = chief.submit(f"/drafts/{draft}", f"/drafts/{draft}/approve", coefficient="1,5", category="tin-hoat-dong")
    assert r.status_code == 303
    assert (office.draft(draft).status, office.draft(draft).coefficient) == ("approved", Decimal("1.50"))


def test_a_proposal_with_a_bad_coefficient_is_refused_too(new_office: Callable[..., Office]) -> None:
    office = new_office(two_step=True)
    editor = office.signed_in("editor")
    draft = seed_draft(office)
    before = office.state(draft)
    for value in ("NaN", "sNaN", "1E+999999"):
        r = editor.submit(f"/drafts/{draft}", f"/drafts/{draft}/propose", coefficient=value)
        assert r.status_code == 422 and "hệ số nhuận bút" in text_of(r.text).lower(), value
        assert office.state(draft) == before, value


@pytest.mark.parametrize("value", BAD)
def test_the_cli_refuses_it_with_exit_2_and_the_message(
    office: Office, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    draft = seed_draft(office)
    before = office.state(draft)
    args = ["--config", str(office.config), "drafts", "approve", str(draft), "--by", "truongban"]
    with pytest.raises(SystemExit) as exit_:
        main([*args, f"--coefficient={value}"])  # the = form: "-Infinity" is a value, not an option
    err = capsys.readouterr().err
    assert exit_.value.code == 2
    assert "hệ số nhuận bút" in err.lower() and "Traceback" not in err
    assert office.state(draft) == before and office.draft(draft).coefficient is None
    assert main([*args, "--coefficient", "2,5"]) == 0  # the same command with a good number goes through
    assert office.draft(draft).coefficient == Decimal("2.50")
