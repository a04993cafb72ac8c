"""Decoders against values built here: socket addresses, flag words, constants, strings, and
the tracefs format parser."""

from __future__ import annotations

import os
import signal
import socket
import struct

import pytest

from tui.model.decode import (
    decode_call,
    flag_names,
    futex_op,
    open_flags,
    quoted,
    signal_name,
    sockaddr_text,
    socket_type,
)
from tui.model.prototypes import ArgKind, ArgSpec, Prototype, parse_format, shipped_prototypes

PROTOS = shipped_prototypes()
AT_FDCWD = (-100) & (2**64 - 1)


def inet(address: str, port: int) -> bytes:
    return (
        struct.pack("<H", socket.AF_INET)
        + struct.pack(">H", port)
        + socket.inet_aton(address)
        + bytes(8)
    )


def inet6(address: str, port: int) -> bytes:
    packed = socket.inet_pton(socket.AF_INET6, address)
    return (
        struct.pack("<H", socket.AF_INET6) + struct.pack(">H", port) + bytes(4) + packed + bytes(4)
    )


def unix(path: bytes) -> bytes:
    return struct.pack("<H", socket.AF_UNIX) + path


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        (inet("127.0.0.1", 5999), "127.0.0.1:5999"),
        (inet("10.1.2.3", 80), "10.1.2.3:80"),
        (inet6("::1", 443), "[::1]:443"),
        (inet6("2001:db8::7", 8443), "[2001:db8::7]:8443"),
        (unix(b"/run/postgresql/.s.PGSQL.5432\0"), "/run/postgresql/.s.PGSQL.5432"),
        (unix(b"\0dbus-abstract"), "@dbus-abstract"),
        (unix(b""), "@"),
        (unix(b"/tmp/\x1b]52;c;QQ==\x07.sock\0"), "/tmp/\\x1b]52;c;QQ==\\x07.sock"),
        (struct.pack("<H", socket.AF_NETLINK) + bytes(10), "AF_NETLINK"),
        (b"\x02", "{?}"),
    ],
)
def test_socket_addresses(raw: bytes, shown: str) -> None:
    assert sockaddr_text(raw) == shown


def test_open_flags_use_the_stdlib_names() -> None:
    assert open_flags(os.O_RDONLY) == "O_RDONLY"
    assert open_flags(os.O_RDONLY | os.O_CLOEXEC) == "O_RDONLY|O_CLOEXEC"
    assert open_flags(os.O_WRONLY | os.O_CREAT | os.O_TRUNC) == "O_WRONLY|O_CREAT|O_TRUNC"
    assert open_flags(os.O_RDWR | os.O_APPEND | os.O_NONBLOCK) == "O_RDWR|O_APPEND|O_NONBLOCK"
    assert open_flags(os.O_RDONLY | 0x40000000) == "O_RDONLY|0x40000000"  # unknown bits in hex


def test_constants_by_name() -> None:
    assert signal_name(signal.SIGTERM) == "SIGTERM"
    assert signal_name(signal.SIGRTMIN + 3) == "SIGRTMIN+3"
    assert futex_op(0 | 128) == "FUTEX_WAIT_PRIVATE"
    assert futex_op(1) == "FUTEX_WAKE"
    assert socket_type(socket.SOCK_DGRAM | socket.SOCK_NONBLOCK) == "SOCK_DGRAM|SOCK_NONBLOCK"
    assert flag_names(os.R_OK | os.W_OK, {"R_OK": 4, "W_OK": 2, "X_OK": 1}) == "W_OK|R_OK"
    assert flag_names(0, {"A": 1}) == "0"


def test_strings_are_quoted_escaped_and_marked_when_cut() -> None:
    assert quoted(b"/etc/x", False) == '"/etc/x"'
    assert quoted(b'a"b\\c', False) == '"a\\"b\\\\c"'
    assert quoted(b"\xff\xfe[bold]", True) == '"\\xff\\xfe[bold]"...'


def call(name: str, registers: tuple[int, ...], ret: int, strings=(), addr=b"", fds=None) -> str:
    return decode_call(
        name, PROTOS[name], registers, tuple(strings), (False,) * len(strings), addr, ret, fds or {}
    ).text


