"""`toasoan backup DIR` and `toasoan restore DIR`: the database and the stored files, together.

A backup folder holds the database (`database.sqlite3`, made by SQLite's online backup API, or
`database.pgdump`, pg_dump's custom format), `storage/` (the Store's tree: raw mail spool, original
files, images) and `manifest.json`, written last: a folder without it is an incomplete backup.

The database is copied before the files. A row only ever names a file that was durable before the row
was committed, and stored files are never changed or removed, so every file the copied rows name is
in `storage/` even while the worker keeps writing (a file newer than the rows is harmless).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import MetaData, inspect, select, table, text
from sqlalchemy.engine import URL, Engine, make_url

from core.db import redact, safe_url
from core.errors import Bilingual
from core.progress import Progress, progress_bar
from core.runners import LEASE_SECONDS, held_leases
from core.settings import Settings
from toasoan.database import alembic_config, open_database

MANIFEST = "manifest.json"
STORAGE = "storage"
DUMP_NAMES = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
FORMAT = 1
SQLITE_TIMEOUT_S = 15.0
CHUNK = 1 << 20


class BackupError(Bilingual):
    """A backup or restore refused or failed; the message is for the person running the command."""


@dataclass(frozen=True)
class Summary:
    dir: Path
    database: str
    files: int
    bytes: int
    revision: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "dir": str(self.dir),
            "database": self.database,
            "files": self.files,
            "bytes": self.bytes,
            "revision": self.revision,
        }


# ------------------------------------------------------------------------------------ helpers
def database_kind(url: str) -> str:
    kind = make_url(url).get_backend_name()
    if kind not in DUMP_NAMES:
        raise BackupError(f"Không sao lưu được cơ sở dữ liệu loại {kind}", f"unsupported database: {safe_url(url)}")
    return kind


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("Cơ sở dữ liệu SQLite trong bộ nhớ không sao lưu được", "an in-memory database")
    return Path(database)


def _sqlite_copy(source: Path, target: Path, *, dump: bool) -> None:
    """Online backup: one step, so the copy is one consistent snapshot (WAL lets writers go on).
    `dump`: from the live database into a new dump; else from a dump into the live database."""
    # A missing source is an error, never a new empty database; a dump being restored is only read.
    src_uri = f"{source.resolve().as_uri()}?mode={'rw' if dump else 'ro'}"  # as_uri: '?', '#', '%' in names
    src = sqlite3.connect(src_uri, uri=True, timeout=SQLITE_TIMEOUT_S)
    dst = sqlite3.connect(target, timeout=SQLITE_TIMEOUT_S)
    try:
        src.backup(dst, pages=-1)
        if dump:
            # A self-contained file (no -wal beside it), so that its checksum is the whole copy.
            dst.execute("PRAGMA journal_mode=DELETE")
    finally:
        dst.close()
        src.close()


def _sqlite_revision(path: Path) -> str | None:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError:  # no alembic_version: a database never migrated
        return None
    finally:
        conn.close()
    return str(row[0]) if row else None


def _revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _pg_tool(settings: Settings, name: str) -> str:
    folder = settings.database.pg_bin_dir
    found = str(settings.resolve(folder) / name) if folder else shutil.which(name)
    if not found or not os.access(found, os.X_OK):
        raise BackupError(
            f"Không tìm thấy {name} (cài gói postgresql-client, hoặc đặt [database] pg_bin_dir)", f"{name} not found"
        )
    return found


def _pg_connection(url: str) -> tuple[str, dict[str, str]]:
    """A libpq URI without the password, and the environment carrying it: never on a command line."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    # A new URL rather than .set(password=None), which leaves the password in place.
    bare = URL.create(
        "postgresql",
        username=parsed.username,
        host=parsed.host,
        port=parsed.port,
        database=parsed.database,
        query=parsed.query,
    )
    uri = bare.render_as_string(hide_password=False)
    return uri, env


