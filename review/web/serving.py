"""What `toasoan serve` gives uvicorn beyond the app: an HTTP protocol that turns Nagle's algorithm off.

With `workers` > 1 uvicorn binds the listening socket itself with `proto` 0, and asyncio then leaves
TCP_NODELAY off on every accepted connection (uvicorn issue #3149): a page's body waited for the
client's delayed ACK, 40 ms on every keep-alive request after the first. One process is not affected
(asyncio binds that socket with IPPROTO_TCP); setting the option here covers both.
"""

from __future__ import annotations

import asyncio
import socket
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:  # the checker sees one of the two; they have the same connection_made
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as _Http
else:
    try:  # what uvicorn's "auto" picks: httptools when installed, else h11
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as _Http
    except ImportError:
        from uvicorn.protocols.http.h11_impl import H11Protocol as _Http

__all__ = ["HttpProtocol", "no_delay"]


def no_delay(transport: asyncio.BaseTransport) -> None:
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class HttpProtocol(_Http):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        no_delay(transport)
        # uvicorn's protocols declare the stream transport a TCP connection gets, narrower than asyncio's
        # BaseProtocol; a cast, not a check, so uvloop's transports pass exactly as before.
        super().connection_made(cast(asyncio.Transport, transport))
