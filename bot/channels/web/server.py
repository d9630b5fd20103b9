"""Serve the desk with uvicorn in the bot's own asyncio loop, on a socket bound at start-up."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import socket
from collections.abc import Generator

import uvicorn
from starlette.types import ASGIApp

log = logging.getLogger(__name__)


class DeskAddressError(Exception):
    """The desk cannot listen where the settings say: the message is one plain line."""


def bind_desk(host: str, port: int) -> socket.socket:
    """Bind the desk's listening socket now, so a port in use stops start-up in one line."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise DeskAddressError(
            f"Setting DESK_HOST is not valid: {host!r} is not an address of this machine"
            f" ({exc.strerror})."
        ) from exc
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise DeskAddressError(
                f"The staff desk cannot listen on {host}:{port}: another program uses that"
                " port. Set DESK_PORT to a free port, or DESK_ENABLED=false."
            ) from exc
        raise DeskAddressError(
            f"The staff desk cannot listen on {host}:{port}: {exc.strerror}. Check DESK_HOST"
            " and DESK_PORT."
        ) from exc
    sock.setblocking(False)
    return sock


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signals to the bot, which stops everything in order."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        """Install no signal handlers (uvicorn's would re-raise SIGTERM after serving)."""
        yield


class DeskServer:
    """The desk's web server, running as a task beside the bot."""

    def __init__(self, app: ASGIApp, sock: socket.socket) -> None:
        """Serve ``app`` on the already bound ``sock``."""
        config = uvicorn.Config(
            app, log_level="warning", access_log=False, lifespan="off", server_header=False
        )
        self.sock = sock
        self._server = _Server(config)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start serving, and return once the server takes connections."""
        self._task = asyncio.create_task(self._server.serve(sockets=[self.sock]), name="desk")
        while not self._server.started:
            if self._task.done():
                self._task.result()
                return
            await asyncio.sleep(0.01)
        host, port = self.sock.getsockname()[:2]
        log.info("staff desk listening on %s:%s", host, port)

    async def stop(self) -> None:
        """Stop taking requests, let those under way finish (briefly), and close the socket."""
        if self._task is not None:
            self._server.should_exit = True
            try:
                async with asyncio.timeout(5):
                    await asyncio.gather(self._task, return_exceptions=True)
            except TimeoutError:
                self._server.force_exit = True
                await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        self.sock.close()
