"""Headless LibreOffice: .doc/.odt/.rtf -> .docx, and EMF/WMF/SVG pictures -> PNG.

Facts this module is built on (research/infra.md §3, re-measured here):
- one `soffice --convert-to` call costs ~0.9 s however many files it converts (20 files: ~1.2 s),
  so several files go into one call when they are at hand (`convert_many`), and conversions that
  several threads ask for at the same moment share one call (`Batcher`, used by ingest.word);
- two soffice runs sharing a UserInstallation profile make one of them exit silently with no
  output, so every run gets a profile of its own; a profile that has been initialised once saves
  ~0.3 s on later runs, so profiles are kept warm in a per-process pool and reused one run at a time;
- soffice is a shell script that starts oosplash, which starts soffice.bin: on a timeout the whole
  process group is killed, not just the first pid.

Every run gets a minimal environment (HOME and TMPDIR inside the profile, no inherited secrets), a
profile with macros disabled, untrusted referer links blocked and links never updated, and an
address-space ceiling. It runs confined by bubblewrap (`bwrap`): no network, no other process in
sight, a read-only view of the system files LibreOffice needs and nothing else (no /home, /work,
/tmp, /var, no settings or database), and only its own profile folder (which holds the job's input
and output) writable. Measured here: the same conversion takes as long confined as not (bench/README.md).
Without a working bwrap, `confinement="required"` (the default) refuses to run LibreOffice
(LibreOfficeMissing: the pipeline quarantines the file as converter_missing, retryable);
"preferred" runs it unconfined with a logged warning. Links and include fields are also removed
from the input before LibreOffice reads it (`ingest.word.unlink`).
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import html
import logging
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ingest.word.sniff import sniff
from ingest.word.unlink import strip_links

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 60.0
# soffice.bin maps ~500 MB of address space before it reads a byte; 2 GB leaves room for big files.
DEFAULT_MEMORY_MB = 2048

DOCX_TARGET = "docx:MS Word 2007 XML"
# Writer has no PNG export for text documents here (no Draw in libreoffice-writer-nogui), but its
# HTML export renders every picture that is not JPEG/PNG/GIF to PNG; EmbedImages inlines them.
_HTML_EMBED_TARGET = "html:HTML (StarWriter):EmbedImages"

_INPUT_EXT = {"doc": "doc", "odt": "odt", "rtf": "rtf", "docx": "docx", "docm": "docm"}

# Seeded into every new profile before its first start (LibreOffice keeps an existing file).
# Writer/Content/Update: Link 2 = never update links (sections, linked pictures) on load; fields
# (INCLUDETEXT...) and charts are not updated either.
_REGISTRY = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" \
xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Common/Security/Scripting">\
<prop oor:name="MacroSecurityLevel" oor:op="fuse"><value>3</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting">\
<prop oor:name="DisableMacrosExecution" oor:op="fuse"><value>true</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting">\
<prop oor:name="BlockUntrustedRefererLinks" oor:op="fuse"><value>true</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Misc">\
<prop oor:name="UseLocking" oor:op="fuse"><value>false</value></prop></item>
<item oor:path="/org.openoffice.Office.Writer/Content/Update">\
<prop oor:name="Link" oor:op="fuse"><value>2</value></prop></item>
<item oor:path="/org.openoffice.Office.Writer/Content/Update">\
<prop oor:name="Field" oor:op="fuse"><value>false</value></prop></item>
<item oor:path="/org.openoffice.Office.Writer/Content/Update">\
<prop oor:name="Chart" oor:op="fuse"><value>false</value></prop></item>
</oor:items>
"""

# The sandbox worker sets this to learn the process group of a running soffice, so that it can
# kill it too when it has to kill the worker (called with the pgid at start, None at the end).
child_hook: Callable[[int | None], None] | None = None


class LibreOfficeError(Exception):
    """LibreOffice could not do the job."""