def _run(command: list[str], env: dict[str, str], url: str) -> None:
    # An argument list, no shell: the URI and paths are arguments, never command text.
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        detail = redact(done.stderr.strip() or done.stdout.strip(), url)
        raise BackupError(f"{Path(command[0]).name} thất bại (mã {done.returncode})", f"failed: {detail}")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if path.is_dir() else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _stored_files(root: Path) -> Iterator[Path]:
    """Regular files under root, relative; the Store's unfinished writes (.tmp-*) are not files yet."""
    if not root.is_dir():
        return
    for folder, dirs, names in os.walk(root):
        dirs.sort()
        for name in sorted(names):
            path = Path(folder, name)
            if not name.startswith(".tmp-") and path.is_file() and not path.is_symlink():
                yield path.relative_to(root)


def _link_or_copy(source: Path, target: Path) -> None:
    """A hard link where possible (a stored file never changes), else a copy made durable."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:  # another filesystem, or links not allowed
        shutil.copyfile(source, target)
        _fsync(target)


def _copy_tree(source: Path, target: Path, files: list[Path], progress: Progress | None) -> int:
    """Copies `files` (relative to source) under target, skipping those already there; returns bytes."""
    total = 0
    folders: set[Path] = set()
    for done, rel in enumerate(files, 1):
        src, dst = source / rel, target / rel
        total += src.stat().st_size
        if not dst.exists():  # content-addressed: the same name is the same content
            _link_or_copy(src, dst)
            folders.add(dst.parent)
        if progress:
            progress(done, len(files), _megabytes(total))
    for folder in sorted(folders):
        _fsync(folder)
    return total


def _write_json_durably(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False, indent=2)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync(path.parent)


def _version() -> str:
    try:
        return metadata.version("toasoan")
    except metadata.PackageNotFoundError:
        return "unknown"


# ------------------------------------------------------------------------------------- backup
def backup(settings: Settings, target: Path, *, progress: Progress | None = None) -> Summary:
    url = settings.database_url
    kind = database_kind(url)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        unfinished = (target / DUMP_NAMES[kind]).exists() and not (target / MANIFEST).exists()
        hint = " (bản sao lưu dở dang, không có manifest.json: xóa thư mục này rồi chạy lại)" if unfinished else ""
        raise BackupError(
            f"Thư mục {target} không trống{hint}: hãy chọn một thư mục mới hoặc trống",
            "the backup folder must be empty",
        )
    storage = settings.storage_dir.resolve()
    if target.resolve().is_relative_to(storage):
        raise BackupError(
            f"Thư mục sao lưu không được nằm trong thư mục lưu trữ {storage}", "the backup cannot go inside the storage"
        )
    dump = target / DUMP_NAMES[kind]
    if kind == "sqlite":
        source = _sqlite_path(url)
        if not source.is_file():
            raise BackupError(f"Không có cơ sở dữ liệu {source}", "no database file")
        target.mkdir(parents=True, exist_ok=True)
        _sqlite_copy(source, dump, dump=True)
        revision = _sqlite_revision(dump)
    else:
        engine = open_database(settings, migrate=False)
        try:
            revision = _revision(engine)
        finally:
            engine.dispose()
        uri, env = _pg_connection(url)
        pg_dump = _pg_tool(settings, "pg_dump")
        target.mkdir(parents=True, exist_ok=True)
        # pg_dump reads every table in one snapshot: consistent while the worker writes.
        _run([pg_dump, "--format=custom", f"--file={dump}", f"--dbname={uri}"], env, url)
    _fsync(dump)
    files = list(_stored_files(settings.storage_dir))
    size = _copy_tree(settings.storage_dir, target / STORAGE, files, progress)
    _write_json_durably(
        target / MANIFEST,
        {
            "format": FORMAT,
            "toasoan_version": _version(),
            "revision": revision,
            "database": kind,
            "database_file": dump.name,
            "database_sha256": _sha256(dump),
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "files": len(files),
            "bytes": size,
        },
    )
    return Summary(target, kind, len(files), size, revision)


# ------------------------------------------------------------------------------------ restore
def read_manifest(source: Path) -> dict[str, Any]:
    path = source / MANIFEST
    if not path.is_file():
        raise BackupError(
            f"{source} không có {MANIFEST}: không phải bản sao lưu, hoặc bản sao lưu chưa hoàn tất",
            "not a backup, or an incomplete one",
        )
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        if manifest["format"] != FORMAT or manifest["database"] not in DUMP_NAMES:
            raise ValueError("unknown format")
        if manifest["database_file"] != DUMP_NAMES[manifest["database"]]:  # a name, never a path
            raise ValueError(f"unexpected database_file {manifest['database_file']!r}")
        missing = {"database_file", "database_sha256", "files", "bytes"} - manifest.keys()
        if missing:
            raise KeyError(", ".join(sorted(missing)))
    except (ValueError, KeyError, TypeError) as exc:
        raise BackupError(f"{path} hỏng hoặc không đọc được", f"unreadable manifest: {exc}") from None
    return manifest


def verify(source: Path, manifest: dict[str, Any]) -> list[Path]:
    """Checks the dump's checksum and the stored files (count, size, content named by its sha256);
    returns the files. Nothing is changed, whatever is found."""
    dump = source / DUMP_NAMES[manifest["database"]]
    if not dump.is_file() or _sha256(dump) != manifest["database_sha256"]:
        raise BackupError(f"Tệp {dump} bị hỏng hoặc thiếu (sai mã kiểm tra sha256)", "damaged database dump")
    files = list(_stored_files(source / STORAGE))
    size = 0
    for rel in files:
        path = source / STORAGE / rel
        size += path.stat().st_size
        if _named_by_content(rel) and _sha256(path) != rel.name.removesuffix(".eml"):
            raise BackupError(f"Tệp {path} bị hỏng (nội dung không khớp tên)", "damaged stored file")
    if (len(files), size) != (manifest["files"], manifest["bytes"]):
        raise BackupError(
            f"Bản sao lưu thiếu tệp: có {len(files)} tệp ({size} byte), manifest ghi {manifest['files']} tệp "
            f"({manifest['bytes']} byte)",
            "stored files missing",
        )
    return files


def _named_by_content(rel: Path) -> bool:
    """The raw mail (<sha>.eml) and originals (<sha>) are named by their own sha256; a rendition
    (<sha>.web) is named by its original's."""
    stem = rel.name.removesuffix(".eml")
    return len(stem) == 64 and all(c in "0123456789abcdef" for c in stem)


