"""`toasoan report month YYYY-MM [--json] [--xlsx FILE] [--docx FILE] [--request FILE]`.

Counts the period's items, prices them (reports.service.load_month) and writes the documents.

JSON (amounts are strings of whole đồng):
    {"period": {"name", "start", "end", "payment_date"},
     "units": [{"code", "name", "tin", "bai", "quarter_bai", "tin_met", "bai_met", "tin_status", "bai_status"}],
     "lines": [{"draft_id", "title", "author", "unit", "kind", "quantity", "coefficient", "amount", "pit", "net"}],
     "total", "pit", "net", "total_in_words",
     "closed": bool, "closed_at": ISO or null}; each line also has "seq" (STT) and "paid_on" (ISO or null).

`report close YYYY-MM [--by NAME] [--force] [--json]`, `report reopen YYYY-MM --reason TEXT [--by NAME]
[--json]`, `report pay YYYY-MM --date YYYY-MM-DD|dd/mm/yyyy [--line SEQ ...] [--by NAME] [--json]`,
`report shares DRAFT_ID "Tên=60" "Tên khác=40" [--by NAME]` (no share: cleared): reports.ledger.
`report jobs [YYYY-MM] [--failed] [--json]` lists the period jobs (JSON {"jobs": [{"id", "job",
"period", "status", "attempts", "due", "note"}]}); `report retry JOB_ID` runs a failed one again.
CLI users are the server's operators (admins); --by defaults to the OS user. Exit 0 ok, 1 refused
(Vietnamese message on stderr). Closing an already closed period is not an error (exit 0).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from core.db import reading, transaction, utcnow
from core.formats import format_date, json_text, parse_day
from core.settings import Settings
from reports.periods import Calendar, Period, PeriodError, bounds, local_date
from reports.royalty import RoyaltyError, totals
from reports.service import load_month


def as_json(
    settings: Settings,
    period: Period,
    rows: Sequence[Any],
    lines: Sequence[Any],
    month: Any = None,
) -> dict[str, Any]:
    from core.money import amount_in_words
    from reports.periods import payment_date

    cal = Calendar.from_settings(settings)
    b = bounds(period, cal)
    t = totals(lines)
    paid = list(month.paid_on) if month is not None else []
    return {
        "period": {
            "name": str(period),
            "start": b.start.isoformat(),
            "end": b.end.isoformat(),
            "payment_date": payment_date(period, cal).isoformat(),
        },
        "units": [
            {
                "code": r.code,
                "name": r.name,
                "tin": r.tin,
                "bai": r.bai,
                "quarter_bai": r.quarter_bai,
                "tin_met": r.tin_met,
                "bai_met": r.bai_met,
                "tin_status": str(r.tin_status),
                "bai_status": str(r.bai_status),
            }
            for r in rows
        ],
        "lines": [
            {
                "draft_id": ln.item_id,
                "title": ln.title,
                "author": ln.author,
                "unit": ln.unit,
                "kind": ln.kind,
                "quantity": ln.quantity,
                "coefficient": format(ln.coefficient.normalize(), "f"),
                "amount": str(int(ln.amount)),
                "pit": str(int(ln.pit)),
                "net": str(int(ln.net)),
                "seq": i,
                "paid_on": paid[i - 1].isoformat() if i - 1 < len(paid) and paid[i - 1] else None,
            }
            for i, ln in enumerate(lines, start=1)
        ],
        "total": str(int(t.amount)),
        "pit": str(int(t.pit)),
        "net": str(int(t.net)),
        "total_in_words": amount_in_words(t.amount),
        "closed": bool(month and month.closed),
        "closed_at": month.closed_at.isoformat() if month and month.closed_at else None,
    }


def cmd_report(settings: Settings, args: argparse.Namespace, open_engine: Callable[[Settings], Any]) -> int:
    try:
        period = Period.parse(args.period)
    except PeriodError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    cal = Calendar.from_settings(settings)
    now = utcnow()
    try:
        with reading(open_engine(settings)) as session:
            month = load_month(settings, session, period, now)
    except RoyaltyError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    rows, lines = month.rows, month.lines
    if args.xlsx or args.docx or args.request:
        from reports.documents import report_data, write_monthly_report, write_payment_list, write_payment_request

        data = report_data(settings, period, rows, lines, _document_date(period, now, cal))
        if args.xlsx:
            write_payment_list(data, args.xlsx)
        if args.docx:
            write_monthly_report(data, args.docx)
        if args.request:
            write_payment_request(data, args.request)
    result = as_json(settings, period, rows, lines, month)
    if args.json:
        sys.stdout.write(json_text(result))
    else:
        print(f"Kỳ {period} ({result['period']['start']} – {result['period']['end']})")
        for u in result["units"]:
            print(f"  {u['code']:<8} tin {u['tin']}  bài quý {u['quarter_bai']}  {u['tin_status']}/{u['bai_status']}")
        if month.closed:
            print("  Kỳ đã chốt: số liệu đã lưu, không tính lại.")
        print(f"  {len(lines)} dòng nhuận bút, tổng {result['total']} đ — {result['total_in_words']}")
    return 0


def _document_date(period: Period, now: datetime, cal: Calendar) -> date:
    """The tally day once the period has closed; today while it is still open."""
    end = bounds(period, cal).end
    return end.date() if now >= end else local_date(now, cal)


def _actor(args: argparse.Namespace) -> str:
    if args.by:
        return str(args.by)
    try:
        return getpass.getuser() or "admin"
    except (KeyError, OSError):
        return "admin"


def cmd_ledger(settings: Settings, args: argparse.Namespace, open_engine: Callable[[Settings], Any]) -> int:
    from reports import ledger

    now = utcnow()
    actor = _actor(args)
    result: dict[str, Any] = {}
    try:
        if args.report_cmd == "shares":
            pairs = ledger.parse_shares(args.shares)
            with transaction(open_engine(settings)) as session:
                authors = ledger.set_shares(session, args.draft_id, pairs, actor, now)
            result = {"draft_id": args.draft_id, "shares": [[a.name, str(a.share)] for a in authors]}
            message = (
                f"Bản thảo {args.draft_id}: " + ", ".join(f"{a.name} {a.share}" for a in authors)
                if authors
                else f"Bản thảo {args.draft_id}: đã xoá phần chia (tác giả là người ký tên)."
            )
        else:
            period = Period.parse(args.period)
            with transaction(open_engine(settings)) as session:
                if args.report_cmd == "close":
                    done = ledger.close_period(session, settings, period, now, actor, force=args.force)
                    state = ledger.period_state(session, period)
                    result = {"period": str(period), "closed": True, "changed": done, "lines": state.lines}
                    message = f"Đã chốt kỳ {period} ({state.lines} dòng)." if done else f"Kỳ {period} đã chốt từ trước."
                elif args.report_cmd == "reopen":
                    ledger.reopen_period(session, period, actor, args.reason, now)
                    result = {"period": str(period), "closed": False}
                    message = f"Đã mở lại kỳ {period}."
                else:
                    paid_on = parse_day(args.date)
                    today = local_date(now, Calendar.from_settings(settings))
                    n = ledger.mark_paid(session, period, paid_on, actor, args.line, now=now, today=today)
                    result = {"period": str(period), "paid": n, "paid_on": paid_on.isoformat()}
                    message = f"Đã ghi chi trả {n} dòng kỳ {period}, ngày {format_date(paid_on)}."
    except (ledger.LedgerError, PeriodError, ValueError) as exc:
        print(str(exc), file=sys.stderr)
        return 1
    if getattr(args, "json", False):
        sys.stdout.write(json_text(result))
    else:
        print(message)
    return 0


def register(sub: Any, open_engine: Callable[[Settings], Any]) -> None:
    """Adds `report` to the `toasoan` command's subparsers."""
    report = sub.add_parser("report", help="báo cáo chỉ tiêu và nhuận bút")
    rsub = report.add_subparsers(dest="report_cmd", required=True)
    month = rsub.add_parser("month", help="chỉ tiêu và nhuận bút của một kỳ (tháng nhuận bút)")
    month.add_argument("period", help="kỳ YYYY-MM (kỳ 2026-12: từ ngày chốt tháng 11 đến trước ngày chốt tháng 12)")
    month.add_argument("--json", action="store_true")
    month.add_argument("--xlsx", type=Path, help="ghi danh sách chi trả nhuận bút (XLSX)")
    month.add_argument("--docx", type=Path, help="ghi báo cáo tháng gửi Ban Thường vụ (DOCX)")
    month.add_argument("--request", type=Path, help="ghi tờ trình đề nghị chi (DOCX)")
    month.set_defaults(func=lambda settings, args: cmd_report(settings, args, open_engine))

    run = lambda settings, args: cmd_ledger(settings, args, open_engine)  # noqa: E731
    close = rsub.add_parser("close", help="chốt kỳ: lưu cố định các dòng nhuận bút")
    close.add_argument("period", help="kỳ YYYY-MM")
    close.add_argument("--by", help="người thực hiện (mặc định: tài khoản hệ điều hành)")
    close.add_argument("--force", action="store_true", help="chốt trước ngày chốt")
    close.add_argument("--json", action="store_true")
    close.set_defaults(func=run)
    reopen = rsub.add_parser("reopen", help="mở lại kỳ đã chốt (cần lý do)")
    reopen.add_argument("period", help="kỳ YYYY-MM")
    reopen.add_argument("--reason", required=True, help="lý do mở lại")
    reopen.add_argument("--by")
    reopen.add_argument("--json", action="store_true")
    reopen.set_defaults(func=run)
    pay = rsub.add_parser("pay", help="ghi ngày chi trả các dòng của kỳ đã chốt")
    pay.add_argument("period", help="kỳ YYYY-MM")
    pay.add_argument("--date", required=True, help="ngày chi trả (dd/mm/yyyy hoặc YYYY-MM-DD)")
    pay.add_argument("--line", type=int, nargs="+", help="số thứ tự dòng (mặc định: mọi dòng chưa chi)")
    pay.add_argument("--by")
    pay.add_argument("--json", action="store_true")
    pay.set_defaults(func=run)
    shares = rsub.add_parser("shares", help="chia nhuận bút một tin/bài cho nhiều tác giả")
    shares.add_argument("draft_id", type=int)
    shares.add_argument("shares", nargs="*", help='"Tên=tỷ lệ" (không có: xoá phần chia)')
    shares.add_argument("--by")
    shares.add_argument("--json", action="store_true")
    shares.set_defaults(func=run)
    register_period_jobs(rsub, open_engine)


