"""A loopback TCP forwarder whose link the test can break at will (a network failure).

``cut()`` resets every open connection (a dropped link); ``down()`` also refuses new ones until
``up()`` (an unreachable host), on the same port.
"""
from __future__ import annotations

import socket
import threading


class CuttableProxy:
    def __init__(self, target_port: int, target_host: str = "127.0.0.1"):
        self.target = (target_host, target_port)
        self.server = socket.socket()
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(16)
        self.port = self.server.getsockname()[1]
        self.connections: list[socket.socket] = []
        self.lock = threading.Lock()
        self.reachable = True
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            if not self.reachable:
                self._reset(client)
                continue
            upstream = socket.create_connection(self.target)
            with self.lock:
                self.connections += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    @staticmethod
    def _reset(s: socket.socket) -> None:
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            s.close()
        except OSError:
            pass

    def cut(self) -> None:
        """Reset every open connection (as a dropped link would)."""
        with self.lock:
            for s in self.connections:
                self._reset(s)
            self.connections.clear()

    def down(self) -> None:
        """Unreachable: cut everything and refuse new connections until ``up()``."""
        self.reachable = False
        self.cut()

    def up(self) -> None:
        self.reachable = True

    def close(self) -> None:
        self.down()
        self.server.close()
