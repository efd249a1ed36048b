"""`toasoan publish ...`: run the publish jobs, list them, retry a failed one, resume a paused target.

Scripts rely on these: `publish --once` runs every due job and exits 0 when nothing failed
(EXIT_PUBLISH_FAILED otherwise: a job failed, will be retried, or its target was paused);
`publish list [--json]`, `publish retry JOB_ID`, `publish resume TARGET`.
"""

from __future__ import annotations

import argparse
import logging
import time
from typing import Any

from core.db import reading
from core.settings import Settings
from toasoan.cli_common import CliError, deliver_quietly, open_engine, print_json

log = logging.getLogger("toasoan")

EXIT_PUBLISH_FAILED = 5


def add_publish_commands(sub: Any) -> None:
    """Register `publish` on the main parser's subparsers."""
    pub = sub.add_parser("publish", help="đăng các bài đã duyệt lên trang (việc đăng bài)")
    pub.add_argument("--once", action="store_true", help="chạy mọi việc đăng bài đến hạn rồi thoát")
    psub = pub.add_subparsers(dest="publish_cmd")
    pl = psub.add_parser("list", help="các việc đăng bài")
    pl.add_argument("--json", action="store_true")
    pl.add_argument("--status", help="pending, in_progress, retrying, failed, awaiting_manual, succeeded")
    pr = psub.add_parser("retry", help="đăng lại một việc đã thất bại")
    pr.add_argument("job_id", type=int)
    pr.add_argument("--by", default="cli", help="người yêu cầu (ghi vào lịch sử bài)")
    pres = psub.add_parser("resume", help="chạy lại một đích đăng đã tạm dừng (sau khi sửa tài khoản)")
    pres.add_argument("target")
    pub.set_defaults(func=cmd_publish)


def job_json(job: Any, settings: Settings) -> dict[str, Any]:
    from core.formats import format_datetime
    from publish.jobs import target_of

    def iso(v: Any) -> str | None:
        return v.isoformat() if v is not None else None

    return {
        "id": job.id,
        "kind": job.kind,
        "target": target_of(job),
        "action": job.payload.get("action"),
        "draft_id": job.payload.get("draft_id"),
        "status": job.status,
        "attempts": job.attempts,
        "next_attempt_at": iso(job.next_attempt_at),
        "last_error": job.last_error,
        "created_at": iso(job.created_at),
        "updated_at": iso(job.updated_at),
        "finished_at": iso(job.finished_at),
        "due": format_datetime(job.next_attempt_at, settings.tz),
    }


def cmd_publish(settings: Settings, args: argparse.Namespace) -> int:
    from publish.jobs import PublishError, publish_jobs, resume, retry_job, run_due

    engine = open_engine(settings)
    if args.publish_cmd == "retry":
        try:
            job = retry_job(engine, args.job_id, args.by)
        except PublishError as exc:
            raise CliError(str(exc)) from exc
        print(f"Việc {job.id} ({job.kind}) sẽ chạy lại ở lượt đăng bài tới.")
        return 0
    if args.publish_cmd == "resume":
        try:
            waiting = resume(engine, args.target)
        except PublishError as exc:
            raise CliError(str(exc)) from exc
        print(f"Đích đăng {args.target} đã chạy lại; {waiting} việc đang chờ.")
        return 0
    if args.publish_cmd == "list":
        with reading(engine) as s:
            rows = publish_jobs(s, args.status)
        if args.json:
            print_json([job_json(j, settings) for j in rows])
        else:
            for j in rows:
                data = job_json(j, settings)
                print(
                    f"{j.id:>5}  {j.status:<15} {data['target']:<10} {data['action']:<8} bài {data['draft_id']:<6}"
                    f" lần {j.attempts}  {j.last_error or ''}"
                )
        return 0
    if not args.once:
        return _run_forever(settings, engine)
    report = run_due(settings, engine)
    deliver_quietly(settings, engine)
    print(
        f"Đã đăng {report.published}, cập nhật {report.updated}, gỡ {report.withdrawn}, chờ thủ công {report.waiting},"
        f" chờ thử lại {report.retrying}, thất bại {report.failed}"
        + (f", tạm dừng: {', '.join(report.paused)}" if report.paused else "")
        + (f", chưa cài đích đăng: {', '.join(report.missing)}" if report.missing else "")
        + "."
    )
    return 0 if report.ok else EXIT_PUBLISH_FAILED


def _run_forever(settings: Settings, engine: Any) -> int:
    from publish.jobs import run_due

    while True:
        try:
            run_due(settings, engine)
        except Exception:  # retried at the next round
            log.exception("publish run failed")
        deliver_quietly(settings, engine)
        time.sleep(settings.publish.run_seconds)