class LibreOfficeMissing(LibreOfficeError):
    """No soffice executable (disabled in the limits, not installed, or a bogus path)."""


class LibreOfficeTimeout(LibreOfficeError):
    """soffice ran longer than allowed and was killed with its whole process group."""


class LibreOfficeFailed(LibreOfficeError):
    """soffice ran but wrote no output (unreadable input, crash, memory ceiling)."""


def find_soffice(command: str | None) -> str | None:
    """Absolute path of the soffice executable, or None when disabled or not found."""
    if not command:
        return None
    return shutil.which(command)


# ---------------------------------------------------------------------------------------------
# confinement

CONFINEMENT_MODES = ("required", "preferred", "off")
BWRAP_COMMAND = "bwrap"
# Namespaces: no network (only a loopback of its own), no other process, IPC or hostname in
# sight; no capabilities even when the service runs as root. No --new-session: the process group
# must stay the caller's, which kills it as a whole on a timeout.
_BWRAP_OPTIONS = ("--unshare-all", "--die-with-parent", "--cap-drop", "ALL")
# What LibreOffice reads besides /usr: linker, font and its own configuration. Not /etc as a whole
# (passwords, hostname, the service's own settings), not /home, /root, /srv, /tmp, /var or /work.
_SYSTEM_FILES = (
    "/usr",
    "/etc/libreoffice",
    "/etc/fonts",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/alternatives",
    "/etc/localtime",
    "/var/cache/fontconfig",
)
_ROOT_LINKS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")  # merged /usr: symlinks

_bwrap_checked: dict[str, bool] = {}
_bwrap_lock = threading.Lock()
_warned_unconfined = False


def _system_view() -> list[str]:
    """bwrap arguments for a read-only view of the system files."""
    args: list[str] = []
    for path in _ROOT_LINKS:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    for path in _SYSTEM_FILES:
        args += ["--ro-bind-try", path, path]
    return args


def _installation(soffice: str) -> list[str]:
    """LibreOffice's own installation, read-only, when it lives outside /usr (/opt/libreoffice...)."""
    install = Path(os.path.realpath(soffice)).parent.parent  # .../program/soffice -> its installation
    return [] if install.is_relative_to("/usr") else ["--ro-bind", str(install), str(install)]


def _jail(bwrap: str, soffice: str, writable: Path) -> list[str]:
    """The command prefix that confines soffice; `writable` is the only folder it may change."""
    return [
        bwrap,
        *_BWRAP_OPTIONS,
        *_system_view(),
        "--dev",
        "/dev",
        "--proc",
        "/proc",
        "--tmpfs",
        "/tmp",  # noqa: S108 -- a fresh empty tmpfs inside the jail, not the host's /tmp
        *_installation(soffice),  # after the empty /tmp: binds are made in order
        "--bind",
        str(writable),
        str(writable),
    ]


def find_bwrap() -> str | None:
    """Path of a bwrap that can confine here (it needs user namespaces), or None. Checked once."""
    path = shutil.which(BWRAP_COMMAND)
    if path is None:
        return None
    with _bwrap_lock:
        if path not in _bwrap_checked:
            _bwrap_checked[path] = _bwrap_works(path)
            if not _bwrap_checked[path]:
                log.warning("bubblewrap at %s cannot confine here (no user namespaces?)", path)
        return path if _bwrap_checked[path] else None


def _bwrap_works(bwrap: str) -> bool:
    with tempfile.TemporaryDirectory(prefix="toasoan-bwrap-") as tmp:
        probe = [*_jail(bwrap, "/usr/bin/true", Path(tmp)), "/usr/bin/true"]
        try:
            done = subprocess.run(probe, stdin=subprocess.DEVNULL, capture_output=True, timeout=10, check=False)  # noqa: S603 -- fixed argv, no shell
        except (OSError, subprocess.TimeoutExpired):
            return False
    return done.returncode == 0


