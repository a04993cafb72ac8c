"""The view state: what the user chose, folded from events, and the rows each view shows."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tui.model.names import SyscallNames
from tui.model.readings import CallCounters, LossCounters, ProcessCallCounters, RawReading
from tui.model.snapshot import InflightRow, Snapshot, build_snapshot
from tui.model.view import (
    HOME,
    FailuresToggled,
    FilterChanged,
    IntervalChanged,
    PauseToggled,
    View,
    ViewClosed,
    ViewKind,
    ViewOpened,
    ViewState,
    error_rows,
    fold,
    is_flagged_pid,
    is_flagged_slot,
    longer_interval,
    profile_target,
    shorter_interval,
    text_matches,
    view_note,
    visible_inflight,
    visible_processes,
    visible_syscalls,
)

NAMES = SyscallNames("x86_64")
GETPPID, OPENAT, READ, FUTEX = 110, 257, 0, 202


def counters(count: int, errors: int = 0) -> CallCounters:
    hist = [0] * 32
    hist[10] = count
    return CallCounters(count, errors, count * 1024, 1024, tuple(hist))


def reading(at_s: float, calls: dict[tuple[int, str, int], tuple[int, int]], errnos=None):
    """Return a reading from {(pid, comm, slot): (count, errors)}."""
    syscalls: dict[int, list[int]] = {}
    processes = {}
    for (pid, comm, slot), (count, errors) in calls.items():
        processes[(pid, slot)] = ProcessCallCounters(pid, slot, 0, comm, counters(count, errors))
        total = syscalls.setdefault(slot, [0, 0])
        total[0] += count
        total[1] += errors
    return RawReading(
        monotonic_ns=int(at_s * 1e9),
        wall_time=1000.0 + at_s,
        syscalls={slot: counters(c, e) for slot, (c, e) in syscalls.items()},
        errnos=errnos or {},
        processes=processes,
        loss=LossCounters(),
    )


@pytest.fixture
def snapshot() -> Snapshot:
    """Three processes: dd reads, nginx fails openat with ENOENT, redis fails futex."""
    calls = {
        (100, "dd", READ): (1000, 0),
        (100, "dd", GETPPID): (5, 0),
        (200, "nginx", OPENAT): (50, 30),
        (200, "nginx", READ): (10, 0),
        (300, "redis-server", FUTEX): (40, 4),
    }
    first = reading(0.0, {key: (0, 0) for key in calls})
    second = reading(1.0, calls, {(OPENAT, 2): 30, (FUTEX, 110): 4})
    return build_snapshot(first, second, NAMES)


def labels(rows) -> set[str]:
    return {row.label for row in rows}


def pids(rows) -> set[int]:
    return {row.pid for row in rows}


def test_fold_filter_failures_pause_and_interval() -> None:
    state = ViewState(interval_s=1.0)
    state = fold(state, FilterChanged("nginx"))
    assert state.filter_text == "nginx"
    state = fold(fold(state, FailuresToggled()), PauseToggled())
    assert state.failures_only and state.paused
    state = fold(state, FailuresToggled())
    assert not state.failures_only
    assert fold(state, IntervalChanged(2.0)).interval_s == 2.0
    assert view_note(state) == "/nginx"
    assert view_note(fold(state, FailuresToggled())) == "/nginx, failures only"
    assert view_note(ViewState()) == ""


def test_view_stack_opens_and_closes_but_never_below_home() -> None:
    state = ViewState()
    assert state.current == HOME
    state = fold(state, ViewOpened(View(ViewKind.SYSCALL, OPENAT)))
    state = fold(state, ViewOpened(View(ViewKind.PROCESS, 200)))
    assert state.current == View(ViewKind.PROCESS, 200)
    assert len(state.views) == 3
    state = fold(fold(state, ViewClosed()), ViewClosed())
    assert state.views == (HOME,)
    assert fold(state, ViewClosed()).views == (HOME,)


def test_fold_rejects_what_is_not_an_event() -> None:
    with pytest.raises(TypeError):
        fold(ViewState(), "q")  # type: ignore[arg-type]


def test_interval_steps_stop_at_the_ends() -> None:
    assert longer_interval(1.0) == 2.0 and shorter_interval(1.0) == 0.5
    assert longer_interval(30.0) == 30.0 and shorter_interval(0.25) == 0.25
    assert longer_interval(0.3) == 0.5  # an odd -i value joins the steps


def test_text_matching_is_case_insensitive_and_empty_matches_all() -> None:
    assert text_matches(ViewState(), "anything")
    assert text_matches(ViewState(filter_text="NgI"), "pid", "nginx")
    assert not text_matches(ViewState(filter_text="nginx"), "dd", "100")


def test_no_filter_shows_every_active_syscall_and_process(snapshot: Snapshot) -> None:
    state = ViewState()
    assert labels(visible_syscalls(snapshot, state)) == {"read", "getppid", "openat", "futex"}
    assert pids(visible_processes(snapshot, state)) == {100, 200, 300}


def test_filter_by_syscall_name_keeps_its_callers(snapshot: Snapshot) -> None:
    state = ViewState(filter_text="open")
    assert labels(visible_syscalls(snapshot, state)) == {"openat"}
    assert pids(visible_processes(snapshot, state)) == {200}


def test_filter_by_comm_keeps_the_syscalls_it_calls(snapshot: Snapshot) -> None:
    state = ViewState(filter_text="nginx")
    assert labels(visible_syscalls(snapshot, state)) == {"openat", "read"}
    assert pids(visible_processes(snapshot, state)) == {200}


def test_filter_by_pid(snapshot: Snapshot) -> None:
    state = ViewState(filter_text="300")
    assert labels(visible_syscalls(snapshot, state)) == {"futex"}
    assert pids(visible_processes(snapshot, state)) == {300}


def test_failures_only_hides_rows_without_errors(snapshot: Snapshot) -> None:
    state = ViewState(failures_only=True)
    assert labels(visible_syscalls(snapshot, state)) == {"openat", "futex"}
    assert pids(visible_processes(snapshot, state)) == {200, 300}
    both = ViewState(failures_only=True, filter_text="dd")
    assert visible_syscalls(snapshot, both) == [] and visible_processes(snapshot, both) == []


def test_idle_syscall_keeps_its_row_while_its_trend_shows_activity() -> None:
    second = reading(1.0, {(1, "a", READ): (10, 0), (1, "a", GETPPID): (10, 0)})
    third = reading(2.0, {(1, "a", READ): (20, 0), (1, "a", GETPPID): (10, 0)})
    quiet = build_snapshot(second, third, NAMES)
    assert labels(visible_syscalls(quiet, ViewState())) == {"read"}
    busy = replace(quiet, syscall_trends={GETPPID: (10.0, 0.0)})
    assert labels(visible_syscalls(busy, ViewState())) == {"read", "getppid"}
    idle = replace(quiet, syscall_trends={GETPPID: (0.0, 0.0)})
    assert labels(visible_syscalls(idle, ViewState())) == {"read"}


def test_error_rows_pair_errno_and_syscall_with_the_busiest_failing_caller(
    snapshot: Snapshot,
) -> None:
    rows = error_rows(snapshot, ViewState())
    found = {(r.errno, r.syscall.label, r.count, r.top_caller) for r in rows}
    assert found == {
        ("ENOENT", "openat", 30, "nginx[200]"),
        ("ETIMEDOUT", "futex", 4, "redis-server[300]"),
    }
    assert [r.errno for r in error_rows(snapshot, ViewState(filter_text="enoent"))] == ["ENOENT"]
    assert [r.errno for r in error_rows(snapshot, ViewState(filter_text="redis"))] == ["ETIMEDOUT"]


def test_flagged_rows_follow_the_snapshot(snapshot: Snapshot) -> None:
    assert not is_flagged_slot(None, OPENAT) and not is_flagged_pid(None, 200)
    assert not is_flagged_slot(snapshot, OPENAT)
    flagged = replace(snapshot, flagged_slots=frozenset({OPENAT}), flagged_pids=frozenset({200}))
    assert is_flagged_slot(flagged, OPENAT) and not is_flagged_slot(flagged, READ)
    assert is_flagged_pid(flagged, 200) and not is_flagged_pid(flagged, 100)


def test_inflight_filter_matches_comm_syscall_or_pid(snapshot: Snapshot) -> None:
    stuck = (
        InflightRow(100, 101, "dd", READ, "read", False, 5_000_000_000, False),
        InflightRow(300, 301, "redis-server", FUTEX, "futex", False, 2_000_000, True),
    )
    with_threads = replace(snapshot, inflight=stuck)
    assert visible_inflight(with_threads, ViewState()) == list(stuck)
    assert [r.tid for r in visible_inflight(with_threads, ViewState(filter_text="futex"))] == [301]
    assert [r.tid for r in visible_inflight(with_threads, ViewState(filter_text="100"))] == [101]
    assert visible_inflight(with_threads, ViewState(filter_text="nginx")) == []


def test_filter_prefixes_say_what_is_matched() -> None:
    from tui.model.view import TextFilter, parse_filter

    assert parse_filter("comm:nginx") == TextFilter("comm", "nginx")
    assert parse_filter(" PID: 42 ") == TextFilter("pid", "42")
    assert parse_filter("sys:open") == TextFilter("sys", "open")
    assert parse_filter("/etc/x:y") == TextFilter(None, "/etc/x:y")  # not a field: plain
    assert view_note(ViewState(filter_text="comm:nginx")) == "/comm nginx"


def test_a_process_match_shows_that_processs_numbers_not_the_hosts(snapshot: Snapshot) -> None:
    # read: dd makes 1000, nginx 10. Filtered to nginx, read is nginx's 10, not 1010.
    for text in ("comm:nginx", "nginx", "pid:200"):
        rows = {row.label: row for row in visible_syscalls(snapshot, ViewState(filter_text=text))}
        assert set(rows) == {"openat", "read"}, text
        assert rows["read"].count == 10 and rows["openat"].count == 50, text
        assert rows["openat"].errors == 30 and rows["read"].share == 100 * 10 / 60
    whole = {row.label: row.count for row in visible_syscalls(snapshot, ViewState())}
    assert whole["read"] == 1010


def test_sys_prefix_matches_syscall_names_only_and_pid_is_exact(snapshot: Snapshot) -> None:
    # "dd" is a process; sys:dd is a syscall name search (none here): no rows.
    assert visible_syscalls(snapshot, ViewState(filter_text="sys:dd")) == []
    assert pids(visible_processes(snapshot, ViewState(filter_text="sys:dd"))) == set()
    assert pids(visible_processes(snapshot, ViewState(filter_text="comm:dd"))) == {100}
    assert pids(visible_processes(snapshot, ViewState(filter_text="pid:30"))) == set()
    assert pids(visible_processes(snapshot, ViewState(filter_text="pid:300"))) == {300}
    # Plain "dd" names no syscall, so it is the process dd, with dd's numbers.
    rows = {row.label: row.count for row in visible_syscalls(snapshot, ViewState(filter_text="dd"))}
    assert rows == {"read": 1000, "getppid": 5}


def test_idle_waits_hide_from_in_flight_but_reads_stay(snapshot: Snapshot) -> None:
    from tui.model.view import WaitsToggled

    stuck = (
        InflightRow(100, 101, "dd", READ, "read", False, 5_000_000_000, False),
        InflightRow(300, 301, "nginx", 232, "epoll_wait", False, 9_000_000_000, False),
    )
    with_threads = replace(snapshot, inflight=stuck)
    state = fold(ViewState(), WaitsToggled())
    assert [row.name for row in visible_inflight(with_threads, state)] == ["read"]
    assert len(visible_inflight(with_threads, fold(state, WaitsToggled()))) == 2


def test_own_process_and_its_man_lookups_are_hidden_not_other_children(snapshot: Snapshot) -> None:
    own = replace(snapshot.processes[0], pid=999, comm="syscalltop")
    lookup = replace(snapshot.processes[0], pid=1000, ppid=999, comm="python")  # before exec
    whatis = replace(snapshot.processes[0], pid=1002, ppid=1000, comm="whatis")
    child = replace(snapshot.processes[0], pid=1001, ppid=999, comm="e2e-workload")
    crowd = replace(snapshot, processes=(own, lookup, whatis, child))
    mine = ViewState(own_pid=999, own_children=frozenset({1000}))
    assert pids(visible_processes(crowd, mine)) == {1001}
    assert pids(visible_processes(crowd, ViewState())) == {999, 1000, 1001, 1002}


def test_a_seccomp_profile_covers_the_process_or_group_on_screen(snapshot: Snapshot) -> None:
    assert profile_target(View(ViewKind.PROCESS, key=200), snapshot) == (
        frozenset({200}),
        "pid 200",
    )
    assert profile_target(HOME, snapshot) is None
    assert profile_target(View(ViewKind.SYSCALL, key=OPENAT), snapshot) is None
    assert profile_target(View(ViewKind.GROUP, detail="no-such-group"), snapshot) is None


def test_a_groups_profile_covers_every_process_in_it() -> None:
    calls = {
        (400, "web", READ): (5, 0),
        (401, "worker", OPENAT): (3, 1),
        (402, "host", READ): (2, 0),
    }
    cgroups = {400: 77, 401: 77, 402: 0}

    def with_cgroups(at_s: float, counts: dict) -> RawReading:
        base = reading(at_s, counts)
        processes = {
            key: entry._replace(cgroup_id=cgroups[entry.tgid])
            for key, entry in base.processes.items()
        }
        path = "/system.slice/web.service"
        return replace(base, processes=processes, cgroup_paths={77: path})

    first = with_cgroups(0.0, {key: (0, 0) for key in calls})
    shot = build_snapshot(first, with_cgroups(1.0, calls), NAMES)
    (group,) = shot.groups  # the host process (cgroup 0) is in none
    assert profile_target(View(ViewKind.GROUP, detail=group.key), shot) == (
        frozenset({400, 401}),
        group.group.label,
    )
