"""The live source: the BPF program loaded through BCC. The only module that imports bcc."""

from __future__ import annotations

import contextlib
import ctypes as ct
import errno
import functools
import importlib.util
import os
import re
import resource
import struct
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from tui.cgroupfs import CgroupNames, cgroup_root
from tui.config import Config
from tui.model.histogram import fine_to_log2
from tui.model.names import COMPAT_SLOT_BASE, SyscallNames
from tui.model.prototypes import ArgKind, Prototype
from tui.model.readings import (
    REASON_SAMPLED,
    CallCounters,
    CaptureCounts,
    InflightCall,
    LossCounters,
    ProcessCallCounters,
    RawReading,
    SampleEvent,
)
from tui.model.sanitize import comm_text, safe_text
from tui.sources.fds import FdResolver
from tui.sources.kernel_headers import HeaderTree, check_trusted, locate_headers
from tui.sources.program import ArgLayout, arg_layout, build_program, header_constants
from tui.sources.program_cache import (
    INSN_SIZE,
    FunctionImage,
    MapSpec,
    ProgramImage,
    cache_dir,
    image_key,
    load_image,
    map_refs_of,
    missing_immediates,
    store_image,
    with_fds,
)
from tui.sources.tracefs import kernel_prototypes

_C = header_constants()
_HIST = _C["HIST_BUCKETS"]
_SLOT_COUNT = _C["SLOT_COUNT"]
_STATS_WORDS = 8  # struct syscall_stats
_STATS_INTERVAL_MAX, _STATS_MAX_EPOCH, _STATS_ERRNO_CACHE = 5, 6, 7
_ERRNO_CACHE_SHIFT = _C["ERRNO_CACHE_SHIFT"]
_ERRNO_CACHE_COUNT = (1 << _ERRNO_CACHE_SHIFT) - 1
_NO_HIST = (0,) * _HIST
_FINE = _C["FINE_BUCKETS"]
# struct proc_stats, its histogram left as bytes: decoded once per distinct histogram per
# read (under churn most entries repeat a few), not 32 numbers for every entry.
_PROC_STRUCT = struct.Struct(f"<QQQQII{_C['COMM_LEN']}sQQQ{_HIST * 8}s")
_PROC_SIZE = _PROC_STRUCT.size
_HIST_STRUCT = struct.Struct(f"<{_HIST}Q")
_new_tuple = tuple.__new__
_SAMPLE_FORMAT = f"<QQQq{_C['SYSCALL_ARGS']}QIIIIII{_C['COMM_LEN']}s"  # struct sample_event
_SAMPLE_SIZE = struct.calcsize(_SAMPLE_FORMAT)
# ... then why it was sent, the lengths of what was read, and (when read) the strings and
# the socket address: reasons, string_lens[4], addr_len, reserved, strings, addr.
_PAYLOAD_HEAD = f"<I{_C['CAPTURE_STRINGS']}HHH"
_STRINGS_OFFSET = _SAMPLE_SIZE + struct.calcsize(_PAYLOAD_HEAD)
_STRING_LEN = _C["CAPTURE_STRING_LEN"]
_ADDR_OFFSET = _STRINGS_OFFSET + _C["CAPTURE_STRINGS"] * _STRING_LEN
_BUDGET_WORDS = 2 + _C["CAPTURE_COUNTERS"]  # struct capture_budget
CAPTURES_KEPT_PER_READ = 4096
EVENTS_HELD_AT_MOST = 500_000  # between two reads, whatever the interval (about 70 MB)
_INFLIGHT_FORMAT = "<QIIII"  # struct enter_state
_INFLIGHT_SIZE = struct.calcsize(_INFLIGHT_FORMAT)
SAMPLES_KEPT_PER_READ = 1024
SAMPLE_WAKEUP_EVENTS = 64
# The programs each tier attaches, in this order (bpf/syscalls.bpf.c, on_<tracepoint>).
# cgroup_attach_task runs only when a task changes cgroups (attribution follows the move).
# sched_switch before sys_enter: from the first entry on, every switch moves the entry state
# off its CPU, so sys_exit can trust a CPU's state to be its own thread's without asking.
# sched_process_exit counts the processes that end, for when to take them early.
TRACEPOINTS_TIMED = (
    "cgroup_attach_task",
    "sched_process_exit",
    "sched_switch",
    "sys_enter",
    "sys_exit",
)
TRACEPOINTS_COUNTS = ("cgroup_attach_task", "sched_process_exit", "sys_exit")
# Beside sched_process_exit where the kernel passes group_dead (it refuses the attach where
# not): the processes whose last thread left, so a read knows which entries are final.
END_PROGRAM = "on_sched_process_end"
FLUSH_PROGRAM = "flush_cached_calls"
_ENDS_JUMP = 1 << 62  # more thread ends than any machine makes: a task_ends never seen
# Where the kernel lists ended processes, /proc is still asked at the first read (for ends
# before the list's program attached) and this often (in reads) whether the processes in the
# map live, in case an end was not listed (a reused pid ending twice).
GONE_RECHECK_READS = 30
# Gone processes are also taken out of the per-process map between reads, in a poll slice,
# once the processes that exited since the last take would fill this share (1/4) of the room
# the last read left, at the pairs each gone process held so far (a guess of 20 to start:
# /bin/true makes 20 distinct calls). Short of that, the read takes them: a read per second
# is cheaper than a map read per slice, and a map of living processes is never read twice.
EARLY_TAKE_SHARE = 4
PAIRS_PER_EXIT_GUESS = 20.0
# The bpf(2) ABI for loading the counts tier's exit program as a BTF-typed raw tracepoint.
_PERCPU_TYPES = (5, 6)  # BPF_MAP_TYPE_PERCPU_HASH, BPF_MAP_TYPE_PERCPU_ARRAY
_SYS_BPF = {"x86_64": 321}.get(os.uname().machine)
_BPF_PROG_LOAD = 5
_BPF_PROG_TYPE_RAW_TRACEPOINT = 17
_BPF_PROG_TYPE_TRACING = 26
_BPF_TRACE_RAW_TP = 23
_BPF_PROG_TEST_RUN = 10
_BPF_F_TEST_RUN_ON_CPU = 1
_TEST_RUN_ATTR_SIZE = 80  # union bpf_attr up to test.batch_size
_PROG_LOAD_ATTR_SIZE = 128  # union bpf_attr up to fd_array; the kernel zero-extends the rest


class BpfLoadFailed(RuntimeError):
    """The program did not compile, load or attach; the message is one line."""


_VERSION_LINE = re.compile(r"""^__version__\s*=\s*['"]([^'"]+)['"]""", re.MULTILINE)


def bcc_version() -> str:
    """Return the version of the bcc Python bindings in use, read from their version.py:
    importing bcc would load libbcc, and with it LLVM, which a start from a kept image
    never needs. Raises ImportError when they are missing."""
    spec = importlib.util.find_spec("bcc")
    if spec is None:
        raise ImportError("No module named 'bcc'", name="bcc")
    for directory in spec.submodule_search_locations or []:
        with contextlib.suppress(OSError, UnicodeDecodeError):
            found = _VERSION_LINE.search((Path(directory) / "version.py").read_text())
            if found is not None:
                return found.group(1)
    return "unknown"


def _fd_number(register: int) -> int:
    """Return an fd argument as the kernel reads it: the low 32 bits, signed."""
    value = register & 0xFFFFFFFF
    return value - (1 << 32) if value >> 31 else value


def _cpu_list(path: str) -> list[int]:
    """Return the CPUs of a sysfs CPU list such as "0-3,8" (possible, online)."""
    cpus: list[int] = []
    for part in Path(path).read_text().strip().split(","):
        first, _, last = part.partition("-")
        cpus.extend(range(int(first), int(last or first) + 1))
    return cpus


def _possible_cpus() -> int:
    return len(_cpu_list("/sys/devices/system/cpu/possible"))


@contextlib.contextmanager
def _captured_output() -> Iterator[list[str]]:
    """Send fds 1 and 2 to a file while libbcc and clang talk; hand back what they said."""
    lines: list[str] = []
    sys.stdout.flush()
    sys.stderr.flush()
    saved = (os.dup(1), os.dup(2))
    with tempfile.TemporaryFile(mode="w+b") as sink:
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        try:
            yield lines
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
            sink.seek(0)
            lines.extend(sink.read().decode("utf-8", "replace").splitlines())


def _first_error(lines: list[str], fallback: str) -> str:
    for line in lines:
        if "error" in line.lower() or "unable" in line.lower():
            return line.strip()[:300]
    return fallback


