"""Run a conversion in a worker process with a wall-clock timeout and an address-space ceiling.

A hostile document must not stall or exhaust the ingest worker, so conversions run in child
processes. They are persistent and reused: starting Python and importing lxml, Pillow and
python-docx costs ~0.3 s, far more than converting a one-page article. A worker that times out,
hits its memory ceiling or dies is killed (with any LibreOffice it started) and replaced; the pool
itself never becomes unusable.

Protocol: length-prefixed pickles over the worker's stdin/stdout. The parent unpickles only an
allow-list of classes, because the worker is the process that touched hostile bytes.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import io
import os
import pickle
import resource
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, BinaryIO

from ingest.word import libreoffice

_HEADER = struct.Struct(">Q")
_PACKAGE_ROOT = Path(__file__).resolve().parents[2]
# Environment a worker inherits: enough for Python and locales, none of the parent's secrets.
_ENV_KEEP = ("PATH", "LANG", "TZ", "HOME", "TMPDIR")
_ENV_KEEP_PREFIXES = ("LC_", "PYTHON")

# Classes a worker's reply may contain besides plain containers and scalars.
_SAFE_BUILTINS = frozenset(
    {
        "Exception",
        "RuntimeError",
        "ValueError",
        "TypeError",
        "KeyError",
        "OSError",
        "MemoryError",
        "RecursionError",
        "TimeoutError",
        "frozenset",
        "set",
        "bytearray",
        "complex",
        "slice",
    }
)


class SandboxError(Exception):
    """The worker could not deliver a result."""


class WorkerTimeout(SandboxError):
    """The call ran past its wall-clock timeout; the worker was killed."""


class WorkerMemoryError(SandboxError):
    """The call hit the worker's address-space ceiling; the worker was retired."""


class WorkerCrashed(SandboxError):
    """The worker died during the call (a signal, an abort in C code, or an unreadable reply)."""


@dataclass(frozen=True)
class CallStats:
    """What a call cost: the worker's lifetime peak RSS, and its children's (LibreOffice)."""

    peak_rss_kb: int
    children_peak_rss_kb: int
    seconds: float


# ---------------------------------------------------------------------------------------------
# framing


def _send(stream: IO[bytes], obj: Any) -> None:
    payload = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(payload)) + payload)
    stream.flush()


def _read_exact_blocking(stream: BinaryIO, n: int) -> bytes | None:
    buf = bytearray()
    while len(buf) < n:
        chunk = stream.read(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


def _read_exact(fd: int, n: int, deadline: float) -> bytes:
    """n bytes from fd before the deadline; TimeoutError / EOFError otherwise."""
    poller = select.poll()  # not select.select: a busy service has descriptors above 1024
    poller.register(fd, select.POLLIN)
    buf = bytearray()
    while len(buf) < n:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        if not poller.poll(max(1, int(remaining * 1000))):
            raise TimeoutError
        chunk = os.read(fd, min(n - len(buf), 1 << 20))
        if not chunk:
            raise EOFError
        buf += chunk
    return bytes(buf)


class _SafeUnpickler(pickle.Unpickler):
    def __init__(self, data: bytes, allowed: frozenset[tuple[str, str]]) -> None:
        super().__init__(io.BytesIO(data))
        self._allowed = allowed

    def find_class(self, module: str, name: str) -> Any:
        if (module == "builtins" and name in _SAFE_BUILTINS) or (module, name) in self._allowed:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"worker reply holds a forbidden class {module}.{name}")


# ---------------------------------------------------------------------------------------------
# parent side


@dataclass
class _Worker:
    proc: subprocess.Popen[bytes]
    tmp: Path
    tasks: int = 0
    child_pgid: int | None = None


