"""One thread that accepts connections for every lab listener of the process, and stops idle ones.

A thread per listener polling for shutdown (socketserver's serve_forever) costs a lab of 1,000 hosts 2,000 threads
and both cores while idle; here a selector waits on every listening socket at once and wakes only for a
connection (or to check idleness); each connection is served in a thread of its own (ThreadingMixIn) or, for
hosts that never block, by the loop thread (lab/wsman/loop.py).
"""

from __future__ import annotations

import contextlib
import logging
import selectors
import socket
import threading
import time
from typing import Protocol

_log = logging.getLogger(__name__)


class Listener(Protocol):
    """What the acceptor needs of a listener (WsmanServer)."""

    def accept_one(self) -> None: ...

    def idle_check_interval(self) -> float | None: ...

    def stop_if_idle(self) -> None: ...


class Acceptor:
    """The process's acceptor: listeners register their listening socket, and are called back per connection."""

    def __init__(self) -> None:
        self._selector = selectors.DefaultSelector()
        self._listeners: dict[int, Listener] = {}
        self._lock = threading.Lock()
        self._changed = True  # listeners were added or removed since the idle-check interval was computed
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._selector.register(self._wake_r, selectors.EVENT_READ, None)
        self._thread = threading.Thread(target=self._loop, name="wsman-acceptor", daemon=True)
        self._thread.start()

    def add(self, sock: socket.socket, listener: Listener) -> None:
        with self._lock:
            self._listeners[sock.fileno()] = listener
            self._selector.register(sock, selectors.EVENT_READ, listener)
            self._changed = True
        self._wake()

    def remove(self, sock: socket.socket) -> None:
        with self._lock, contextlib.suppress(KeyError, ValueError, OSError):
            self._changed = True
            self._listeners.pop(sock.fileno(), None)
            self._selector.unregister(sock)
        self._wake()

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            self._wake_w.send(b"\0")

    def _timeout(self) -> float | None:
        with self._lock:
            self._changed = False
            intervals = [i for i in (lst.idle_check_interval() for lst in self._listeners.values()) if i]
        return min(intervals) if intervals else None

    def _loop(self) -> None:
        last_check = time.monotonic()
        timeout = self._timeout()
        while True:
            # Computed again after listeners come or go and after each idle check, not on every connection: at
            # 1,000 listeners asking each of them per accepted connection was most of the acceptor's CPU.
            if self._changed:
                timeout = self._timeout()
            for key, _ in self._selector.select(timeout):
                if key.data is None:
                    with contextlib.suppress(OSError):
                        self._wake_r.recv(4096)
                    continue
                try:
                    key.data.accept_one()
                except Exception:  # noqa: BLE001 - one listener's failure must not stop the others' accepting
                    _log.debug("accepting a connection failed", exc_info=True)
            if timeout is not None and time.monotonic() - last_check >= timeout:
                last_check = time.monotonic()
                with self._lock:
                    listeners = list(self._listeners.values())
                for listener in listeners:
                    listener.stop_if_idle()
                timeout = self._timeout()


_ACCEPTOR: Acceptor | None = None
_ACCEPTOR_LOCK = threading.Lock()


def acceptor() -> Acceptor:
    """The process's acceptor, started on first use."""
    global _ACCEPTOR
    with _ACCEPTOR_LOCK:
        if _ACCEPTOR is None:
            _ACCEPTOR = Acceptor()
        return _ACCEPTOR