# ----------------------------------------------------------------------- period jobs and orientation
def cmd_run_due(settings: Settings, args: argparse.Namespace, open_engine: Callable[[Settings], Any]) -> int:
    """`toasoan report run-due [--json]`: run the period jobs due now; exit 1 when one failed.

    JSON: {"now", "enqueued": [key], "ran": [{"key", "job", "period", "status", "note"}], "failed"}
    (status: succeeded, waiting, retrying, failed)."""
    from reports.schedule import describe, run_due

    report = run_due(settings, open_engine(settings), utcnow())
    if args.json:
        sys.stdout.write(json_text(report.as_json()))
    else:
        print(describe(report, settings))
    return 1 if report.failed else 0


def cmd_jobs(settings: Settings, args: argparse.Namespace, open_engine: Callable[[Settings], Any]) -> int:
    """`toasoan report jobs [YYYY-MM] [--failed] [--json]`: the recorded period jobs and their state.

    JSON: {"jobs": [{"id", "job", "period", "status", "attempts", "due", "note"}]}."""
    from reports.schedule import period_jobs

    try:
        period = Period.parse(args.period) if args.period else None
    except PeriodError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    with reading(open_engine(settings)) as session:
        found = period_jobs(session, period=period, status="failed" if args.failed else None)
    if args.json:
        sys.stdout.write(json_text({"jobs": [j.as_json() for j in found]}))
        return 0
    if not found:
        print("Không có việc định kỳ nào" + (" bị lỗi." if args.failed else " được ghi."))
    for j in found:
        line = f"#{j.id}  {j.period}  {j.label}: {j.status_label} (lần thử: {j.attempts})"
        print(line + (f" — {j.note}" if j.note else ""))
    return 0