class WorkerPool:
    """A fixed-size pool of persistent worker processes, safe to call from many threads.

    `call("package.module:function", *args, timeout=..., memory_mb=..., **kwargs)` runs the
    function in an idle worker (waiting for one if all are busy) and returns its result or
    re-raises its exception. Workers start lazily and are replaced after a failure and after
    `max_tasks` calls (to shed fragmentation).
    """

    def __init__(
        self,
        size: int | None = None,
        *,
        allowed_classes: Iterable[tuple[str, str]] = (),
        preload: Iterable[str] = (),
        max_tasks: int = 500,
    ) -> None:
        self.size = max(1, size or os.cpu_count() or 2)
        self.max_tasks = max_tasks
        self._allowed = frozenset(allowed_classes)
        self._preload = ",".join(preload)
        self._cond = threading.Condition()
        self._idle: list[_Worker] = []
        self._live = 0
        self._closed = False
        self._pid = os.getpid()
        self._tmp = Path(tempfile.mkdtemp(prefix="toasoan-sandbox-"))
        atexit.register(self.shutdown)

    # -- public

    def call(self, target: str, *args: Any, timeout: float, memory_mb: int, **kwargs: Any) -> Any:
        return self.call_with_stats(target, *args, timeout=timeout, memory_mb=memory_mb, **kwargs)[0]

    def call_with_stats(
        self, target: str, *args: Any, timeout: float, memory_mb: int, **kwargs: Any
    ) -> tuple[Any, CallStats]:
        request = (target, args, kwargs, memory_mb)
        worker = self._acquire()
        if not self._try_send(worker, request):
            # It died while idle (killed from outside): the task never started, so retry once.
            self._discard(worker)
            worker = self._acquire()
            if not self._try_send(worker, request):
                self._discard(worker)
                raise WorkerCrashed("worker died before the call started")
        try:
            kind, value, stats = self._await_reply(worker, timeout)
        except BaseException:
            self._discard(worker)  # timed out, crashed, or the caller was interrupted
            raise
        if kind == "memory":
            self._discard(worker, graceful=True)
            raise WorkerMemoryError(value)
        self._release(worker)
        if kind == "ok":
            return value, stats
        if isinstance(value, BaseException):
            raise value
        raise SandboxError(str(value))

    def start(self) -> None:
        """Start every worker now (they otherwise start on first use)."""
        workers = [self._acquire() for _ in range(self.size)]
        for worker in workers:
            self._release(worker)

    def shutdown(self) -> None:
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            self._live -= len(idle)
            self._cond.notify_all()
        for worker in idle:
            self._stop(worker, graceful=True)
        shutil.rmtree(self._tmp, ignore_errors=True)

    @property
    def usable(self) -> bool:
        """False once shut down, or in a forked child (the workers belong to the parent)."""
        return not self._closed and self._pid == os.getpid()

    def worker_pids(self) -> list[int]:
        with self._cond:
            return [w.proc.pid for w in self._idle]

    # -- workers

    def _acquire(self) -> _Worker:
        with self._cond:
            while True:
                if self._closed:
                    raise SandboxError("worker pool is shut down")
                if self._idle:
                    return self._idle.pop()
                if self._live < self.size:
                    self._live += 1
                    break
                self._cond.wait()
        try:
            return self._spawn()
        except BaseException:
            with self._cond:
                self._live -= 1
                self._cond.notify()
            raise

    def _release(self, worker: _Worker) -> None:
        with self._cond:
            if not self._closed and worker.tasks < self.max_tasks and worker.proc.poll() is None:
                self._idle.append(worker)
                self._cond.notify()
                return
        self._discard(worker, graceful=True)

    def _discard(self, worker: _Worker, *, graceful: bool = False) -> None:
        self._stop(worker, graceful=graceful)
        with self._cond:
            self._live -= 1
            self._cond.notify()

    def _spawn(self) -> _Worker:
        tmp = Path(tempfile.mkdtemp(prefix="w-", dir=self._tmp))
        env = {k: v for k, v in os.environ.items() if k in _ENV_KEEP or k.startswith(_ENV_KEEP_PREFIXES)}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_PACKAGE_ROOT), env.get("PYTHONPATH")]))
        env["TOASOAN_WORD_TMP"] = str(tmp)
        env["TOASOAN_SANDBOX_PRELOAD"] = self._preload
        proc = subprocess.Popen(
            [sys.executable, "-c", "from ingest.word.sandbox import worker_main; worker_main()"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=tmp,
            env=env,
            start_new_session=True,  # its own process group: killed as a whole
        )
        return _Worker(proc, tmp)

    def _stop(self, worker: _Worker, *, graceful: bool) -> None:
        proc = worker.proc
        if graceful and proc.poll() is None:
            with contextlib.suppress(OSError):
                assert proc.stdin is not None  # started with stdin=PIPE
                proc.stdin.close()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=2)
        # A reaped worker's pid may already belong to someone else: kill only what is still ours.
        groups = [worker.child_pgid] + ([proc.pid] if proc.returncode is None else [])
        for pgid in groups:
            if pgid:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(pgid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)
        for stream in (proc.stdin, proc.stdout):
            with contextlib.suppress(OSError):
                assert stream is not None  # both are pipes
                stream.close()
        shutil.rmtree(worker.tmp, ignore_errors=True)

    def _try_send(self, worker: _Worker, request: tuple[Any, ...]) -> bool:
        if worker.proc.poll() is not None:
            return False
        try:
            assert worker.proc.stdin is not None  # started with stdin=PIPE
            _send(worker.proc.stdin, request)
        except (BrokenPipeError, ConnectionResetError, ValueError):
            return False
        return True

    def _await_reply(self, worker: _Worker, timeout: float) -> tuple[str, Any, CallStats]:
        started = time.monotonic()
        deadline = started + timeout
        assert worker.proc.stdout is not None  # started with stdout=PIPE
        fd = worker.proc.stdout.fileno()
        while True:
            try:
                (size,) = _HEADER.unpack(_read_exact(fd, _HEADER.size, deadline))
                payload = _read_exact(fd, size, deadline)
            except TimeoutError:
                raise WorkerTimeout(f"timeout after {timeout:g} s") from None
            except EOFError:
                code = worker.proc.wait(timeout=5)
                how = f"signal {-code}" if code < 0 else f"exit code {code}"
                raise WorkerCrashed(f"worker died ({how})") from None
            try:
                message = _SafeUnpickler(payload, self._allowed).load()
            except Exception as exc:
                raise WorkerCrashed(f"unreadable reply from worker: {exc}") from None
            if message[0] != "child":
                break
            worker.child_pgid = message[1]  # LibreOffice started (pgid) or ended (None)
        worker.tasks += 1
        kind, value, rss, child_rss = message
        return kind, value, CallStats(rss, child_rss, time.monotonic() - started)