def check_confinement(confinement: str) -> str | None:
    """The bwrap to confine soffice with, None to run unconfined; LibreOfficeMissing when required and absent."""
    global _warned_unconfined
    if confinement not in CONFINEMENT_MODES:
        raise ValueError(f"confinement must be one of {CONFINEMENT_MODES}, not {confinement!r}")
    if confinement == "off":
        return None
    bwrap = find_bwrap()
    if bwrap is not None:
        return bwrap
    if confinement == "required":
        raise LibreOfficeMissing(
            "không chạy LibreOffice khi thiếu hộp cách ly bubblewrap (bwrap) / LibreOffice is not run"
            " unconfined: bubblewrap (bwrap) is missing or cannot create namespaces here"
        )
    if not _warned_unconfined:
        _warned_unconfined = True
        log.warning("LibreOffice runs UNCONFINED: bubblewrap (bwrap) is missing or cannot create namespaces")
    return None


# ---------------------------------------------------------------------------------------------
# warm profiles


@dataclass
class Profile:
    """A LibreOffice user installation plus the HOME and TMPDIR its runs use."""

    root: Path

    @property
    def url(self) -> str:
        return (self.root / "lo").as_uri()

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"

    @classmethod
    def create(cls, parent: Path) -> Profile:
        root = Path(tempfile.mkdtemp(prefix="profile-", dir=parent))
        for sub in ("lo/user", "home", "tmp"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        (root / "lo" / "user" / "registrymodifications.xcu").write_text(_REGISTRY, encoding="utf-8")
        return cls(root)


class ProfilePool:
    """Warm profiles of this process, each used by one soffice run at a time.

    Profiles that took part in a timeout or a crash are thrown away (a killed soffice can leave a
    lock or half-written registry behind); good ones go back to the pool.
    """

    def __init__(self, parent: Path | None = None) -> None:
        self._lock = threading.Lock()
        self._free: list[Profile] = []
        self._parent = parent
        self._pid = os.getpid()

    def _parent_dir(self) -> Path:
        if self._parent is None:
            base = os.environ.get("TOASOAN_WORD_TMP") or None
            self._parent = Path(tempfile.mkdtemp(prefix="toasoan-lo-", dir=base))
            atexit.register(shutil.rmtree, self._parent, True)
        return self._parent

    @contextlib.contextmanager
    def acquire(self) -> Iterator[Profile]:
        with self._lock:
            if self._pid != os.getpid():  # inherited through fork: never share the parent's dirs
                self._free, self._parent, self._pid = [], None, os.getpid()
            profile = self._free.pop() if self._free else None
            parent = self._parent_dir()
        if profile is None:
            profile = Profile.create(parent)
        ok = False
        try:
            yield profile
            ok = True
        finally:
            if ok:
                with self._lock:
                    self._free.append(profile)
            else:
                shutil.rmtree(profile.root, ignore_errors=True)

    def clear(self) -> None:
        with self._lock:
            free, self._free = self._free, []
        for profile in free:
            shutil.rmtree(profile.root, ignore_errors=True)


_POOL = ProfilePool()


# ---------------------------------------------------------------------------------------------
# running soffice


def _run(
    soffice: str,
    args: Sequence[str],
    profile: Profile,
    *,
    timeout: float,
    memory_mb: int | None,
    cwd: Path,
    bwrap: str | None,
) -> subprocess.CompletedProcess[bytes]:
    cmd = [
        soffice,
        f"-env:UserInstallation={profile.url}",
        "--headless",
        "--invisible",
        "--nologo",
        "--nodefault",
        "--norestore",
        "--nolockcheck",
        *args,
    ]
    if memory_mb:
        # The ceiling is set by a shell in the child: preexec_fn is unsafe in threaded callers.
        cmd = ["/bin/sh", "-c", 'ulimit -v "$1" && shift && exec "$@"', "sh", str(memory_mb * 1024), *cmd]
    if bwrap is not None:
        cmd = [*_jail(bwrap, soffice, profile.root), "--chdir", str(cwd), *cmd]
    env = {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "HOME": str(profile.home),
        "TMPDIR": str(profile.tmp),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "SAL_USE_VCLPLUGIN": "svp",
    }
    proc = subprocess.Popen(  # noqa: S603 -- argv built by us, no shell; file names are ours, not the sender's
        cmd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=cwd,
        env=env,
        start_new_session=True,
    )
    hook = child_hook
    if hook is not None:
        hook(proc.pid)
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        _kill_group(proc.pid)
        proc.communicate()
        raise LibreOfficeTimeout(f"LibreOffice timeout after {timeout:g} s") from exc
    except BaseException:
        _kill_group(proc.pid)
        proc.communicate()
        raise
    finally:
        if hook is not None:
            hook(None)
    # oosplash may leave soffice.bin behind when it dies first: the group goes in every case.
    _kill_group(proc.pid)
    return subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr)


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _input_bytes(item: bytes | str | os.PathLike[str]) -> bytes:
    return item if isinstance(item, bytes | bytearray) else Path(item).read_bytes()