def cmd_retry(settings: Settings, args: argparse.Namespace, open_engine: Callable[[Settings], Any]) -> int:
    """`toasoan report retry JOB_ID`: a failed period job runs again at the worker's next tick."""
    from reports.schedule import PeriodJobError, retry_period_job

    try:
        retry_period_job(open_engine(settings), args.job_id, utcnow())
    except PeriodJobError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    print(f"Việc định kỳ số {args.job_id} sẽ chạy lại ở lượt tới (hoặc ngay với `toasoan report run-due`).")
    return 0


def cmd_orientation(settings: Settings, args: argparse.Namespace, open_engine: Callable[[Settings], Any]) -> int:
    """`toasoan report orientation YYYY-MM --text TEXT | --file F [--by NAME]`."""
    from reports.orientation import OrientationError, set_orientation

    try:
        period = Period.parse(args.period)
        text = args.text if args.text is not None else args.file.read_text(encoding="utf-8")
        with transaction(open_engine(settings)) as session:
            set_orientation(session, period, text, args.by, utcnow())
    except (PeriodError, OrientationError, OSError, UnicodeDecodeError) as exc:
        print(str(exc), file=sys.stderr)
        return 1
    start = bounds(period, Calendar.from_settings(settings)).start
    print(
        f"Đã lưu định hướng nội dung kỳ {period}; sẽ gửi tới các đơn vị từ {format_date(start)}"
        " (nếu kỳ đã bắt đầu: trong vài phút)."
    )
    return 0


