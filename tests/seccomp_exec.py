"""Run a command under a seccomp policy the way systemd applies a unit's SystemCallFilter= (an allow
list, other calls failing with EPERM) and RestrictAddressFamilies= (socket() of another family fails
with EAFNOSUPPORT). Used by tests/test_deploy.py to try LibreOffice inside the units' sandbox without
systemd as PID 1.

    python seccomp_exec.py POLICY.json COMMAND [ARG...]

POLICY.json: {"syscalls": [names], "families": [numbers]}. Standard library only (ctypes over
libseccomp, which systemd itself depends on): it may run under another Python than the venv's.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import sys

ALLOW = 0x7FFF0000
SCMP_CMP_EQ = 4
HIGHEST_FAMILY = 46  # AF_MAX on Linux 6.x; families above it do not exist


def _errno(code: int) -> int:
    return 0x00050000 | code


class _ArgCmp(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int), ("a", ctypes.c_uint64), ("b", ctypes.c_uint64)]


def main(argv: list[str]) -> None:
    with open(argv[1], encoding="utf-8") as fh:
        policy = json.load(fh)
    lib = ctypes.CDLL("libseccomp.so.2")
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_rule_add_array.argtypes = [
        ctypes.c_void_p,
        ctypes.c_uint32,
        ctypes.c_int,
        ctypes.c_uint,
        ctypes.c_void_p,
    ]
    lib.seccomp_load.argtypes = [ctypes.c_void_p]

    families = ctypes.c_void_p(lib.seccomp_init(ALLOW))
    socket_nr = lib.seccomp_syscall_resolve_name(b"socket")
    for family in range(HIGHEST_FAMILY):
        if family not in policy["families"]:
            cmp = _ArgCmp(0, SCMP_CMP_EQ, family, 0)
            rc = lib.seccomp_rule_add_array(families, _errno(errno.EAFNOSUPPORT), socket_nr, 1, ctypes.byref(cmp))
            assert rc == 0, family
    calls = ctypes.c_void_p(lib.seccomp_init(_errno(errno.EPERM)))
    for name in policy["syscalls"]:
        nr = lib.seccomp_syscall_resolve_name(name.encode())
        if nr >= 0:  # a name of another architecture
            assert lib.seccomp_rule_add_array(calls, ALLOW, nr, 0, None) == 0, name
    # The families filter first: once the allow list is loaded, seccomp() itself is refused.
    assert lib.seccomp_load(families) == 0
    assert lib.seccomp_load(calls) == 0
    os.execvp(argv[2], argv[2:])  # noqa: S606 -- the test's own fixed command


if __name__ == "__main__":
    main(sys.argv)
