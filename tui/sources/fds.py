"""What a process's file descriptor points at, from /proc: a path, a pipe, or a socket with
its addresses (TCP 127.0.0.1:40412->127.0.0.1:5432, UNIX /run/x.sock)."""

from __future__ import annotations

import os
import socket

from tui.model.sanitize import safe_text

TCP_STATES_LISTEN = "0A"


def _ipv4(hex_address: str) -> str:
    address, port = hex_address.split(":")
    return f"{socket.inet_ntop(socket.AF_INET, bytes.fromhex(address)[::-1])}:{int(port, 16)}"


def _ipv6(hex_address: str) -> str:
    address, port = hex_address.split(":")
    raw = bytes.fromhex(address)
    # /proc prints the address as four host-order 32-bit words.
    ordered = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
    return f"[{socket.inet_ntop(socket.AF_INET6, ordered)}]:{int(port, 16)}"


class FdResolver:
    """Look up fds in /proc, caching socket tables per process for one read."""

    def __init__(self, ended: frozenset[int] = frozenset()) -> None:
        self._sockets: dict[int, dict[str, str]] = {}
        # Processes known to have ended: their fds are closed (a zombie's too), so /proc is
        # not asked (under churn, most captured calls are of processes gone by the read).
        self._ended = ended

    def resolve(self, tgid: int, fd: int) -> str | None:
        """Return what fd `fd` of `tgid` points at now, or None (closed, or the process is gone)."""
        if fd < 0 or tgid in self._ended:
            return None
        try:
            link = os.readlink(f"/proc/{tgid}/fd/{fd}")
        except OSError:
            return None
        if link.startswith("socket:["):
            inode = link[len("socket:[") : -1]
            return self._socket(tgid, inode) or link
        return safe_text(os.fsencode(link), 200)

    def _socket(self, tgid: int, inode: str) -> str | None:
        if tgid not in self._sockets:
            self._sockets[tgid] = self._socket_table(tgid)
        return self._sockets[tgid].get(inode)

    @staticmethod
    def _socket_table(tgid: int) -> dict[str, str]:
        """Return inode → description of every socket in the process's network namespace."""
        found: dict[str, str] = {}
        for name, kind, decode in (
            ("tcp", "TCP", _ipv4),
            ("tcp6", "TCPv6", _ipv6),
            ("udp", "UDP", _ipv4),
            ("udp6", "UDPv6", _ipv6),
        ):
            try:
                with open(f"/proc/{tgid}/net/{name}") as table:
                    next(table, None)
                    for line in table:
                        fields = line.split()
                        if len(fields) < 10:
                            continue
                        local, remote, state, inode = fields[1], fields[2], fields[3], fields[9]
                        text = f"{kind} {decode(local)}"
                        if not (kind.startswith("TCP") and state == TCP_STATES_LISTEN):
                            text += f"->{decode(remote)}"
                        found[inode] = text
            except (OSError, ValueError):
                continue
        try:
            with open(f"/proc/{tgid}/net/unix", "rb") as table:
                next(table, None)
                for raw_line in table:
                    parts = raw_line.split(None, 7)
                    if len(parts) >= 7:
                        path = parts[7].strip() if len(parts) > 7 else b""
                        shown = safe_text(path, 120) if path else "(unnamed)"
                        found[parts[6].decode()] = f"UNIX {shown}"
        except OSError:
            pass
        return found