def convert_many(
    inputs: Sequence[bytes | str | os.PathLike[str]],
    target: str = "docx",
    *,
    soffice: str | None = "soffice",
    timeout: float = DEFAULT_TIMEOUT,
    memory_mb: int | None = DEFAULT_MEMORY_MB,
    pool: ProfilePool | None = None,
    confinement: str = "required",
) -> list[bytes | None]:
    """Convert several files in one soffice call; None where LibreOffice wrote no output.

    `inputs` are bytes or paths (read, then copied under unique names into a private directory:
    soffice names its output after the input's stem and writes lock files beside the input).
    `target` is a --convert-to value ("docx", "doc:MS Word 97", "odt", "pdf", ...). Raises
    LibreOfficeMissing without soffice (or without its confinement when `confinement` is
    "required") and LibreOfficeTimeout when the whole call timed out.
    """
    path = find_soffice(soffice)
    if path is None:
        raise LibreOfficeMissing(f"LibreOffice not found ({soffice!r})")
    bwrap = check_confinement(confinement)
    files = [_input_bytes(item) for item in inputs]
    results, timed_out = _convert_batch(
        [(data, _INPUT_EXT.get(sniff(data), "bin")) for data in files],
        target,
        soffice=path,
        timeout=timeout,
        memory_mb=memory_mb,
        pool=pool or _POOL,
        bwrap=bwrap,
    )
    if timed_out is not None:
        raise timed_out
    return results


BatchResult = tuple[list[bytes | None], LibreOfficeTimeout | None]
# Runs one batch in another process: (inputs, target, soffice, timeout, memory_mb, bwrap) -> result.
BatchRunner = Callable[[list[tuple[bytes, str]], str, str, float, int | None, str | None], BatchResult]


def _convert_batch(
    inputs: Sequence[tuple[bytes, str]],
    target: str,
    *,
    soffice: str,
    timeout: float,
    memory_mb: int | None,
    pool: ProfilePool,
    bwrap: str | None,
    elsewhere: BatchRunner | None = None,
) -> BatchResult:
    """One soffice call over (bytes, extension) inputs; the extension picks LibreOffice's filter.

    Links and include fields are stripped from the inputs first; an input that cannot be read for
    that is not given to LibreOffice (None, like a file LibreOffice could not read). On a timeout,
    the outputs written before the kill are still returned. With `elsewhere`, the call is made by
    that runner (a worker process) instead of this process.
    """
    if elsewhere is not None:
        return elsewhere(list(inputs), target, soffice, timeout, memory_mb, bwrap)
    results: list[bytes | None] = [None] * len(inputs)
    if not inputs:
        return results, None
    if target == "docx":
        target = DOCX_TARGET
    out_ext = target.split(":", 1)[0]
    try:
        with pool.acquire() as profile:  # a profile that saw a timeout is discarded
            work = Path(tempfile.mkdtemp(prefix="job-", dir=profile.tmp))
            names = [f"f{i:04d}.{ext}" for i, (_, ext) in enumerate(inputs)]
            given: list[str] = []
            try:
                for name, (data, ext) in zip(names, inputs, strict=True):
                    clean = strip_links(data, ext)
                    if clean is not None:
                        (work / name).write_bytes(clean)
                        given.append(name)
                out = work / "out"
                try:
                    if given:
                        _run(
                            soffice,
                            ["--convert-to", target, "--outdir", str(out), *given],
                            profile,
                            timeout=timeout,
                            memory_mb=memory_mb,
                            cwd=work,
                            bwrap=bwrap,
                        )
                finally:
                    for i, name in enumerate(names):
                        produced = out / f"{Path(name).stem}.{out_ext}"
                        if produced.is_file():
                            results[i] = produced.read_bytes()
            finally:
                shutil.rmtree(work, ignore_errors=True)
    except LibreOfficeTimeout as exc:
        return results, exc
    return results, None