# ---------------------------------------------------------------------------------------------
# worker side


def _resolve(target: str) -> Callable[..., Any]:
    module, _, name = target.partition(":")
    obj: Any = importlib.import_module(module)
    for part in name.split("."):
        obj = getattr(obj, part)
    function: Callable[..., Any] = obj
    return function


def _set_memory_ceiling(memory_mb: int | None) -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    soft = hard if not memory_mb else memory_mb * 2**20
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_AS, (soft, hard))  # soft only: LibreOffice sets its own


def _peaks() -> tuple[int, int]:
    # VmHWM for the worker itself: ru_maxrss survives fork+exec and would report the size of
    # whichever process started the worker.
    try:
        status = Path("/proc/self/status").read_text()
        own = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")))
    except (OSError, StopIteration, ValueError):
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return own, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss


def _caused_by_memory_error(exc: BaseException | None) -> bool:
    seen = 0
    while exc is not None and seen < 20:
        if isinstance(exc, MemoryError):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def _portable_exception(exc: BaseException) -> BaseException:
    try:
        pickle.loads(pickle.dumps(exc))  # noqa: S301 -- our own exception, round-tripped to test it can cross the pipe
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc


def worker_main() -> None:
    """Serve requests on stdin until EOF. Stray prints must not corrupt the reply channel."""
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    inp = sys.stdin.buffer
    for module in os.environ.get("TOASOAN_SANDBOX_PRELOAD", "").split(","):
        if module:
            with contextlib.suppress(ImportError):
                importlib.import_module(module)
    libreoffice.child_hook = lambda pgid: _send(out, ("child", pgid))
    while True:
        header = _read_exact_blocking(inp, _HEADER.size)
        if header is None:
            return
        (size,) = _HEADER.unpack(header)
        payload = _read_exact_blocking(inp, size)
        if payload is None:
            return
        target, args, kwargs, memory_mb = pickle.loads(payload)  # noqa: S301 -- from our parent process over a private pipe, never from a file or sender
        retire = False
        try:
            function = _resolve(target)
            _set_memory_ceiling(memory_mb)
            try:
                reply: tuple[Any, ...] = ("ok", function(*args, **kwargs))
            finally:
                _set_memory_ceiling(None)
        except BaseException as exc:
            _set_memory_ceiling(None)
            if _caused_by_memory_error(exc):
                # Even when the callee wrapped it, a process that hit its ceiling is not reused.
                reply, retire = ("memory", f"out of memory ({memory_mb} MB address space)"), True
            else:
                reply = ("error", _portable_exception(exc))
        try:
            _send(out, (*reply, *_peaks()))
        except BrokenPipeError:  # the parent is gone (killed): nobody to answer, and nothing to report
            return
        except Exception as exc:  # an unpicklable result: say so rather than die
            _send(out, ("error", RuntimeError(f"unpicklable result: {exc}"), *_peaks()))
        if retire:
            return