def test_whole_calls_read_like_strace() -> None:
    assert (
        call(
            "openat",
            (AT_FDCWD, 1, os.O_RDONLY | os.O_CLOEXEC, 0, 0, 0),
            -2,
            [b"/etc/myapp/config.yaml"],
        )
        == 'openat(AT_FDCWD, "/etc/myapp/config.yaml", O_RDONLY|O_CLOEXEC) = -2 ENOENT'
    )
    assert (
        call("openat", (AT_FDCWD, 1, os.O_WRONLY | os.O_CREAT, 0o640, 0, 0), 3, [b"/var/log/x"])
        == 'openat(AT_FDCWD, "/var/log/x", O_WRONLY|O_CREAT, 0640) = 3'
    )
    assert (
        call(
            "connect",
            (3, 1, 16, 0, 0, 0),
            -111,
            addr=inet("127.0.0.1", 5999),
            fds={0: "TCP 127.0.0.1:0"},
        )
        == "connect(3<TCP 127.0.0.1:0>, {127.0.0.1:5999}, 16) = -111 ECONNREFUSED"
    )
    assert call("kill", (1234, 9, 0, 0, 0, 0), -1) == "kill(1234, SIGKILL) = -1 EPERM"
    assert (
        call("execve", (1, 2, 3, 0, 0, 0), -2, [b"/no/bin", b"/no/bin", b"-v"])
        == 'execve("/no/bin", ["/no/bin", "-v"], 3) = -2 ENOENT'
    )
    assert (
        call("access", (1, os.R_OK | os.X_OK, 0, 0, 0, 0), -13, [b"/x"])
        == 'access("/x", X_OK|R_OK) = -13 EACCES'
    )
    assert call("read", (5, 0x7FFC0000, 4096, 0, 0, 0), 12, fds={0: "/var/lib/db/wal"}) == (
        "read(5</var/lib/db/wal>, 0x7ffc0000, 4096) = 12"
    )


def test_the_target_is_the_path_then_the_address_then_the_fd() -> None:
    args = (AT_FDCWD, 1, 0, 0, 0, 0)
    assert (
        decode_call("openat", PROTOS["openat"], args, (b"/p",), (True,), b"", -2, {}).target
        == "/p…"
    )
    connect = decode_call(
        "connect",
        PROTOS["connect"],
        (3, 1, 16),
        (),
        (),
        inet("127.0.0.1", 80),
        -111,
        {0: "x"},
    )
    assert connect.target == "127.0.0.1:80"
    read = decode_call("read", PROTOS["read"], (5, 1, 2), (), (), b"", -11, {0: "pipe:[77]"})
    assert read.target == "pipe:[77]"


def test_an_unknown_syscall_shows_its_registers() -> None:
    decoded = decode_call("mystery", None, (1, 0x12345678, 0, 0, 0, 0), (), (), b"", 0, {})
    assert decoded.text == "mystery(1, 0x12345678, 0, 0, 0, 0) = 0"


FORMAT = """name: sys_enter_renameat2
ID: 999
format:
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;

\tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;
\tfield:int olddfd;\toffset:16;\tsize:8;\tsigned:0;
\tfield:const char * oldname;\toffset:24;\tsize:8;\tsigned:0;
\tfield:int newdfd;\toffset:32;\tsize:8;\tsigned:0;
\tfield:const char * newname;\toffset:40;\tsize:8;\tsigned:0;
\tfield:unsigned int flags;\toffset:48;\tsize:8;\tsigned:0;

print fmt: "olddfd: 0x%08lx"
"""


def test_tracefs_format_parser_and_argument_kinds() -> None:
    prototype = parse_format(FORMAT)
    assert prototype == Prototype(
        "renameat2",
        (
            ArgSpec("int", "olddfd"),
            ArgSpec("const char *", "oldname"),
            ArgSpec("int", "newdfd"),
            ArgSpec("const char *", "newname"),
            ArgSpec("unsigned int", "flags"),
        ),
    )
    assert prototype.kinds() == (
        ArgKind.FD,
        ArgKind.STRING,
        ArgKind.FD,
        ArgKind.STRING,
        ArgKind.PLAIN,
    )
    with pytest.raises(ValueError):
        parse_format("hello")


def test_only_paths_and_argv_are_read_never_data_or_the_environment() -> None:
    def kinds(name: str) -> dict[str, ArgKind]:
        prototype = PROTOS[name]
        return dict(zip((a.name for a in prototype.args), prototype.kinds(), strict=True))

    assert kinds("write")["buf"] is ArgKind.PLAIN  # a write's data is never read
    assert kinds("execve")["argv"] is ArgKind.ARGV and kinds("execve")["envp"] is ArgKind.PLAIN
    assert kinds("connect")["uservaddr"] is ArgKind.SOCKADDR_IN
    assert kinds("accept4")["upeer_sockaddr"] is ArgKind.SOCKADDR_OUT
    assert kinds("sendto")["addr"] is ArgKind.SOCKADDR_IN
    assert kinds("sethostname")["name"] is ArgKind.PLAIN
    assert kinds("mount")["dev_name"] is ArgKind.STRING
    for name in (
        "open",
        "openat",
        "openat2",
        "creat",
        "newfstatat",
        "statx",
        "access",
        "faccessat2",
        "execveat",
        "unlinkat",
        "renameat2",
        "mkdirat",
        "rmdir",
        "chdir",
        "fchmodat",
        "fchownat",
        "readlinkat",
        "linkat",
        "symlinkat",
        "truncate",
        "umount",
        "inotify_add_watch",
        "setxattr",
        "statfs",
        "utimensat",
    ):
        assert ArgKind.STRING in PROTOS[name].kinds(), name
