"""The fault tests' judge of doubled mail: it lets through only the double SMTP leaves open (the sender
killed between the server's "250" and its own mark), so that test_worker_killed cannot pass on a double
of another kind."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from tests.faults.kit import doubles_not_explained_by_a_kill
from tests.servers import Message

pytestmark = pytest.mark.no_database


def receipt(n: int, at: float, body: str = "Đã nhận bài.") -> Message:
    msg = EmailMessage()
    msg["Message-ID"] = f"<receipt-{n}@toasoan.example>"
    msg["In-Reply-To"] = f"<submission-{n}@vanphong.tinhuy.example>"
    msg.set_content(body)
    return Message("toasoan@tinhuy.example", [f"ctv{n}@vanphong.tinhuy.example"], msg.as_bytes(), at)


def test_no_double_nothing_to_explain() -> None:
    assert doubles_not_explained_by_a_kill([receipt(1, 1.0), receipt(2, 2.0)], deaths=[5.0]) == []


def test_the_last_mail_before_a_kill_sent_again_is_explained() -> None:
    arrivals = [receipt(1, 1.0), receipt(2, 2.0), receipt(2, 9.0), receipt(3, 9.5)]
    assert doubles_not_explained_by_a_kill(arrivals, deaths=[2.01]) == []


@pytest.mark.parametrize(
    ("arrivals", "deaths", "why"),
    [
        ([receipt(1, 1.0), receipt(1, 2.0)], [], "no kill after its first copy"),
        ([receipt(1, 1.0), receipt(1, 9.0)], [5.0], "the next kill came 4.00 s after the first copy"),
        (
            [receipt(1, 1.0), receipt(2, 1.5), receipt(1, 9.0)],
            [1.6],
            "another mail went between its first copy and the kill",
        ),
        ([receipt(1, 1.0), receipt(1, 9.0, body="Một biên nhận khác.")], [1.1], "not the same mail twice"),
        ([receipt(1, 1.0), receipt(1, 5.0), receipt(1, 9.0)], [1.1, 5.1], "3 copies"),
    ],
    ids=["no kill", "kill long after", "mail between", "other body", "three copies"],
)
def test_other_doubles_are_not(arrivals: list[Message], deaths: list[float], why: str) -> None:
    assert doubles_not_explained_by_a_kill(arrivals, deaths) == [f"<submission-1@vanphong.tinhuy.example>: {why}"]


def test_one_kill_explains_one_double() -> None:
    # Two mails doubled, one kill: the sender sends one mail at a time, so one of them is something else.
    arrivals = [receipt(1, 1.0), receipt(2, 1.0), receipt(1, 9.0), receipt(2, 9.1)]
    assert len(doubles_not_explained_by_a_kill(arrivals, deaths=[1.05])) == 1