def convert_batch_here(
    inputs: list[tuple[bytes, str]], target: str, soffice: str, timeout: float, memory_mb: int | None, bwrap: str | None
) -> BatchResult:
    """One batch with this process's warm profiles: what a worker process runs for a BatchRunner."""
    return _convert_batch(
        inputs, target, soffice=soffice, timeout=timeout, memory_mb=memory_mb, pool=_POOL, bwrap=bwrap
    )


def convert(
    data: bytes,
    target: str = "docx",
    *,
    soffice: str | None = "soffice",
    timeout: float = DEFAULT_TIMEOUT,
    memory_mb: int | None = DEFAULT_MEMORY_MB,
    pool: ProfilePool | None = None,
    confinement: str = "required",
) -> bytes:
    """Convert one file; raises LibreOfficeFailed when LibreOffice could not read it."""
    (result,) = convert_many(
        [data], target, soffice=soffice, timeout=timeout, memory_mb=memory_mb, pool=pool, confinement=confinement
    )
    if result is None:
        raise LibreOfficeFailed("LibreOffice could not read the file")
    return result


# ---------------------------------------------------------------------------------------------
# batching concurrent requests


@dataclass
class _Request:
    data: bytes
    ext: str
    target: str
    deadline: float
    done: threading.Event = field(default_factory=threading.Event)
    result: bytes | None = None
    error: LibreOfficeError | None = None

    def finish(self, result: bytes | None, error: LibreOfficeError | None = None) -> None:
        self.result, self.error = result, error
        self.done.set()