class _BatchReader:
    """Read a whole map with BPF_MAP_LOOKUP_BATCH, a chunk at a time into reusable buffers."""

    CHUNK = 4096

    def __init__(self, map_fd: int, key_size: int, value_size: int, max_entries: int) -> None:
        lib = _lib()
        self._lookup_batch = lib.bpf_lookup_batch
        self._delete_batch = lib.bpf_delete_batch
        self._lookup = lib.bpf_lookup_elem
        self._fd = map_fd
        self._key_size = key_size
        self._value_size = value_size
        self._max = max_entries
        self._chunk = min(max_entries, self.CHUNK)
        self._keys = ct.create_string_buffer(key_size * self._chunk)
        self._values = ct.create_string_buffer(value_size * self._chunk)
        self._one_value = ct.create_string_buffer(value_size)

    def read(self) -> tuple[bytes, bytes, int]:
        """Return (keys, values, count) of every entry in the map."""
        cursor = ct.c_uint32(0)
        count = ct.c_uint32(0)
        keys: list[bytes] = []
        values: list[bytes] = []
        total = 0
        first = True
        while total < self._max:
            count.value = self._chunk
            result = self._lookup_batch(
                self._fd,
                None if first else ct.byref(cursor),
                ct.byref(cursor),
                self._keys,
                self._values,
                ct.byref(count),
            )
            error = ct.get_errno()
            first = False
            got = count.value
            if got:
                # string_at copies only what was filled (.raw would copy the whole buffer).
                keys.append(ct.string_at(self._keys, self._key_size * got))
                values.append(ct.string_at(self._values, self._value_size * got))
                total += got
            if result != 0:
                if error == errno.ENOENT:
                    break
                raise OSError(error, f"BPF_MAP_LOOKUP_BATCH: {os.strerror(error)}")
            if got == 0:
                break
        return b"".join(keys), b"".join(values), total

    def lookup(self, key: bytes) -> bytes | None:
        """Read one entry's value (None if it is not there)."""
        if self._lookup(self._fd, key, self._one_value) != 0:
            return None
        return self._one_value.raw

    def delete(self, keys: bytes) -> None:
        """Delete the entries with these packed keys, one BPF_MAP_DELETE_BATCH per chunk."""
        chunk_bytes = self._key_size * self._chunk
        offset = 0
        while offset < len(keys):
            part = keys[offset : offset + chunk_bytes]
            count = ct.c_uint32(len(part) // self._key_size)
            result = self._delete_batch(self._fd, part, ct.byref(count))
            error = ct.get_errno()
            deleted = count.value
            if result != 0:
                if error != errno.ENOENT:
                    raise OSError(error, f"BPF_MAP_DELETE_BATCH: {os.strerror(error)}")
                deleted += 1  # the kernel stops at a key that is gone already: skip past it
            offset += deleted * self._key_size


class BccSource:
    """Loads the program, reads its maps into RawReadings, drains sampled events."""

    label = "live"

    def __init__(
        self, config: Config, names: SyscallNames, samples_kept: int | None = SAMPLES_KEPT_PER_READ
    ) -> None:
        self.config = config
        self.names = names
        self.program = build_program(config, names)
        self.headers: HeaderTree | None = None
        # The maps and programs in the kernel, and where their image came from: "compiled"
        # (and kept for the next start) or "cached" (no compile).
        self._loaded: _Loaded | None = None
        self.image_origin = ""
        self.image_not_kept = ""  # why a compiled image could not be kept, if it was not
        self._cpus = 0
        self._stats_reader: _BatchReader | None = None
        self._proc_reader: _BatchReader | None = None
        self._errno_reader: _BatchReader | None = None
        self._loss_reader: _BatchReader | None = None
        self._exits_reader: _BatchReader | None = None
        self._inflight_reader: _BatchReader | None = None
        self._blocked_at_start: dict[int, InflightCall] = {}
        self._unseen_reader: _BatchReader | None = None
        self._reads_since_recheck = 0
        self._reads = 0  # read() calls so far: the /proc nets run every so many
        self._prev_stats_raw: list[bytes] = []
        self._prev_stats: dict[int, CallCounters] = {}
        # The read epoch the kernel files interval maxima under; advanced at each read.
        self._epoch = 0
        # Fine histograms: the row the kernel handed each syscall (rows never move), and per
        # slot the counters read last with the fine histogram added to them.
        self._fine_reader: _BatchReader | None = None
        self._row_reader: _BatchReader | None = None
        self._row_of: dict[int, int] = {}
        self._with_fine: dict[int, tuple[CallCounters, CallCounters]] = {}
        self._proc_cache: dict[tuple[int, int], tuple[bytes, ProcessCallCounters]] = {}
        # Entries of gone processes taken out between reads, handed over at the next read.
        self._departed: dict[tuple[int, int], ProcessCallCounters] = {}
        self._departed_tgids: set[int] = set()
        self._tgids_seen: set[int] = set()  # by the last read of the per-process map
        # Processes the kernel listed as ended whose entries are not all taken yet; None
        # where the kernel passes no group_dead (then /proc says who has gone).
        self._ended_reader: _BatchReader | None = None
        # The per-CPU pair cache: its flush program, once every CPU ran it.
        self._flush_fd: int | None = None
        self.pair_cache = "off (not started)"
        self._ended_dropped_reader: _BatchReader | None = None
        self._ended: set[int] = set()
        self._ended_dropped_seen = 0
        # Set when the list was full: until a read has asked /proc (an early take that does
        # looks only at some processes).
        self._proc_check_due = False
        self._shared = _SharedParts()
        self._prev_budgets: tuple[bytes, dict[int, CaptureCounts]] = (b"", {})
        self._enriched: dict[tuple[int, int, int], InflightCall] = {}  # (tid, enter_ns, slot)
        # How the exit program is attached: "tp_btf" (a plain load of the syscall id) or
        # "raw_tp" (a helper call), with why tp_btf was not used.
        self.exit_attachment = ""
        self._early_take_mark = self.config.proc_map_entries // EARLY_TAKE_SHARE
        self._pairs_per_exit = PAIRS_PER_EXIT_GUESS
        self._exits_since_take = 0
        self._exits_seen = 0
        # Raw bytes only: the callback runs per event, sorting and decoding wait for read().
        # Captures (failed, slow, first-seen calls) are kept apart there, so samples never
        # crowd them out.
        self._events: list[bytes] = []
        self._samples_kept = samples_kept
        self._events_dropped = 0
        self._lost_samples = 0
        self._budget_reader: _BatchReader | None = None
        # Read by start(), beside the compile: the kernel's own prototypes where tracefs is up.
        self.prototypes: dict[str, Prototype] = {}
        self.prototypes_from = ""
        self._fd_args: dict[int, tuple[int, ...]] = {}
        # Per slot, the (slot, errno) counts the CPUs keep in their syscall_stats lines.
        self._errnos_in_stats: dict[int, dict[tuple[int, int], int]] = {}
        self._cgroups = CgroupNames(cgroup_root())
        # Slots of --syscall, for threads found blocked in /proc (the kernel filters the rest).
        self._filter_slots = {
            slot for name in config.filters.syscall_names for slot in names.slots_for(name)
        }

    # -- life cycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Load the program's kept image, or compile it; attach; raise BpfLoadFailed or
        HeadersMissing with one line."""
        try:
            self._start(use_cache=True)
        except (BpfLoadFailed, OSError, KeyError, ValueError, StopIteration):
            if self.image_origin != "cached":
                raise
            # The kernel refused what was kept, or it lacks a map this text needs (damage no
            # check caught): start afresh from a compile, which keeps a new image.
            self.close()
            self._start(use_cache=False)

    def _start(self, use_cache: bool) -> None:
        trees: list[tuple[Path, str]] = []
        self.headers = locate_headers(trust=lambda tree, what: trees.append((tree, what)))
        os.environ["BCC_KERNEL_SOURCE"] = str(self.headers.path)
        directory = cache_dir()
        key = image_key(self.program.text, self._image_facts())
        image = load_image(directory, key) if directory is not None and use_cache else None
        self.image_origin = ""
        compiling = _Compile(self.program.text) if image is None else None
        with _captured_output() as said:
            if compiling is not None:
                compiling.start()
            try:
                # Beside the compile (clang lets go of the GIL), about 0.1 s off the first
                # frame. What it makes is loaded below, only once every tree has passed (a
                # cached image was made from trees that had).
                for tree, what in trees if compiling is not None else ():
                    check_trusted(tree, what)
                self.prototypes, self.prototypes_from = kernel_prototypes()
                kinds = self._kinds_by_slot()
                self._fd_args = {
                    slot: tuple(i for i, kind in enumerate(each) if kind is ArgKind.FD)
                    for slot, each in kinds.items()
                }
                layouts = _arg_layouts(kinds) if self._events_on else {}
                # Also beside it (2,000 waiting threads: 85 ms of /proc). A thread that
                # returns before the programs attach is dropped by the first read's check;
                # one that blocks before they attach is found by a second scan, later.
                blocked = self._scan_blocked() if self.config.timed else {}
                btf_id, no_btf = (0, "") if self.config.timed else _exit_btf_id()
            except BaseException:
                if compiling is not None:
                    compiling.join()
                    compiling.discard()
                raise
            if compiling is not None:
                compiling.join()
                if compiling.error is None:
                    image = compiling.take_image()
        if compiling is not None and compiling.error is not None:
            first_line = str(compiling.error).splitlines()[0]
            raise BpfLoadFailed(
                "BPF program failed to load: " + _first_error(said, first_line)
            ) from None
        assert image is not None
        if missing_immediates(image, self.program.required):
            # This clang folded a -p placeholder into something else: the pids are compiled
            # in as they are instead (one compile a target, as before placeholders).
            self.program = build_program(self.config, self.names, literal_pids=True)
            self._start(use_cache)
            return
        self.image_origin = "compiled" if compiling is not None else "cached"
        # On a thread: about 25 ms of madvise and malloc_trim, off the first frame. Loading
        # libbcc alone makes 60 MB of LLVM resident (relocations, static constructors).
        threading.Thread(target=_release_compiler_memory, name="release", daemon=True).start()
        loaded = self._loaded = _Loaded(image, dict(self.program.constants))
        loaded.create_maps()
        self._cpus = _possible_cpus()
        self._stats_reader = loaded.reader(
            "syscall_stats", 4, 8 * _STATS_WORDS * self._cpus, _SLOT_COUNT
        )
        self._proc_reader = loaded.reader("proc_stats", 8, _PROC_SIZE, self.config.proc_map_entries)
        self._errno_reader = loaded.reader("errno_counts", 8, 8, _C["ERRNO_MAP_ENTRIES"])
        if self.config.timed:
            self._fine_reader = loaded.reader(
                "fine_hists", 4, 8 * _FINE * self._cpus, self.config.hist_rows
            )
            self._row_reader = loaded.reader("hist_row_of", 4, 8, _SLOT_COUNT)
        loaded.check("read_epoch", 4, 8)  # written at every read
        self._loss_reader = loaded.reader("loss_counts", 4, 8 * self._cpus, _C["LOSS_SLOTS"])
        self._exits_reader = loaded.reader("process_exits", 4, 8 * self._cpus, 1)
        self._inflight_reader = loaded.reader("inflight", 4, _INFLIGHT_SIZE, _C["INFLIGHT_ENTRIES"])
        self._blocked_at_start = blocked
        self._reads_since_recheck = BLOCKED_RECHECK_READS - 1  # the first read asks /proc
        if self.config.timed:
            self._unseen_reader = loaded.reader("unseen_exits", 4, 1, _C["UNSEEN_EXIT_ENTRIES"])
        if self._events_on:
            self._fill_arg_layout(layouts)
        if self.config.capture_rate > 0:
            self._budget_reader = loaded.reader(
                "capture_budgets", 4, 8 * _BUDGET_WORDS * self._cpus, _SLOT_COUNT
            )
        if self._events_on:
            # bcc wakes the poll for every event by default: thousands of wakeups a second
            # under a hot workload. Wake per batch instead (a quarter of what fits), and
            # drain the remainder at each read.
            fits = self.config.perf_pages * resource.getpagesize() // (_SAMPLE_SIZE + 16)
            loaded.open_perf_buffer(
                "samples",
                self._on_sample,
                self._on_lost,
                self.config.perf_pages,
                max(1, min(SAMPLE_WAKEUP_EVENTS, fits // 4)),
            )
        refused: BpfLoadFailed | None = None
        with _captured_output() as said:  # libbcc prints the verifier's log of a refusal
            try:
                # Last: every map is ready and the buffer open before the first call counts.
                for event in TRACEPOINTS_TIMED if self.config.timed else TRACEPOINTS_COUNTS:
                    if event == "sys_exit" and not self.config.timed:
                        why = loaded.attach_btf_exit(btf_id) if btf_id else no_btf
                        if not why:
                            self.exit_attachment = "tp_btf"
                            continue
                        self.exit_attachment = f"raw_tp ({why})"
                    loaded.attach_raw_tracepoint(event)
            except BpfLoadFailed as error:
                refused = error
        if refused is not None:
            raise BpfLoadFailed(f"{refused}{_verifier_said(said)}") from None
        with _captured_output():  # libbcc prints a refused load
            self._start_pair_cache(loaded)
        # After the counting programs (what waits for them counts their links): a process
        # that ends before this is found in /proc by the first read.
        self._attach_end_program(loaded)
        if self.image_origin == "compiled" and directory is not None:
            # Only once it loaded and attached: an image the kernel refuses is never kept.
            self.image_not_kept = store_image(directory, key, image) or ""

    def _attach_end_program(self, loaded: _Loaded) -> None:
        """Attach the program that lists ended processes, where the kernel passes group_dead;
        elsewhere leave the /proc look-ups to find gone processes."""
        with _captured_output():  # libbcc prints a refused attach
            try:
                loaded.attach_raw_tracepoint("sched_process_exit", END_PROGRAM)
            except BpfLoadFailed:
                return  # a kernel whose tracepoint has no group_dead refuses the attach
        self._ended_reader = loaded.reader("ended_processes", 4, 1, _C["ENDED_ENTRIES"])
        self._ended_dropped_reader = loaded.reader("ended_dropped", 4, 8, 1)

    def _image_facts(self) -> tuple[str, ...]:
        """Return what besides its text shapes a compiled program (its cache key)."""
        assert self.headers is not None
        tree = self.headers.path
        stamps = []
        for part in (tree, tree / "include/generated/autoconf.h", tree / "Makefile"):
            with contextlib.suppress(OSError):
                info = os.stat(part)
                stamps.append(f"{part}:{info.st_mtime_ns}:{info.st_size}")
        # Not the host name: a renamed host, or a pod's own name, runs the same kernel.
        kernel = os.uname()
        identity = (kernel.sysname, kernel.release, kernel.version, kernel.machine)
        return (bcc_version(), *identity, str(_possible_cpus()), *stamps)

    def close(self) -> None:
        """Detach every program and free the maps."""
        loaded, self._loaded = self._loaded, None
        if loaded is not None:
            loaded.close()

    # -- sampled events ---------------------------------------------------------------------

    @property
    def _events_on(self) -> bool:
        return self.config.sample_every > 0 or self.config.capture_rate > 0

    def _kinds_by_slot(self) -> dict[int, tuple[ArgKind, ...]]:
        """Return what each argument of each syscall with a prototype points at, by slot
        (native and compat ids of one syscall share its prototype: worked out once)."""
        by_name = {name: prototype.kinds() for name, prototype in self.prototypes.items()}
        found = {
            number: by_name[name] for number, name in self.names.all_native() if name in by_name
        }
        for slot in range(COMPAT_SLOT_BASE, COMPAT_SLOT_BASE + 512):
            name = self.names.decode(slot).name
            if name in by_name:
                found[slot] = by_name[name]
        return found

    def _fill_arg_layout(self, layouts: dict[int, ArgLayout]) -> None:
        """Tell the kernel which arguments are strings, argv or socket addresses."""
        assert self._loaded is not None
        for slot, layout in layouts.items():
            kinds = bytes(layout.kinds).ljust(_C["SYSCALL_ARGS"], b"\0")  # struct arg_layout
            value = kinds + bytes((layout.argv_arg, layout.addr_arg))
            self._loaded.update("arg_layout", struct.pack("<I", slot), value)

    def _on_sample(self, cpu: int, data: Any, size: int) -> None:
        # Runs once per event inside libbcc's drain loop: as little work as possible.
        if len(self._events) < EVENTS_HELD_AT_MOST:
            self._events.append(ct.string_at(data, size))
        else:
            self._events_dropped += 1

    def _decode_sample(self, raw: bytes, fds: FdResolver) -> SampleEvent:
        fields = struct.unpack_from(_SAMPLE_FORMAT, raw)
        args_end = 4 + _C["SYSCALL_ARGS"]
        tgid, tid, uid, event_cpu, slot, timed = fields[args_end : args_end + 6]
        reasons, *lens = struct.unpack_from(_PAYLOAD_HEAD, raw, _SAMPLE_SIZE)
        addr_len, payload_flags = lens[_C["CAPTURE_STRINGS"]], lens[_C["CAPTURE_STRINGS"] + 1]
        string_lens = lens[: _C["CAPTURE_STRINGS"]]
        strings: list[bytes] = []
        truncated: list[bool] = []
        if len(raw) > _STRINGS_OFFSET:
            for index, length in enumerate(string_lens):
                if not length:
                    break
                start = _STRINGS_OFFSET + index * _STRING_LEN
                strings.append(raw[start : start + length].split(b"\0", 1)[0])
                truncated.append(length >= _STRING_LEN)
        addr = raw[_ADDR_OFFSET : _ADDR_OFFSET + addr_len] if addr_len else b""
        args = tuple(fields[4:args_end])
        fd_targets = tuple(
            (index, target)
            for index in self._fd_args.get(slot, ())
            if (target := fds.resolve(tgid, _fd_number(args[index]))) is not None
        )
        return SampleEvent(
            exit_ns=fields[0],
            duration_ns=fields[1],
            cgroup_id=fields[2],
            ret=fields[3],
            args=tuple(fields[4:args_end]),
            tgid=tgid,
            tid=tid,
            uid=uid,
            cpu=event_cpu,
            slot=slot,
            timed=bool(timed),
            comm=comm_text(fields[args_end + 6]),
            reasons=reasons,
            strings=tuple(strings),
            truncated=tuple(truncated),
            addr=addr,
            argv_more=bool(payload_flags & _C["PAYLOAD_ARGV_MORE"]),
            fd_targets=fd_targets,
        )

    def _on_lost(self, lost: int) -> None:
        self._lost_samples += lost

    def poll(self, timeout_s: float) -> None:
        """Wait up to `timeout_s` for sampled events (or just sleep when sampling is off)."""
        if self._loaded is not None and self._events_on:
            self._loaded.poll_perf_buffers(max(int(timeout_s * 1000), 0))
        else:
            time.sleep(max(timeout_s, 0.0))
        # Under heavy churn the map would fill within one interval: make room as we go, as far
        # as memory allows (past that, the map fills and drops are counted).
        self._exits_since_take += self._exits_since_last_poll()
        exits = self._exits_since_take
        filling = exits > 0 and exits * self._pairs_per_exit >= self._early_take_mark
        room = len(self._departed) < self.config.proc_map_entries
        if filling and room:
            self._take_gone_early()

    # -- reading the maps -------------------------------------------------------------------

    def read(self) -> RawReading:
        """Read every map once and return the cumulative counters."""
        assert self._stats_reader and self._proc_reader and self._errno_reader
        assert self._loss_reader
        self._reads += 1
        monotonic_ns = time.monotonic_ns()
        wall_time = time.time()
        if self._flush_fd is not None and self.config.timed:
            # The cached pairs' interval maxima go to their entries under the epoch they
            # belong to (a flush after the advance would find newer ones there).
            self._flush_cached_calls(self._flush_fd)
        closed = self._advance_epoch()
        syscalls = self._with_fine_hists(self._read_syscalls(closed))
        unhistogrammed = (
            frozenset(
                slot
                for slot, counters in syscalls.items()
                if counters.latency_sum_ns and not counters.fine_hist
            )
            if self.config.timed
            else frozenset()
        )
        errnos = self._read_errnos()
        processes, exited = self._read_processes(closed)
        cgroup_paths = self._cgroups.paths_of({entry.cgroup_id for entry in processes.values()})
        loss = self._read_loss()
        if self._events_on and self._loaded is not None:
            self._loaded.consume_perf_buffers()  # what has not reached a wakeup batch yet
        fds = FdResolver(exited)
        samples = tuple(self._decode_sample(raw, fds) for raw in self._take_events())
        captures = self._read_captures()
        inflight = self._read_inflight()
        return RawReading(
            monotonic_ns=monotonic_ns,
            wall_time=wall_time,
            syscalls=syscalls,
            errnos=errnos,
            processes=processes,
            loss=loss,
            samples=samples,
            inflight=inflight,
            exited=exited,
            captures=captures,
            cgroup_paths=cgroup_paths,
            unhistogrammed=unhistogrammed,
        )

    def _take_events(self) -> list[bytes]:
        """Return this read's events in time order: every capture (up to a bound), the newest
        samples; what is left out is counted."""
        events, self._events = self._events, []
        if self._samples_kept is None:
            kept = events
        else:
            captures = [raw for raw in events if raw[_SAMPLE_SIZE] != REASON_SAMPLED]
            samples = [raw for raw in events if raw[_SAMPLE_SIZE] == REASON_SAMPLED]
            kept = captures[-CAPTURES_KEPT_PER_READ:] + samples[-self._samples_kept :]
            self._events_dropped += len(events) - len(kept)
        return sorted(kept, key=lambda raw: int.from_bytes(raw[:8], "little"))

    def _read_captures(self) -> dict[int, CaptureCounts]:
        """Return each syscall's capture candidates, sent and suppressed, summed over CPUs."""
        if self._budget_reader is None:
            return {}
        keys, values, count = self._budget_reader.read()
        if values == self._prev_budgets[0]:
            return self._prev_budgets[1]  # no call was a capture candidate since the last read
        words = memoryview(values).cast("Q")
        found: dict[int, CaptureCounts] = {}
        slot_bytes = 8 * _BUDGET_WORDS * self._cpus
        for index in range(count):
            if values.count(0, index * slot_bytes, (index + 1) * slot_bytes) == slot_bytes:
                continue  # never a candidate: most syscalls
            base = index * _BUDGET_WORDS * self._cpus
            sums = [
                sum(words[base + cpu * _BUDGET_WORDS + 2 + k] for cpu in range(self._cpus))
                for k in range(_C["CAPTURE_COUNTERS"])
            ]
            if any(sums):
                slot = int.from_bytes(keys[4 * index : 4 * index + 4], "little")
                found[slot] = CaptureCounts(*sums)
        self._prev_budgets = (values, found)
        return found

    def _advance_epoch(self) -> int:
        """Start the next read epoch; return the one that closes (the interval's maxima are
        filed under it, and under the new one for calls that ended since the turn)."""
        closed = self._epoch
        self._epoch += 1
        assert self._loaded is not None
        self._loaded.update("read_epoch", struct.pack("<I", 0), struct.pack("<Q", self._epoch))
        return closed

    def _with_fine_hists(self, syscalls: dict[int, CallCounters]) -> dict[int, CallCounters]:
        """Add each syscall's fine histogram, summed over CPUs (the kernel hands a syscall
        its row at its first timed call). A syscall whose counters did not change since the
        last read gets the same enriched object back: no lookup, and the model sees it idle."""
        if self._fine_reader is None or self._row_reader is None:
            return syscalls
        rowless = [s for s, c in syscalls.items() if c.latency_sum_ns and s not in self._row_of]
        if rowless and len(self._row_of) < self.config.hist_rows:
            keys, values, count = self._row_reader.read()
            for index, plus_one in enumerate(memoryview(values[: 8 * count]).cast("Q")):
                if plus_one:
                    slot_of_row = int.from_bytes(keys[4 * index : 4 * index + 4], "little")
                    self._row_of[slot_of_row] = plus_one - 1
        found = dict(syscalls)
        for slot, counters in syscalls.items():
            known = self._with_fine.get(slot)
            if known is not None and known[0] is counters:
                found[slot] = known[1]  # unchanged since the last read (bcc_source reuses it)
                continue
            row = self._row_of.get(slot)
            raw = self._fine_reader.lookup(row.to_bytes(4, "little")) if row is not None else None
            if raw is None:
                continue
            words = memoryview(raw).cast("Q")
            per_cpu = [words[cpu * _FINE : (cpu + 1) * _FINE] for cpu in range(self._cpus)]
            fine = tuple(map(sum, zip(*per_cpu, strict=True)))
            found[slot] = counters._replace(latency_hist=fine_to_log2(fine, _HIST), fine_hist=fine)
            self._with_fine[slot] = (counters, found[slot])
        return found

    def _read_syscalls(self, closed: int) -> dict[int, CallCounters]:
        assert self._stats_reader is not None
        keys, values, count = self._stats_reader.read()
        slot_bytes = 8 * _STATS_WORDS * self._cpus
        words = memoryview(values).cast("Q")
        current: dict[int, CallCounters] = {}
        raw_by_slot: list[bytes] = []
        for index in range(count):
            slot = int.from_bytes(keys[4 * index : 4 * index + 4], "little")
            raw = values[index * slot_bytes : (index + 1) * slot_bytes]
            raw_by_slot.append(raw)
            if index < len(self._prev_stats_raw) and self._prev_stats_raw[index] == raw:
                # Unchanged since the last read: reuse its counters (or it is still all zero).
                if slot in self._prev_stats:
                    current[slot] = self._prev_stats[slot]
                continue
            if raw.count(0) == len(raw):
                continue
            base = index * _STATS_WORDS * self._cpus
            per_cpu = [
                words[base + cpu * _STATS_WORDS : base + (cpu + 1) * _STATS_WORDS]
                for cpu in range(self._cpus)
            ]
            errors = sum(cpu[1] for cpu in per_cpu)
            if errors:  # a syscall that never failed has no errno in its lines
                cached: dict[tuple[int, int], int] = {}
                for cpu in per_cpu:
                    if cpu[_STATS_ERRNO_CACHE]:
                        pair = (slot, cpu[_STATS_ERRNO_CACHE] >> _ERRNO_CACHE_SHIFT)
                        count_here = cpu[_STATS_ERRNO_CACHE] & _ERRNO_CACHE_COUNT
                        cached[pair] = cached.get(pair, 0) + count_here
                self._errnos_in_stats[slot] = cached
            current[slot] = CallCounters(
                count=sum(cpu[0] for cpu in per_cpu),
                errors=errors,
                latency_sum_ns=sum(cpu[2] for cpu in per_cpu),
                latency_max_ns=max(cpu[3] for cpu in per_cpu),
                latency_hist=_NO_HIST,  # from the fine row (_with_fine_hists), where it has one
                interval_max_ns=max(
                    cpu[_STATS_INTERVAL_MAX] if cpu[_STATS_MAX_EPOCH] >= closed else 0
                    for cpu in per_cpu
                ),
            )
        self._prev_stats_raw = raw_by_slot
        self._prev_stats = current
        return current

    def _read_errnos(self) -> dict[tuple[int, int], int]:
        """Return the count of each (syscall, errno): the errno_counts map plus what each
        CPU counted in its syscall_stats line (read just before, by _read_syscalls)."""
        assert self._errno_reader is not None
        keys, values, count = self._errno_reader.read()
        found: dict[tuple[int, int], int] = {}
        for index in range(count):
            slot, value = struct.unpack_from("<II", keys, 8 * index)
            (found[(slot, value)],) = struct.unpack_from("<Q", values, 8 * index)
        for cached in self._errnos_in_stats.values():
            for pair, count_here in cached.items():
                found[pair] = found.get(pair, 0) + count_here
        # A CPU makes its pair's entry (count 0) just after counting it in its line: read
        # between the two, the pair has no count yet, and is left for the next read.
        return {pair: total for pair, total in found.items() if total}

    def _read_processes(
        self, closed: int
    ) -> tuple[dict[tuple[int, int], ProcessCallCounters], frozenset[int]]:
        """Return every (tgid, slot) entry, and the tgids found gone (taken out of the map)."""
        assert self._proc_reader is not None
        # Listed as ended before the read below: their entries in it are final.
        ask_proc = self._collect_ended() or self._reads % GONE_RECHECK_READS == 1
        self._proc_check_due = False  # asked below
        keys, values, count = self._read_proc_map()
        self._exits_since_take = 0  # the take below finds every process gone by now
        self._early_take_mark = max(self.config.proc_map_entries - count, 0) // EARLY_TAKE_SHARE
        # What was taken between reads shares with this read, then the next one starts afresh.
        shared, self._shared = self._shared, _SharedParts()
        pairs = list(struct.iter_unpack("<II", keys))  # (tgid, slot) of each entry, in order
        tgids = {tgid for tgid, _ in pairs}
        ended, self._ended = self._ended & tgids, set()  # every one is taken below
        found_gone = _gone_from_proc(tgids - ended) if ask_proc else set()
        if found_gone:
            # Found gone after the read above: read again, so the entries taken are final.
            gone = self._take_gone(ended | found_gone, shared, closed=closed)
        else:
            gone = self._take_gone(ended, shared, closed=closed, reading=(keys, values))
        if not gone:
            self._tgids_seen = tgids  # else the take set it from its own, later, read
        gone |= self._departed_tgids
        # Taken out of the map now or between reads: final counts, first in the reading.
        found, self._departed, self._departed_tgids = self._departed, {}, set()
        cache: dict[tuple[int, int], tuple[bytes, ProcessCallCounters]] = {}
        for index, pair in enumerate(pairs):
            if pair[0] in gone:
                continue  # taken just now by _take_gone
            start = index * _PROC_SIZE
            # A bytes slice and memcmp: ten times faster than comparing a memoryview's slice.
            raw = values[start : start + _PROC_SIZE]
            cached = self._proc_cache.get(pair)
            if cached is not None and raw == cached[0]:
                cache[pair] = cached  # unchanged: the same objects
                found[pair] = cached[1]
                continue
            entry = found[pair] = _decode_process(pair, _PROC_STRUCT.unpack(raw), shared, closed)
            cache[pair] = (raw, entry)
        self._proc_cache = cache
        return found, frozenset(gone)

    def _take_gone(
        self,
        gone: set[int],
        shared: _SharedParts,
        budget: int | None = None,
        closed: int | None = None,
        reading: tuple[bytes, bytes] | None = None,
    ) -> set[int]:
        """Take the entries of the processes `gone` out of the map into `_departed`.

        A process that has gone makes no more calls, so a read made after learning so (from
        /proc, or the kernel's list of ended processes) holds its final values: the map is
        read here, unless `reading` is such a read. The entries are then freed with batch
        deletes. At most `budget` entries are taken (the rest wait for the next read).
        Returns the tgids all of whose entries were taken, and keeps the tgids this read saw
        for the next early take.
        """
        assert self._proc_reader is not None
        if not gone:
            return gone
        keys, values = reading if reading is not None else self._read_proc_map()[:2]
        key_words = memoryview(keys).cast("I")  # tgid, slot, tgid, slot, …
        tgids = key_words[::2]
        wanted = [index for index, tgid in enumerate(tgids) if tgid in gone]
        cut = budget is not None and len(wanted) > budget
        left: set[int] = set()
        if cut:
            left = {tgids[index] for index in wanted[budget:]}
            wanted = wanted[:budget]
        # Between reads, the epoch running now is the one the next read closes.
        epoch = self._epoch if closed is None else closed
        taken: list[bytes] = []
        departed, cache, unpack = self._departed, self._proc_cache, _PROC_STRUCT.unpack_from
        for index in wanted:
            pair = (tgids[index], key_words[2 * index + 1])
            departed[pair] = _decode_process(
                pair, unpack(values, index * _PROC_SIZE), shared, epoch
            )
            cache.pop(pair, None)
            taken.append(keys[8 * index : 8 * index + 8])
        self._proc_reader.delete(b"".join(taken))
        if not cut:  # what a gone process leaves in the map, for when to take early
            measured = max(len(wanted) / len(gone), 1.0)  # every process leaves one or more
            self._pairs_per_exit = (3 * self._pairs_per_exit + measured) / 4
        # For the next early take; gone processes cut off by the budget are looked for again.
        self._tgids_seen = set(tgids) if cut else set(tgids) - gone
        return gone - left

    def _exits_since_last_poll(self) -> int:
        """Return how many processes ended since the last poll slice."""
        assert self._exits_reader is not None
        raw = self._exits_reader.lookup(bytes(4))
        if raw is None:
            return 0
        exits = sum(memoryview(raw).cast("Q"))
        since, self._exits_seen = exits - self._exits_seen, exits
        return since

    def _take_gone_early(self) -> None:
        """Between reads, free a filling map of processes that have gone (their counts are kept).

        Where the kernel lists ended processes, their entries are taken from one read made
        after that list. Elsewhere the processes the last read saw are looked for in /proc
        first: gone now, they made their last call before the one read made here. When none
        has, the map is read for those born since (and read again to take them).
        """
        assert self._proc_reader is not None
        self._exits_since_take = 0  # the ones not reaped yet are taken at the read
        budget = self.config.proc_map_entries - len(self._departed)
        if not self._collect_ended():
            # The kernel listed every end: one read, no /proc.
            if not self._ended:
                return
            keys, values, _ = self._read_proc_map()
            present = self._ended & set(memoryview(keys).cast("I")[::2])
            taken = self._take_gone(present, self._shared, budget, reading=(keys, values))
            self._departed_tgids |= taken
            self._ended = present - taken  # the rest are in the map no more
            return
        gone = _gone_from_proc(self._tgids_seen)
        if not gone:
            # None of those has gone: look at the processes born since (then read again).
            keys, _, _ = self._read_proc_map()
            self._tgids_seen = {tgid for tgid, _ in struct.iter_unpack("<II", keys)}
            gone = _gone_from_proc(self._tgids_seen)
            if not gone:
                return
        self._departed_tgids |= self._take_gone(gone, self._shared, budget)

    def _read_proc_map(self) -> tuple[bytes, bytes, int]:
        """Read proc_stats whole, once every CPU's cached calls are in it."""
        assert self._proc_reader is not None
        if self._flush_fd is not None:
            self._flush_cached_calls(self._flush_fd)
        return self._proc_reader.read()

    def _flush_cached_calls(self, prog_fd: int) -> None:
        """Add the calls each CPU caches (cpu_state.pending) to their proc_stats entries."""
        error = _run_on_every_cpu(prog_fd)
        if error and self._loaded is not None and self.pair_cache == "on":
            # No more caching: no pair is cached anew, and a jump in task_ends no cache has
            # seen ends the use of those cached now (what they hold goes at a flush that works).
            self._loaded.update("cache_on", bytes(4), bytes(8))
            ends = self._loaded.reader("task_ends", 4, 8, 1).lookup(bytes(4)) or bytes(8)
            jumped = (int.from_bytes(ends, "little") + _ENDS_JUMP) % 2**64
            self._loaded.update("task_ends", bytes(4), jumped.to_bytes(8, "little"))
            self.pair_cache = _cache_off(error)

    def _start_pair_cache(self, loaded: _Loaded) -> None:
        """Turn the per-CPU pair cache on where user space can flush every CPU."""
        try:
            prog_fd = loaded.load_raw_tracepoint(FLUSH_PROGRAM)
        except BpfLoadFailed as refused:
            self.pair_cache = f"off ({refused})"
            return
        error = _run_on_every_cpu(prog_fd)
        if error:
            self.pair_cache = _cache_off(error)
            return
        self._flush_fd = prog_fd
        loaded.update("cache_on", bytes(4), struct.pack("<Q", 1))
        self.pair_cache = "on"

    def _collect_ended(self) -> bool:
        """Add the processes the kernel listed as ended since the last call to `_ended`;
        return whether /proc must be asked as well (the kernel lists none, or some did not
        fit its list)."""
        if self._ended_reader is None:
            return True
        assert self._ended_dropped_reader is not None  # made with the list's reader
        keys, _, count = self._ended_reader.read()
        if count:
            self._ended_reader.delete(keys)
            self._ended.update(memoryview(keys).cast("I"))
        raw = self._ended_dropped_reader.lookup(bytes(4))
        dropped = int.from_bytes(raw, "little") if raw is not None else 0
        if dropped != self._ended_dropped_seen:
            self._ended_dropped_seen = dropped
            self._proc_check_due = True
        return self._proc_check_due

    def _read_loss(self) -> LossCounters:
        assert self._loss_reader is not None
        keys, values, count = self._loss_reader.read()
        words = memoryview(values).cast("Q")
        totals = [0] * _C["LOSS_SLOTS"]
        for index in range(count):
            slot = int.from_bytes(keys[4 * index : 4 * index + 4], "little")
            totals[slot] = sum(words[index * self._cpus : (index + 1) * self._cpus])
        return LossCounters(
            # Both never reached us: the ring was full, or the kernel's event budget said no.
            lost_samples=self._lost_samples + totals[_C["LOSS_SAMPLES_THROTTLED"]],
            proc_map_full=totals[_C["LOSS_PROC_MAP_FULL"]],
            errno_map_full=totals[_C["LOSS_ERRNO_MAP_FULL"]],
            untimed_exits=totals[_C["LOSS_UNTIMED_EXITS"]],
            inflight_map_full=totals[_C["LOSS_INFLIGHT_MAP_FULL"]],
            stale_cpu_state=totals[_C["LOSS_STALE_CPU_STATE"]],
            events_dropped=self._events_dropped,
            samples_throttled=totals[_C["LOSS_SAMPLES_THROTTLED"]],
        )

    def _read_inflight(self) -> tuple[InflightCall, ...]:
        """Return the threads inside a syscall now: parked by BPF, or blocked since start."""
        assert self._inflight_reader is not None
        if not self.config.timed:
            return ()  # the counts tier watches no entries: nothing is known to be in flight
        keys, values, count = self._inflight_reader.read()
        calls: list[InflightCall] = []
        gone: list[int] = []
        # A thread that ends takes its parked state with it (sched_process_exit): /proc is
        # asked whether each still lives only every BLOCKED_RECHECK_READS reads, as a net (a
        # pool of 2,000 waiting threads was 2,000 stats a read).
        check = self._reads % BLOCKED_RECHECK_READS == 0
        for index in range(count):
            (tid,) = struct.unpack_from("<I", keys, 4 * index)
            enter_ns, tgid, slot, _flags, _ = struct.unpack_from(
                _INFLIGHT_FORMAT, values, _INFLIGHT_SIZE * index
            )
            if check and not _thread_lives(tid):
                gone.append(tid)  # ended with no exit event: free its entry
                continue
            calls.append(InflightCall(tid, tgid, slot, enter_ns))
        if gone:
            assert self._loaded is not None
            delete, fd = _lib().bpf_delete_elem, self._loaded.map_fds["inflight"]
            for tid in gone:
                delete(fd, struct.pack("<I", tid))  # ENOENT: its exit took it meanwhile
        if self._reads == RESCAN_AT_READ:
            # Threads that blocked after the scan beside the compile but before the programs
            # attached: the kernel saw them enter nothing. After the first frame, off its path.
            self._blocked_at_start = {**self._scan_blocked(), **self._blocked_at_start}
        if self._blocked_at_start:
            self._blocked_at_start = self._still_blocked({call.tid for call in calls})
        calls.extend(self._blocked_at_start.values())  # the filters were applied at start
        return self._enrich_inflight(calls)

    def _still_blocked(self, seen: set[int]) -> dict[int, InflightCall]:
        """Return the threads found blocked at start that still wait in that call.

        A thread the kernel saw leave a call it entered before the programs were attached
        is in unseen_exits; one that entered a call since is in `seen`. The rest wait on:
        no /proc read per thread per read (a server's pool of 2,000 idle threads cost 3.7%
        of a core that way). /proc is asked again when the kernel's list may have filled,
        and every BLOCKED_RECHECK_READS reads in case an exit went unseen.
        """
        assert self._unseen_reader is not None
        keys, _, count = self._unseen_reader.read()
        if count:
            self._unseen_reader.delete(keys)
        returned = set(memoryview(keys).cast("I"))
        self._reads_since_recheck += 1
        recheck = (
            count >= _C["UNSEEN_EXIT_ENTRIES"] or self._reads_since_recheck >= BLOCKED_RECHECK_READS
        )
        if recheck:
            self._reads_since_recheck = 0
        return {
            tid: call
            for tid, call in self._blocked_at_start.items()
            if tid not in seen
            and tid not in returned
            and (not recheck or _current_syscall(call.tgid, tid) == call.slot)
        }

    def _enrich_inflight(self, calls: list[InflightCall]) -> tuple[InflightCall, ...]:
        """Name the longest waits from /proc: thread name, wait channel, fd target."""
        fds = FdResolver()
        longest = sorted(calls, key=lambda call: call.enter_ns)[:INFLIGHT_ENRICHED]
        chosen = {call.tid for call in longest}
        enriched = []
        # A call still waiting since the last read waits on the same thing: named once.
        known, self._enriched = self._enriched, {}
        for call in calls:
            if call.tid not in chosen:
                enriched.append(call)
                continue
            named = known.get((call.tid, call.enter_ns, call.slot))
            if named is not None:
                enriched.append(named)
                self._enriched[(call.tid, call.enter_ns, call.slot)] = named
                continue
            task = f"/proc/{call.tgid}/task/{call.tid}"
            target = ""
            if self._fd_args.get(call.slot):
                fd = _first_arg(task)
                found = fds.resolve(call.tgid, fd) if fd is not None else None
                target = f"{fd}<{found}>" if found else ""
            wchan = _read_text(f"{task}/wchan", 40)
            named = replace(
                call,
                thread=_read_text(f"{task}/comm", 32),
                wchan="" if wchan == "0" else wchan,  # "0": running, not waiting
                target=target,
            )
            enriched.append(named)
            if named.wchan:  # a call found running is looked at again at the next read
                self._enriched[(call.tid, call.enter_ns, call.slot)] = named
        return tuple(enriched)

    def _wanted(self, tgid: int, tid: int, slot: int) -> bool:
        """Apply the pid/tid/syscall filters to a thread found in /proc."""
        filters = self.config.filters
        if filters.pids and tgid not in filters.pids:
            return False
        if filters.tids and tid not in filters.tids:
            return False
        return not self._filter_slots or slot in self._filter_slots

    def _scan_blocked(self) -> dict[int, InflightCall]:
        """Return the threads /proc shows blocked in a syscall that the filters let through."""
        ancestors: dict[int, int | None] = {}  # tgid → its cgroup at the filter's level
        return {
            tid: call
            for tid, call in blocked_threads(
                self.names, time.monotonic_ns(), self.config.filters.pids
            ).items()
            if self._wanted(call.tgid, tid, call.slot)
            and self._passes_task_filters(call, ancestors)
        }

    def _passes_task_filters(self, call: InflightCall, ancestors: dict[int, int | None]) -> bool:
        """Apply the comm, uid and cgroup filters (which the kernel applies to the calls it
        sees) to a thread found blocked in /proc; a process's cgroup is read once into
        `ancestors` (its threads share it)."""
        filters = self.config.filters
        task = f"/proc/{call.tgid}/task/{call.tid}"
        if filters.comm is not None:
            try:
                with open(f"{task}/comm", "rb") as comm_file:
                    comm = comm_file.read().removesuffix(b"\n")
            except OSError:
                return False
            if comm != os.fsencode(filters.comm)[:15]:  # as the kernel compares it
                return False
        if filters.uid is not None and _real_uid(f"{task}/status") != filters.uid:
            return False
        if filters.cgroup_id is not None and filters.cgroup_level is not None:
            if call.tgid not in ancestors:
                ancestors[call.tgid] = _ancestor_cgroup(
                    self._cgroups.root, call.tgid, filters.cgroup_level
                )
            if ancestors[call.tgid] != filters.cgroup_id:
                return False
        return True


class _Compile(threading.Thread):
    """Compile a program with BCC on a thread: clang runs in a C call that lets go of the GIL,
    so what start-up does meanwhile costs no time."""

    def __init__(self, text: str) -> None:
        super().__init__(name="compile", daemon=True)
        self._text = text
        self._bpf: Any = None
        self.error: Exception | None = None

    def run(self) -> None:
        try:
            from bcc import BPF

            self._bpf = BPF(text=self._text.encode())
        except Exception as error:  # bcc raises bare Exception on compile/load errors
            self.error = error

    def discard(self) -> None:
        """Free what the compile made (its maps): start-up failed before anything loaded."""
        bpf, self._bpf = self._bpf, None
        if bpf is not None:
            bpf.cleanup()

    def take_image(self) -> ProgramImage:
        """Return what the compile made as an image, and free BCC's copy (its maps, LLVM's
        module): the image is loaded like a cached one."""
        bpf, self._bpf = self._bpf, None
        try:
            return _image_from_module(bpf.module)
        finally:
            bpf.cleanup()


@functools.cache
def _libbcc() -> Any:
    """Return libbcc (the compiler's library: a compile has loaded it), with the module
    calls bcc's bindings leave out declared."""
    from bcc.libbcc import lib

    size, name, fd = ct.c_size_t, ct.c_char_p, ct.c_int
    for function, restype, argtypes in (
        ("bpf_num_tables", size, [ct.c_void_p]),
        ("bpf_table_name", name, [ct.c_void_p, size]),
        ("bpf_table_fd_id", fd, [ct.c_void_p, size]),
        ("bpf_table_key_size_id", size, [ct.c_void_p, size]),
        ("bpf_table_leaf_size_id", size, [ct.c_void_p, size]),
    ):
        declared = getattr(lib, function)
        declared.restype, declared.argtypes = restype, argtypes
    return lib


# The perf reader's callbacks, as libbcc_bpf calls them (cookie, data, size) and (cookie, lost).
_RAW_CALLBACK = ct.CFUNCTYPE(None, ct.py_object, ct.c_void_p, ct.c_int)
_LOST_CALLBACK = ct.CFUNCTYPE(None, ct.py_object, ct.c_ulonglong)


class _PerfBufferOptions(ct.Structure):
    """struct bcc_perf_buffer_opts."""

    _fields_ = [("pid", ct.c_int), ("cpu", ct.c_int), ("wakeup_events", ct.c_int)]


@functools.cache
def _lib() -> Any:
    """Return libbcc_bpf: BCC's map, program and perf buffer calls without its compiler
    (libbcc itself maps 60 MB of LLVM), with the prototypes of the calls made declared."""
    try:
        lib = ct.CDLL("libbcc_bpf.so.0", use_errno=True)
    except OSError as error:
        raise BpfLoadFailed(
            f"cannot load BCC's libbcc_bpf.so.0 ({error}); install libbpfcc"
        ) from None
    i32, u32p, ptr, name = ct.c_int, ct.POINTER(ct.c_uint32), ct.c_void_p, ct.c_char_p
    for function, restype, argtypes in (
        ("bcc_create_map", i32, [i32, name, i32, i32, i32, i32]),
        ("bcc_prog_load", i32, [i32, name, ptr, i32, name, ct.c_uint, i32, name, ct.c_uint]),
        ("bpf_attach_raw_tracepoint", i32, [i32, name]),
        ("bpf_lookup_elem", i32, [i32, ptr, ptr]),
        ("bpf_update_elem", i32, [i32, ptr, ptr, ct.c_ulonglong]),
        ("bpf_delete_elem", i32, [i32, ptr]),
        ("bpf_lookup_batch", i32, [i32, u32p, u32p, ptr, ptr, ptr]),
        ("bpf_delete_batch", i32, [i32, ptr, ptr]),
        (
            "bpf_open_perf_buffer_opts",
            ptr,
            [_RAW_CALLBACK, _LOST_CALLBACK, ct.py_object, i32, ct.POINTER(_PerfBufferOptions)],
        ),
        ("perf_reader_poll", i32, [i32, ct.POINTER(ptr), i32]),
        ("perf_reader_consume", i32, [i32, ct.POINTER(ptr)]),
        ("perf_reader_free", None, [ptr]),
        ("perf_reader_fd", i32, [ptr]),
    ):
        declared = getattr(lib, function)
        declared.restype, declared.argtypes = restype, argtypes
    return lib


def _image_from_module(module: int) -> ProgramImage:
    """Return a compiled BCC module's maps and functions, map references by name."""
    lib = _libbcc()
    maps = []
    name_of_fd: dict[int, str] = {}
    for index in range(lib.bpf_num_tables(module)):
        name = lib.bpf_table_name(module, index).decode()
        name_of_fd[lib.bpf_table_fd_id(module, index)] = name
        maps.append(
            MapSpec(
                name,
                lib.bpf_table_type_id(module, index),
                lib.bpf_table_key_size_id(module, index),
                lib.bpf_table_leaf_size_id(module, index),
                lib.bpf_table_max_entries_id(module, index),
                lib.bpf_table_flags_id(module, index),
            )
        )
    functions = []
    for index in range(lib.bpf_num_functions(module)):
        name = lib.bpf_function_name(module, index)
        start, size = lib.bpf_function_start(module, name), lib.bpf_function_size(module, name)
        insns = bytearray(ct.string_at(start, size))
        refs = []
        for at, map_fd in map_refs_of(bytes(insns)):
            if map_fd not in name_of_fd:
                raise BpfLoadFailed(f"{name.decode()} names a map BCC did not declare")
            refs.append((at, name_of_fd[map_fd]))
            insns[at * INSN_SIZE + 4 : at * INSN_SIZE + 8] = bytes(4)  # filled at load
        functions.append(FunctionImage(name.decode(), bytes(insns), tuple(refs)))
    license_text = lib.bpf_module_license(module).decode()
    return ProgramImage(tuple(maps), tuple(functions), license_text)


def _verifier_said(lines: list[str]) -> str:
    """Return the verifier's last words on a refused program (after its log), or nothing."""
    said = [line.strip() for line in lines if line.strip()]
    said = [line for line in said if not line.startswith(("processed ", "HINT:"))]
    return f": {safe_text(said[-1])[:300]}" if said else ""


class _Loaded:
    """One image in the kernel: its maps, programs, links and perf buffers, all closed by
    close(); loaded with libbcc's calls (no compile, no BCC module)."""

    def __init__(self, image: ProgramImage, constants: dict[int, int]) -> None:
        self.image = image
        self.constants = constants  # placeholder immediates → this load's values
        self.map_fds: dict[str, int] = {}
        self.attached: list[str] = []  # tracepoints (:program) with a raw_tp program, in order
        self._fds: list[int] = []  # programs and links, closed links first (last made)
        self._readers: list[int] = []
        self._reader_array: Any = None
        self._callbacks: list[Any] = []  # ctypes callbacks must outlive their readers

    def create_maps(self) -> None:
        """Create every map of the image."""
        create = _lib().bcc_create_map
        for spec in self.image.maps:
            fd = create(
                spec.map_type,
                spec.name.encode(),
                spec.key_size,
                spec.value_size,
                spec.max_entries,
                spec.flags,
            )
            if fd < 0:
                raise BpfLoadFailed(
                    f"cannot create the {spec.name} map: {os.strerror(ct.get_errno())}"
                )
            self.map_fds[spec.name] = fd

    def reader(
        self, map_name: str, key_size: int, entry_size: int, max_entries: int
    ) -> _BatchReader:
        """Return a batch reader of a map the source reads as `key_size`/`entry_size` bytes
        (all CPUs' values of a per-CPU map); an image whose map differs is refused."""
        self.check(map_name, key_size, entry_size)
        return _BatchReader(self.map_fds[map_name], key_size, entry_size, max_entries)

    def check(self, map_name: str, key_size: int, entry_size: int) -> None:
        """Refuse (BpfLoadFailed) an image without this map, or with it of another shape."""
        spec = next((spec for spec in self.image.maps if spec.name == map_name), None)
        copies = _possible_cpus() if spec is not None and spec.map_type in _PERCPU_TYPES else 1
        if spec is None or (spec.key_size, spec.value_size * copies) != (key_size, entry_size):
            raise BpfLoadFailed(f"the program image has no {map_name} map of the size read")

    def update(self, map_name: str, key: bytes, value: bytes) -> None:
        """Write one entry of a map (BPF_ANY); key and value are its exact sizes (the kernel
        copies as many bytes as the map says, whatever the buffer holds)."""
        spec = next(spec for spec in self.image.maps if spec.name == map_name)
        if (len(key), len(value)) != (spec.key_size, spec.value_size):
            raise ValueError(
                f"{map_name}: a {len(key)}/{len(value)}-byte entry, "
                f"not {spec.key_size}/{spec.value_size}"
            )
        if _lib().bpf_update_elem(self.map_fds[map_name], key, value, 0) != 0:
            error = ct.get_errno()
            raise OSError(error, f"BPF_MAP_UPDATE_ELEM {map_name}: {os.strerror(error)}")

    def insns(self, name: str) -> bytes:
        """Return function `name`'s instructions with this load's map fds and constants."""
        function = self.image.function(name)
        if function is None:
            raise BpfLoadFailed(f"no {name} in the program")
        return with_fds(function, self.map_fds, self.constants)

    def attach_raw_tracepoint(self, tracepoint: str, program: str = "") -> None:
        """Load `program` (on_<tracepoint> unless given) as a raw tracepoint program and
        attach it; listed in `attached` as the tracepoint, or tracepoint:program."""
        prog_fd = self.load_raw_tracepoint(program or f"on_{tracepoint}")
        link_fd = _lib().bpf_attach_raw_tracepoint(prog_fd, tracepoint.encode())
        if link_fd < 0:
            raise BpfLoadFailed(
                f"cannot attach to the {tracepoint} tracepoint: {os.strerror(ct.get_errno())}"
            )
        self._fds.append(link_fd)
        self.attached.append(f"{tracepoint}:{program}" if program else tracepoint)

    def load_raw_tracepoint(self, name: str) -> int:
        """Load function `name` as a raw tracepoint program; return its fd (closed by close())."""
        insns = self.insns(name)
        prog_fd = _lib().bcc_prog_load(
            _BPF_PROG_TYPE_RAW_TRACEPOINT,
            name.encode(),
            insns,
            len(insns),
            self.image.license.encode(),
            0,
            0,
            None,
            0,
        )
        if prog_fd < 0:
            raise BpfLoadFailed(f"BPF program {name} failed to load: {os.strerror(ct.get_errno())}")
        self._fds.append(prog_fd)
        return int(prog_fd)

    def attach_btf_exit(self, btf_id: int) -> str:
        """Load btf_sys_exit as a BTF-typed raw tracepoint on sys_exit (BTF id `btf_id`) and
        attach it; return why not, or nothing (raw_tp is used then)."""
        name = b"btf_sys_exit"
        if self.image.function(name.decode()) is None:
            return "no btf_sys_exit in the program"
        code = self.insns(name.decode())
        insns = ct.create_string_buffer(code, len(code))
        license_text = ct.create_string_buffer(self.image.license.encode())
        attr = ct.create_string_buffer(_PROG_LOAD_ATTR_SIZE)
        # union bpf_attr, BPF_PROG_LOAD: prog_type, insn_cnt, insns, license, (no log),
        # kern_version, prog_flags, prog_name, prog_ifindex, expected_attach_type;
        # attach_btf_id.
        struct.pack_into(
            "<IIQQIIQII16sII",
            attr,
            0,
            _BPF_PROG_TYPE_TRACING,
            len(code) // INSN_SIZE,
            ct.addressof(insns),
            ct.addressof(license_text),
            0,
            0,
            0,
            0,
            0,
            name,
            0,
            _BPF_TRACE_RAW_TP,
        )
        struct.pack_into("<I", attr, 108, btf_id)
        prog_fd = _bpf_syscall()(_SYS_BPF, _BPF_PROG_LOAD, attr, _PROG_LOAD_ATTR_SIZE)
        if prog_fd < 0:
            return f"tp_btf load refused: {os.strerror(ct.get_errno())}"
        tracepoint_open = _libbpf().bpf_raw_tracepoint_open
        tracepoint_open.argtypes, tracepoint_open.restype = [ct.c_char_p, ct.c_int], ct.c_int
        link_fd = tracepoint_open(None, prog_fd)  # named by the BTF id at load, not here
        if link_fd < 0:
            os.close(prog_fd)
            return f"tp_btf attach refused: {os.strerror(-link_fd)}"
        self._fds.extend((prog_fd, link_fd))
        return ""

    def open_perf_buffer(
        self,
        map_name: str,
        on_event: Callable[[int, Any, int], None],
        on_lost: Callable[[int], None],
        pages: int,
        wakeup_events: int,
    ) -> None:
        """Open a perf buffer on every online CPU, each in `map_name` at its CPU's index."""
        lib = _lib()
        problem = f"cannot open a {pages}-page perf buffer on every CPU"
        if pages <= 0 or pages & (pages - 1):
            raise BpfLoadFailed(f"{problem} (not a power of two); use another --perf-pages")
        for cpu in _cpu_list("/sys/devices/system/cpu/online"):
            # Bound now: each CPU's callbacks know their CPU (a late-binding lambda would not).
            raw = _RAW_CALLBACK(functools.partial(_on_raw, on_event, cpu))
            lost = _LOST_CALLBACK(functools.partial(_on_lost_count, on_lost))
            self._callbacks.append((raw, lost))
            options = _PerfBufferOptions()
            options.pid, options.cpu, options.wakeup_events = -1, cpu, wakeup_events
            reader = lib.bpf_open_perf_buffer_opts(raw, lost, None, pages, ct.byref(options))
            if not reader:
                raise BpfLoadFailed(
                    f"{problem} (CPU {cpu}: {os.strerror(ct.get_errno())}); "
                    "use a smaller --perf-pages"
                )
            self._readers.append(reader)
            self.update(
                map_name, struct.pack("<I", cpu), struct.pack("<I", lib.perf_reader_fd(reader))
            )
        self._reader_array = (ct.c_void_p * len(self._readers))(*self._readers)

    def poll_perf_buffers(self, timeout_ms: int) -> None:
        """Wait up to `timeout_ms` for events, handing each to its callback."""
        if self._readers:
            _lib().perf_reader_poll(len(self._readers), self._reader_array, timeout_ms)
        else:
            time.sleep(timeout_ms / 1000)

    def consume_perf_buffers(self) -> None:
        """Hand over every event waiting in the buffers, woken or not."""
        if self._readers:
            _lib().perf_reader_consume(len(self._readers), self._reader_array)

    def close(self) -> None:
        """Detach and free everything, links first."""
        readers, self._readers = self._readers, []
        for reader in readers:  # none if libbcc_bpf never loaded: close() cannot fail then
            _lib().perf_reader_free(reader)
        fds, self._fds = self._fds, []
        for fd in reversed(fds):
            with contextlib.suppress(OSError):
                os.close(fd)
        map_fds, self.map_fds = self.map_fds, {}
        for fd in map_fds.values():
            with contextlib.suppress(OSError):
                os.close(fd)


def _run_on_cpu(prog_fd: int, cpu: int) -> int:
    """Run a loaded raw tracepoint program once on `cpu` (BPF_PROG_TEST_RUN, in an
    interrupt there unless it is this thread's CPU); return 0 or the errno."""
    if _SYS_BPF is None:
        return errno.ENOSYS
    attr = ct.create_string_buffer(_TEST_RUN_ATTR_SIZE)
    # union bpf_attr, BPF_PROG_TEST_RUN: prog_fd first; flags and cpu at 64 and 68 (no data,
    # no context: the program reads none).
    struct.pack_into("<I", attr, 0, prog_fd)
    struct.pack_into("<II", attr, 64, _BPF_F_TEST_RUN_ON_CPU, cpu)
    if _bpf_syscall()(_SYS_BPF, _BPF_PROG_TEST_RUN, attr, _TEST_RUN_ATTR_SIZE) < 0:
        return ct.get_errno()
    return 0


def _cache_off(error: int) -> str:
    """Say why the pair cache is off: the flush could not run on some CPU."""
    return f"off (BPF_PROG_TEST_RUN: {os.strerror(error)})"


def _run_on_every_cpu(prog_fd: int) -> int:
    """Run a loaded raw tracepoint program once on each online CPU; return the first errno
    (0: it ran on all)."""
    failed = 0
    for cpu in _cpu_list("/sys/devices/system/cpu/online"):
        error = _run_on_cpu(prog_fd, cpu)
        # ENXIO: the CPU went offline after the list was read (what it caches waits there).
        if error and error != errno.ENXIO and not failed:
            failed = error
    return failed


@functools.cache
def _bpf_syscall() -> Any:
    """Return libc's syscall(), typed for bpf(2)."""
    syscall = ct.CDLL(None, use_errno=True).syscall
    syscall.argtypes = [ct.c_long, ct.c_long, ct.c_void_p, ct.c_long]
    syscall.restype = ct.c_long
    return syscall


def _on_raw(
    on_event: Callable[[int, Any, int], None], cpu: int, _: Any, data: Any, size: int
) -> None:
    on_event(cpu, data, size)


def _on_lost_count(on_lost: Callable[[int], None], _: Any, lost: int) -> None:
    on_lost(lost)


@functools.cache
def _libbpf() -> Any:
    """Return the system libbpf (BCC links it), or None; opened once."""
    try:
        return ct.CDLL("libbpf.so.1", use_errno=True)
    except OSError:
        return None


def _exit_btf_id() -> tuple[int, str]:
    """Return the kernel BTF id of the sys_exit tracepoint (a tp_btf target), or 0 and why not.

    libbpf parses the kernel's BTF for it (~50 ms): start() asks beside the compile."""
    if _SYS_BPF is None:
        return 0, f"no tp_btf layout for {os.uname().machine}"
    if not os.path.exists("/sys/kernel/btf/vmlinux"):
        return 0, "no kernel BTF"
    libbpf = _libbpf()
    if libbpf is None:
        return 0, "no libbpf.so.1"
    find = libbpf.libbpf_find_vmlinux_btf_id
    find.argtypes, find.restype = [ct.c_char_p, ct.c_int], ct.c_int
    btf_id = find(b"sys_exit", _BPF_TRACE_RAW_TP)
    if btf_id <= 0:
        return 0, "sys_exit not in kernel BTF"
    return btf_id, ""


class _SharedParts:
    """Equal histograms and comms decoded in one read, shared rather than copied.

    Under churn thousands of short-lived processes make near-identical entries; sharing
    keeps the peak of a busy read low (CPython does not hand that peak back to the system).
    """

    def __init__(self) -> None:
        self.hists: dict[bytes, tuple[int, ...]] = {}
        self.comms: dict[bytes, str] = {}


def _arg_layouts(kinds_by_slot: dict[int, tuple[ArgKind, ...]]) -> dict[int, ArgLayout]:
    """Return the arg_layout entry of each slot whose arguments point at something to read."""
    layouts: dict[int, ArgLayout] = {}
    for slot, kinds in kinds_by_slot.items():
        read = [int(kind) if kind < ArgKind.FD else 0 for kind in kinds]
        if any(read):
            layouts[slot] = arg_layout(read, _C["SYSCALL_ARGS"])
    return layouts


def _gone_from_proc(tgids: Iterable[int]) -> set[int]:
    """Return the tgids no longer in /proc (reaped: they make no more calls)."""
    return {tgid for tgid in tgids if not os.path.exists(f"/proc/{tgid}")}


def _decode_process(
    key: tuple[int, int], fields: tuple[Any, ...], shared: _SharedParts, closed: int
) -> ProcessCallCounters:
    """Decode one proc_stats entry: its (tgid, slot) key and struct proc_stats fields; its
    interval max counts when filed under the epoch `closed` or a later one."""
    tgid, slot = key
    hist = shared.hists.get(fields[10])
    if hist is None:
        hist = shared.hists[fields[10]] = _HIST_STRUCT.unpack(fields[10])
    comm = shared.comms.get(fields[6])
    if comm is None:
        comm = shared.comms[fields[6]] = comm_text(fields[6])
    # tuple.__new__ straight away: a named tuple's own constructor is one more Python call.
    counters = _new_tuple(
        CallCounters,
        (
            fields[0],
            fields[1],
            fields[2],
            fields[3],
            hist,
            fields[8] if fields[9] >= closed else 0,
            (),
        ),
    )
    return _new_tuple(ProcessCallCounters, (tgid, slot, fields[4], comm, counters, fields[7]))


INFLIGHT_ENRICHED = 200
# Threads blocked since start are checked in /proc this often (in reads) in any case.
BLOCKED_RECHECK_READS = 30
# The read that scans /proc again for threads that blocked while the programs were loading.
RESCAN_AT_READ = 3


def _thread_lives(tid: int) -> bool:
    """Return whether thread `tid` exists (as a zombie too)."""
    return os.path.exists(f"/proc/{tid}")


def _read_text(path: str, limit: int) -> str:
    try:
        with open(path, "rb") as source:
            return safe_text(source.read(limit * 4).strip(), limit)
    except OSError:
        return ""


def _real_uid(status_path: str) -> int | None:
    """Return the real uid of a /proc status file (what bpf_get_current_uid_gid reports)."""
    try:
        with open(status_path) as status:
            for line in status:
                if line.startswith("Uid:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def _ancestor_cgroup(root: Path | None, tgid: int, level: int) -> int | None:
    """Return the id (inode) of a process's cgroup v2 ancestor at `level` (0: the root)."""
    if root is None:
        return None
    try:
        with open(f"/proc/{tgid}/cgroup") as cgroups:
            path = next((line[3:].strip() for line in cgroups if line.startswith("0::")), None)
        if path is None:
            return None
        parts = [part for part in path.split("/") if part]
        if len(parts) < level:
            return None
        return os.stat(root.joinpath(*parts[:level])).st_ino
    except OSError:
        return None


def _first_arg(task: str) -> int | None:
    """Return the first argument of the syscall a thread is blocked in (/proc/TID/syscall)."""
    try:
        with open(f"{task}/syscall") as source:
            fields = source.read().split()
        return _fd_number(int(fields[1], 16)) if len(fields) > 1 else None
    except (OSError, ValueError):
        return None


MADV_PAGEOUT = 21  # linux/mman.h, since 5.4
COMPILER_LIBRARIES = ("libLLVM", "libclang")


def _release_compiler_memory() -> None:
    """Hand back what the compile used: clang's heap (about 20 MB; glibc keeps freed memory
    for reuse, and nothing here will need that much again) and the pages of clang and LLVM
    themselves (85 MB of a 148 MB dashboard)."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ct.CDLL("libc.so.6", use_errno=True)
        libc.malloc_trim(0)
        madvise = libc.madvise
        madvise.argtypes = (ct.c_void_p, ct.c_size_t, ct.c_int)
        for start, end in _compiler_mappings():
            # A hint to reclaim: clean file pages are dropped, and fault back in from the
            # page cache if ever used again; written ones (relocations) stay. Never
            # MADV_DONTNEED: that would throw away what relocation wrote.
            madvise(start, end - start, MADV_PAGEOUT)


def _compiler_mappings() -> list[tuple[int, int]]:
    """Return the address ranges of clang's and LLVM's libraries in this process."""
    found = []
    with open("/proc/self/maps") as maps:
        for line in maps:
            fields = line.split()
            if len(fields) > 5 and os.path.basename(fields[5]).startswith(COMPILER_LIBRARIES):
                start, end = (int(part, 16) for part in fields[0].split("-"))
                found.append((start, end))
    return found


def _exec_start_ms(path: str) -> float | None:
    """Return se.exec_start of a /proc/.../sched file: the scheduler clock at its last run."""
    try:
        with open(path) as sched:
            for line in sched:
                if line.startswith("se.exec_start"):
                    return float(line.split(":", 1)[1])
    except (OSError, ValueError):
        return None
    return None


def scheduler_clock_offsets() -> dict[int, int]:
    """Return, per CPU, CLOCK_MONOTONIC minus that CPU's scheduler task clock, in ns.

    se.exec_start is the run queue's task clock, which leaves out the IRQ and steal time of
    its CPU since boot: on this VM 0.47 s on one CPU and 0.52 s on the other after 4 hours,
    and more with uptime. Measured by running this thread on each CPU for a moment (its own
    exec_start is then now on that CPU's clock); its affinity is put back after.
    """
    offsets: dict[int, int] = {}
    allowed = os.sched_getaffinity(0)
    try:
        for cpu in sorted(allowed):
            os.sched_setaffinity(0, {cpu})
            time.sleep(0)  # scheduled in on `cpu`: exec_start is set there
            started = _exec_start_ms("/proc/thread-self/sched")
            now_ns = time.monotonic_ns()
            if started is not None:
                offsets[cpu] = now_ns - int(started * 1_000_000)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, allowed)
    return offsets


def _last_ran_cpu(tgid: int, tid: int) -> int | None:
    """Return the CPU a thread last ran on (/proc/TID/stat field 39)."""
    try:
        with open(f"/proc/{tgid}/task/{tid}/stat") as stat_file:
            fields = stat_file.read().rsplit(")", 1)[1].split()
        return int(fields[36])
    except (OSError, ValueError, IndexError):
        return None


def _last_ran_ns(tgid: int, tid: int, offsets: dict[int, int]) -> int | None:
    """Return when a thread last ran (CLOCK_MONOTONIC ns): it has been blocked since about then.

    /proc/TID/sched's se.exec_start is the scheduler clock in ms; a thread blocked in a call
    has not run since, so it is a far better lower bound than "when we first looked". It is
    put on CLOCK_MONOTONIC with the offset of the CPU the thread last ran on.
    """
    started = _exec_start_ms(f"/proc/{tgid}/task/{tid}/sched")
    cpu = _last_ran_cpu(tgid, tid)
    if started is None or cpu is None or cpu not in offsets:
        return None
    return int(started * 1_000_000) + offsets[cpu]


def _current_syscall(tgid: int, tid: int) -> int | None:
    """Return the syscall a thread is blocked in (from /proc), or None when it is not."""
    try:
        with open(f"/proc/{tgid}/task/{tid}/syscall", "rb") as status:
            first = status.read().split(b" ", 1)[0]
    except OSError:
        return None
    if not first.lstrip(b"-").isdigit() or first.startswith(b"-"):
        return None  # "running", or -1 (not in a syscall)
    nr = int(first)
    return nr if 0 <= nr < _C["SLOTS_PER_ABI"] else None


def blocked_threads(
    names: SyscallNames, now_ns: int, pids: tuple[int, ...] = ()
) -> dict[int, InflightCall]:
    """Return the threads already blocked in a syscall, seen from /proc, keyed by tid (of
    the processes `pids` only, when given)."""
    found: dict[int, InflightCall] = {}
    own = os.getpid()
    offsets = scheduler_clock_offsets()
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == own:
            continue
        tgid = int(entry.name)
        if pids and tgid not in pids:
            continue
        try:
            # Kernel threads have no executable; their zeroed registers would read as read(2).
            os.readlink(f"/proc/{tgid}/exe")
            tids = [int(name) for name in os.listdir(f"/proc/{tgid}/task")]
        except OSError:
            continue
        for tid in tids:
            nr = _current_syscall(tgid, tid)
            if nr is not None:
                # /proc reports the task's own ABI; a compat task is shown with native names.
                since = _last_ran_ns(tgid, tid, offsets)
                enter_ns = since if since is not None and 0 < since <= now_ns else now_ns
                found[tid] = InflightCall(tid, tgid, nr, enter_ns, lower_bound=True)
    return found