def register_period_jobs(rsub: Any, open_engine: Callable[[Settings], Any]) -> None:
    run = rsub.add_parser("run-due", help="chạy các việc định kỳ đã đến hạn (nhắc chỉ tiêu, định hướng, báo cáo tháng)")
    run.add_argument("--json", action="store_true", help="in những việc đã chạy (JSON)")
    run.set_defaults(func=lambda settings, args: cmd_run_due(settings, args, open_engine))
    listing = rsub.add_parser("jobs", help="các việc định kỳ đã ghi và trạng thái (lỗi, thử lại, xong)")
    listing.add_argument("period", nargs="?", help="kỳ YYYY-MM (mặc định: mọi kỳ)")
    listing.add_argument("--failed", action="store_true", help="chỉ những việc lỗi cần người xử lý")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=lambda settings, args: cmd_jobs(settings, args, open_engine))
    retry = rsub.add_parser("retry", help="chạy lại một việc định kỳ đã lỗi")
    retry.add_argument("job_id", type=int)
    retry.set_defaults(func=lambda settings, args: cmd_retry(settings, args, open_engine))
    orient = rsub.add_parser("orientation", help="lưu định hướng nội dung của một kỳ (gửi tới mọi đơn vị)")
    orient.add_argument("period", help="kỳ YYYY-MM")
    source = orient.add_mutually_exclusive_group(required=True)
    source.add_argument("--text", help="nội dung định hướng")
    source.add_argument("--file", type=Path, help="tệp văn bản UTF-8 chứa nội dung định hướng")
    orient.add_argument("--by", default="cli", help="người nhập (ghi vào nhật ký)")
    orient.set_defaults(func=lambda settings, args: cmd_orientation(settings, args, open_engine))