class Batcher:
    """Gathers conversions requested at the same time by several threads into one soffice call.

    soffice costs ~0.9 s to start and ~0.02 s per extra file, so twenty concurrent .doc files
    take ~1.3 s instead of ~18 s. Safety: LibreOffice converts a batch in order, so when a batch
    fails (a file that crashes or hangs soffice), the outputs before the failure are kept, the first
    missing file is retried alone (it is the likely culprit), and the rest are queued again. A batch
    gets half of its requests' smallest remaining time, so innocent files keep time for a retry.
    """

    def __init__(
        self,
        *,
        soffice: str | None = "soffice",
        memory_mb: int | None = DEFAULT_MEMORY_MB,
        window: float = 0.1,
        max_batch: int = 20,
        runners: int = 2,
        pool: ProfilePool | None = None,
        confinement: str = "required",
        elsewhere: BatchRunner | None = None,
    ) -> None:
        self.soffice = soffice
        self.memory_mb = memory_mb
        self.confinement = confinement
        self.elsewhere = elsewhere  # run each batch in another process (a worker), not this one
        self.window = window
        self.max_batch = max_batch
        self.runners = runners
        self._pool = pool or _POOL
        self._cond = threading.Condition()
        self._queue: list[_Request] = []
        self._threads: list[threading.Thread] = []
        self._pid = os.getpid()

    def convert(
        self, data: bytes, target: str = "docx", *, timeout: float = DEFAULT_TIMEOUT, kind: str | None = None
    ) -> bytes:
        """Like `convert`, sharing a soffice call with concurrent requests of the same target.

        `kind` is what `sniff` already said about `data` ("doc", "odt", "rtf"): given, the bytes are
        not parsed again in this process.
        """
        if find_soffice(self.soffice) is None:
            raise LibreOfficeMissing(f"LibreOffice not found ({self.soffice!r})")
        check_confinement(self.confinement)
        ext = _INPUT_EXT.get(kind or sniff(data), "bin")
        request = _Request(data, ext, target, time.monotonic() + timeout)
        with self._cond:
            if self._pid != os.getpid():  # threads do not survive fork
                self._queue, self._threads, self._pid = [], [], os.getpid()
            self._queue.append(request)
            self._threads = [t for t in self._threads if t.is_alive()]
            if len(self._threads) < self.runners:
                thread = threading.Thread(target=self._runner, name="libreoffice-batcher", daemon=True)
                self._threads.append(thread)
                thread.start()
            self._cond.notify()
        # the runner enforces the deadline; the margin covers killing and collecting a batch
        if not request.done.wait(timeout + 10):
            raise LibreOfficeTimeout(f"LibreOffice timeout after {timeout:g} s")
        if request.error is not None:
            raise request.error
        if request.result is None:
            raise LibreOfficeFailed("LibreOffice could not read the file")
        return request.result

    def _runner(self) -> None:
        while True:
            with self._cond:
                while not self._queue:
                    if not self._cond.wait(timeout=60) and not self._queue:
                        self._threads = [t for t in self._threads if t is not threading.current_thread()]
                        return  # idle for a minute: let the thread go
                batch = [self._queue.pop(0)]
                gather_until = time.monotonic() + self.window
                while len(batch) < self.max_batch:
                    same = [r for r in self._queue if r.target == batch[0].target]
                    for request in same[: self.max_batch - len(batch)]:
                        self._queue.remove(request)
                        batch.append(request)
                    remaining = gather_until - time.monotonic()
                    if len(batch) >= self.max_batch or remaining <= 0:
                        break
                    self._cond.wait(remaining)
            try:
                self._run(batch)
            except BaseException as exc:  # never leave a caller waiting
                error = exc if isinstance(exc, LibreOfficeError) else LibreOfficeFailed(str(exc))
                for request in batch:
                    if not request.done.is_set():
                        request.finish(None, error)

    def _run(self, batch: list[_Request]) -> None:
        now = time.monotonic()
        live = [r for r in batch if r.deadline > now]
        for request in batch:
            if request.deadline <= now:
                request.finish(None, LibreOfficeTimeout("LibreOffice timeout before the conversion started"))
        if not live:
            return
        soffice = find_soffice(self.soffice)
        if soffice is None:
            for request in live:
                request.finish(None, LibreOfficeMissing(f"LibreOffice not found ({self.soffice!r})"))
            return
        bwrap = check_confinement(self.confinement)
        budget = min(r.deadline for r in live) - now
        if len(live) > 1:
            budget /= 2
        results, timed_out = _convert_batch(
            [(r.data, r.ext) for r in live],
            live[0].target,
            soffice=soffice,
            timeout=budget,
            memory_mb=self.memory_mb,
            pool=self._pool,
            bwrap=bwrap,
            elsewhere=self.elsewhere,
        )
        missing = [r for r, out in zip(live, results, strict=True) if out is None]
        for request, out in zip(live, results, strict=True):
            if out is not None:
                request.finish(out)
        if not missing:
            return
        if len(live) == 1:
            missing[0].finish(None, timed_out)  # None error: LibreOffice could not read it
            return
        culprit, rest = missing[0], missing[1:]
        if rest:
            with self._cond:
                self._queue[:0] = rest
                self._cond.notify()
        self._run([culprit])