def holds_data(engine: Engine, storage: Path) -> bool:
    """Any row in any table but Alembic's, or any stored file: a fresh, migrated database holds none."""
    if next(_stored_files(storage), None) is not None:
        return True
    with engine.connect() as conn:
        # Table names only (no reflection: SQLite's expression indexes are not reflected, with a warning).
        names = [t for t in inspect(conn).get_table_names() if t != "alembic_version"]
        return any(conn.execute(select(text("1")).select_from(table(t)).limit(1)).first() for t in names)


def restore(settings: Settings, source: Path, *, force: bool = False, progress: Progress | None = None) -> Summary:
    url = settings.database_url
    kind = database_kind(url)
    manifest = read_manifest(source)
    if manifest["database"] != kind:
        raise BackupError(
            f"Bản sao lưu là cơ sở dữ liệu {manifest['database']}, cấu hình đang dùng {kind}", "database kinds differ"
        )
    revision = manifest.get("revision")
    if revision is not None:
        try:
            ScriptDirectory.from_config(alembic_config(url)).get_revision(revision)
        except CommandError:
            raise BackupError(
                f"Bản sao lưu từ phiên bản mới hơn (lược đồ {revision}): hãy cập nhật toasoan trước",
                "the backup is from a newer release",
            ) from None
    files = verify(source, manifest)
    dump = source / DUMP_NAMES[kind]
    engine = open_database(settings, migrate=False)
    try:
        running = held_leases(engine)
        if running:
            # Even with --force: a worker writing while the database is replaced would mix the two.
            owners = ", ".join(sorted(set(running.values())))
            raise BackupError(
                f"Worker {owners} đang chạy trên cơ sở dữ liệu này: hãy dừng nó (systemctl stop toasoan-worker) "
                f"rồi khôi phục; nếu nó vừa bị tắt đột ngột, chờ {LEASE_SECONDS} giây",
                "a worker is running on this database: stop it first",
            )
        if holds_data(engine, settings.storage_dir) and not force:
            raise BackupError(
                f"Cơ sở dữ liệu {safe_url(url)} hoặc thư mục lưu trữ {settings.storage_dir} đã có dữ liệu; "
                "dùng --force để ghi đè",
                "the target already holds data (--force overwrites it)",
            )
        # Files first: should the database step fail, extra stored files are harmless, rows
        # naming missing files would not be.
        _copy_tree(source / STORAGE, settings.storage_dir, files, progress)
        if kind == "sqlite":
            engine.dispose()
            _sqlite_copy(dump, _sqlite_path(url), dump=False)
        else:
            # Tables the dump does not have (a newer schema) would stop the migrations: all go first.
            meta = MetaData()
            meta.reflect(engine)
            meta.drop_all(engine)
            engine.dispose()
            uri, env = _pg_connection(url)
            command = [_pg_tool(settings, "pg_restore"), "--clean", "--if-exists", "--no-owner", "--no-privileges"]
            _run([*command, "--single-transaction", "--exit-on-error", f"--dbname={uri}", str(dump)], env, url)
    finally:
        engine.dispose()
    upgraded = open_database(settings)  # a backup from an older release is migrated to this one
    try:
        now = _revision(upgraded)
    finally:
        upgraded.dispose()
    return Summary(source, kind, len(files), int(manifest["bytes"]), now)