_BATCHERS: dict[tuple[str | None, int | None, str, BatchRunner | None], Batcher] = {}
_BATCHERS_LOCK = threading.Lock()


def batcher(
    soffice: str | None = "soffice",
    memory_mb: int | None = DEFAULT_MEMORY_MB,
    confinement: str = "required",
    elsewhere: BatchRunner | None = None,
) -> Batcher:
    """The process-wide batcher for this soffice command, memory ceiling, confinement and runner."""
    with _BATCHERS_LOCK:
        key = (soffice, memory_mb, confinement, elsewhere)
        if key not in _BATCHERS:
            _BATCHERS[key] = Batcher(soffice=soffice, memory_mb=memory_mb, confinement=confinement, elsewhere=elsewhere)
        return _BATCHERS[key]


# ---------------------------------------------------------------------------------------------
# vector pictures -> PNG

_FODT_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
    ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
    ' xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"'
    ' xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0"'
    ' office:version="1.2" office:mimetype="application/vnd.oasis.opendocument.text">'
    "<office:body><office:text>"
)
_FODT_TAIL = "</office:text></office:body></office:document>\n"
_IMG_TAG = re.compile(rb"<img\b[^>]*>", re.IGNORECASE)
_ATTR = re.compile(rb'\b(src|name)="([^"]*)"', re.IGNORECASE)
_DATA_URI = re.compile(r"data:image/[a-z+.-]+;base64,(.*)", re.IGNORECASE | re.DOTALL)


def vector_images_to_png(
    images: Sequence[bytes],
    *,
    soffice: str | None = "soffice",
    timeout: float = DEFAULT_TIMEOUT,
    memory_mb: int | None = DEFAULT_MEMORY_MB,
    pool: ProfilePool | None = None,
    confinement: str = "required",
) -> list[bytes | None]:
    """Render EMF/WMF/SVG pictures to PNG in one soffice call; None for a picture it could not read.

    The pictures go into a flat ODT, one named frame each, which Writer exports as HTML with
    embedded images: Writer renders every picture that is not already web-ready to PNG at the
    picture's own preferred size.
    """
    if not images:
        return []
    frames = [
        f'<text:p><draw:frame draw:name="img{i}" text:anchor-type="as-char"><draw:image>'
        f"<office:binary-data>{base64.b64encode(data).decode('ascii')}</office:binary-data>"
        "</draw:image></draw:frame></text:p>"
        for i, data in enumerate(images)
    ]
    fodt = (_FODT_HEAD + "".join(frames) + _FODT_TAIL).encode("utf-8")
    path = find_soffice(soffice)
    if path is None:
        raise LibreOfficeMissing(f"LibreOffice not found ({soffice!r})")
    bwrap = check_confinement(confinement)
    with (pool or _POOL).acquire() as profile:
        work = Path(tempfile.mkdtemp(prefix="img-", dir=profile.tmp))
        try:
            (work / "pictures.fodt").write_bytes(fodt)
            _run(
                path,
                ["--convert-to", _HTML_EMBED_TARGET, "--outdir", str(work / "out"), "pictures.fodt"],
                profile,
                timeout=timeout,
                memory_mb=memory_mb,
                cwd=work,
                bwrap=bwrap,
            )
            produced = work / "out" / "pictures.html"
            page = produced.read_bytes() if produced.is_file() else b""
        finally:
            shutil.rmtree(work, ignore_errors=True)
    found: dict[str, bytes] = {}
    for tag in _IMG_TAG.findall(page):
        attrs = {k.decode().lower(): html.unescape(v.decode("ascii", "replace")) for k, v in _ATTR.findall(tag)}
        match = _DATA_URI.match(attrs.get("src", ""))
        if match and attrs.get("name"):
            with contextlib.suppress(ValueError):
                found[attrs["name"]] = base64.b64decode(match.group(1))
    return [found.get(f"img{i}") for i in range(len(images))]