# ---------------------------------------------------------------------------------------- CLI
def add_backup_commands(sub: Any) -> None:
    b = sub.add_parser("backup", help="sao lưu cơ sở dữ liệu và các tệp đã lưu vào một thư mục trống")
    b.add_argument("dir", type=Path)
    b.add_argument("--json", action="store_true")
    b.set_defaults(func=cmd_backup)
    r = sub.add_parser("restore", help="khôi phục từ một bản sao lưu (dừng worker trước)")
    r.add_argument("dir", type=Path)
    r.add_argument("--force", action="store_true", help="ghi đè cơ sở dữ liệu đang có dữ liệu")
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=cmd_restore)


def _megabytes(size: int) -> str:
    return f"{size / 2**20:.1f} MB".replace(".", ",")


def _run_command(
    args: argparse.Namespace, label: str, work: Callable[[Progress], Summary], said: Callable[[Summary], str]
) -> int:
    """backup and restore on the command line: the work with a bar of the files copied (on a terminal,
    without --json), then the summary as JSON or as a sentence."""
    from toasoan.cli import EXIT_CONFIG, CliError, _print_json

    try:
        with progress_bar(label, unit="tệp", quiet=args.json) as bar:
            summary = work(bar)
    except BackupError as exc:
        raise CliError(str(exc), EXIT_CONFIG) from None
    if args.json:
        _print_json(summary.as_json())
    else:
        print(said(summary))
    return 0


def cmd_backup(settings: Settings, args: argparse.Namespace) -> int:
    return _run_command(
        args,
        "Sao lưu",
        lambda bar: backup(settings, args.dir, progress=bar),
        lambda s: (
            f"Đã sao lưu cơ sở dữ liệu ({s.database}, lược đồ {s.revision}) và {s.files} tệp "
            f"({_megabytes(s.bytes)}) vào {s.dir}."
        ),
    )


def cmd_restore(settings: Settings, args: argparse.Namespace) -> int:
    return _run_command(
        args,
        "Khôi phục",
        lambda bar: restore(settings, args.dir, force=args.force, progress=bar),
        lambda s: (
            f"Đã khôi phục cơ sở dữ liệu ({s.database}) và {s.files} tệp ({_megabytes(s.bytes)}) "
            f"từ {s.dir}; lược đồ hiện là {s.revision}."
        ),
    )
