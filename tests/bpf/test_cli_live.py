"""The syscalltop command on the live kernel, as a user runs it."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.bpf

SYSCALLTOP = [sys.executable, "-m", "tui"]


def run_cli(
    *args: str, timeout: float = 60, wrapper: tuple[str, ...] = (), **kwargs: object
) -> subprocess.CompletedProcess[str]:
    """Run syscalltop (under `wrapper`, e.g. unshare or setpriv) and capture its output."""
    return subprocess.run(
        [*wrapper, *SYSCALLTOP, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
        **kwargs,  # type: ignore[arg-type]
    )


def start_cli(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*SYSCALLTOP, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO
    )


def json_lines(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def summed(lines: list[dict], name: str) -> tuple[int, int, dict[str, int]]:
    count = errors = 0
    errnos: dict[str, int] = {}
    for line in lines:
        for row in line["syscalls"]:
            if row["name"] == name:
                count += row["count"]
                errors += row["errors"]
                for errno_name, value in row["errnos"].items():
                    errnos[errno_name] = errnos.get(errno_name, 0) + value
    return count, errors, errnos


def run_cli_with_workload(workload, *args: str) -> str:
    """Run the CLI; start the workload once the first interval shows it attached; stdout."""
    with tempfile.TemporaryFile("w+") as errors:
        process = subprocess.Popen(
            [*SYSCALLTOP, *args], stdout=subprocess.PIPE, stderr=errors, text=True, cwd=REPO
        )
        assert process.stdout is not None
        # One reader only: the first line says the programs are attached, the rest follows.
        killer = threading.Timer(60, process.kill)
        killer.start()
        first_line = process.stdout.readline()
        workload.go()
        rest = process.stdout.read()
        killer.cancel()
        process.wait()
        errors.seek(0)
        assert process.returncode == 0, errors.read()
    return first_line + rest


@pytest.mark.parametrize("how", ["comm", "pid"])
def test_json_exact_counts_for_a_renamed_workload(how: str, workload_factory) -> None:
    workload = workload_factory("--getppid=777", "--enoent=23", "--sleeps=9")
    selector = ["--comm", workload.name] if how == "comm" else ["-p", str(workload.pid)]
    lines = json_lines(run_cli_with_workload(workload, "--json", "-i", "0.5", "-n", "6", *selector))
    assert len(lines) == 6
    assert summed(lines, "getppid")[0] == 777
    assert summed(lines, "openat") == (23, 23, {"ENOENT": 23})
    assert summed(lines, "clock_nanosleep")[:2] == (9, 0)
    last_totals = {row["name"]: row["total"] for row in lines[-1]["syscalls"]}
    assert last_totals["getppid"] == 777
    sleep_row = next(
        r
        for line in lines
        for r in line["syscalls"]
        if r["name"] == "clock_nanosleep" and r["count"]
    )
    assert 2_000_000 <= sleep_row["latency"]["p50_ns"] <= 1 << 22
    processes = {row["pid"]: row for line in lines for row in line["processes"]}
    assert set(processes) == {workload.pid}
    assert processes[workload.pid]["comm"] == workload.name
    assert processes[workload.pid]["user"] == "root"


def test_short_lived_processes_end_with_a_row_marked_exited(tmp_path) -> None:
    short = tmp_path / "sct-shortlived"  # a comm no other process on the machine has
    shutil.copy("/bin/true", short)
    spawner = subprocess.Popen(
        ["sh", "-c", f"sleep 2; for i in 1 2 3; do {short}; sleep 0.3; done; sleep 2"]
    )
    result = run_cli("--json", "-i", "0.5", "-n", "10", "--comm", short.name)
    spawner.wait(10)
    assert result.returncode == 0, result.stderr
    rows_by_pid: dict[int, list[dict]] = {}
    for line in json_lines(result.stdout):
        for row in line["processes"]:
            rows_by_pid.setdefault(row["pid"], []).append(row)
    assert len(rows_by_pid) == 3
    for rows in rows_by_pid.values():
        assert [row["exited"] for row in rows] == [False] * (len(rows) - 1) + [True]
        assert sum(row["syscalls"].get("exit_group", 0) for row in rows) == 1
        assert rows[-1]["total"] == sum(row["count"] for row in rows)


def test_json_lines_have_the_documented_shape() -> None:
    # Its own calls are left out by default and an idle machine may make none in 0.3 s;
    # with --show-self every interval holds at least the tool's own wait and map reads.
    result = run_cli("--json", "-n", "2", "-i", "0.3", "--show-self")
    assert result.returncode == 0, result.stderr
    lines = json_lines(result.stdout)
    assert len(lines) == 2
    for line in lines:
        assert set(line) >= {"time", "interval_s", "totals", "syscalls", "processes"}
        assert set(line["totals"]) >= {"count", "errors", "rate", "lost_samples"}
        assert line["syscalls"], "syscalltop itself makes calls in every interval"
        row = line["syscalls"][0]
        assert set(row) >= {
            "nr",
            "name",
            "compat",
            "count",
            "total",
            "rate",
            "errors",
            "errnos",
            "latency",
        }
        assert set(row["latency"]) == {"avg_ns", "p50_ns", "p95_ns", "p99_ns", "max_ns"}
        process = line["processes"][0]
        assert set(process) >= {
            "pid",
            "comm",
            "user",
            "count",
            "total",
            "rate",
            "errors",
            "exited",
            "syscalls",
        }


def test_make_run_passes_args_and_prints_three_json_lines() -> None:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    result = subprocess.run(
        ["make", "-s", "run", "ARGS=--batch --json -n 3 -i 0.3"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    assert len(lines) == 3
    assert all("syscalls" in json.loads(line) for line in lines)


def test_batch_text_shows_a_workload(workload_factory) -> None:
    workload = workload_factory("--getppid=300")
    text = run_cli_with_workload(
        workload, "--batch", "-i", "0.5", "-n", "6", "-p", str(workload.pid)
    )
    assert "getppid" in text
    assert workload.name in text


def test_ebpf_prints_the_program_with_filters() -> None:
    result = run_cli("--ebpf", "--syscall", "openat", "-x")
    assert result.returncode == 0
    assert "RAW_TRACEPOINT_PROGRAM(sys_enter)" in result.stdout
    assert "#define FAILURES_ONLY 1" in result.stdout
    assert "#define FILTER_SLOT_EXPR (slot == 257 || slot == 807)" in result.stdout


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    return lines[0]


def test_broken_headers_are_a_bpf_load_failure_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "include").mkdir()
    env = {**os.environ, "BCC_KERNEL_SOURCE": str(tmp_path)}
    result = run_cli("--batch", "-n", "1", env=env)
    assert result.returncode == 4
    assert one_line_error(result).startswith("syscalltop: BPF program failed to load")


def run_without_headers(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run syscalltop where /usr/src and /lib/modules are empty (a private mount namespace)."""
    assert shutil.which("unshare"), "util-linux's unshare is on every Debian machine"
    empty = tmp_path / "empty"
    empty.mkdir()
    script = (
        f"mount --bind {empty} /usr/src && mount --bind {empty} /lib/modules && "
        f"exec {sys.executable} -m tui {' '.join(args)}"
    )
    env = {key: value for key, value in os.environ.items() if key != "BCC_KERNEL_SOURCE"}
    return subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        env=env,
    )


def test_no_headers_at_all_names_the_package(tmp_path: Path) -> None:
    result = run_without_headers(tmp_path, "--batch", "-n", "1")
    assert result.returncode == 2, result.stderr
    line = one_line_error(result)
    assert "no kernel headers" in line
    assert "linux-headers-" in line


def test_in_a_nested_pid_namespace_one_line_and_exit_2() -> None:
    if shutil.which("unshare") is None:
        pytest.skip("unshare is not installed")
    result = run_cli("--json", "-n", "1", wrapper=("unshare", "--pid", "--fork", "--mount-proc"))
    assert result.returncode == 2
    assert "not the host's" in one_line_error(result)


def test_without_capabilities_one_line_and_exit_3() -> None:
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv is not installed")
    result = run_cli(
        "--batch", "-n", "1", wrapper=("setpriv", "--inh-caps=-all", "--bounding-set=-all")
    )
    assert result.returncode == 3
    assert "needs root" in one_line_error(result)


def doctor_finding(stdout: str, name: str) -> tuple[str, str]:
    """Return the mark and what was found on --doctor's line for `name`."""
    line = next(line for line in stdout.splitlines() if line.startswith(name))
    mark, found = line[len(name) :].split(None, 1)
    return mark, found


def test_doctor_names_what_this_machine_has(tmp_path: Path) -> None:
    # As a user runs it: in-process BPF tests leave BCC_KERNEL_SOURCE in this environment.
    env = {key: value for key, value in os.environ.items() if key != "BCC_KERNEL_SOURCE"}
    result = run_cli("--doctor", env=env)
    assert result.returncode == 0, result.stdout
    lines = dict(line.split(None, 1) for line in result.stdout.splitlines() if line[:1] != " ")
    assert "no exact headers" in result.stdout and "merged Debian tree" in result.stdout
    assert "hybrid layout" in lines["cgroup"] or "unified layout" in lines["cgroup"]
    assert (
        lines["BTF"]
        == "ok       /sys/kernel/btf/vmlinux (--level counts attaches as tp_btf on x86-64)"
    )
    # This run's own cache (tests/conftest.py): the tests before have kept images in it.
    cache = os.environ["SYSCALLTOP_PROGRAM_CACHE"]
    kept = len(list(Path(cache).glob("*.json")))
    assert doctor_finding(result.stdout, "program cache") == (
        "ok",
        f"{cache}, {kept} kept (a start with one loads it with no compile)",
    )
    result = run_cli("--doctor", env={**env, "SYSCALLTOP_PROGRAM_CACHE": "off"})
    assert result.returncode == 0  # optional: it only costs start-up time
    assert doctor_finding(result.stdout, "program cache") == (
        "optional",
        "off (SYSCALLTOP_PROGRAM_CACHE=off): every start compiles",
    )
    os.chmod(tmp_path, 0o777)
    result = run_cli("--doctor", env={**env, "SYSCALLTOP_PROGRAM_CACHE": str(tmp_path)})
    assert doctor_finding(result.stdout, "program cache") == (
        "optional",
        f"{tmp_path} is writable by everyone (mode 0777): every start compiles",
    )
    assert result.stdout.splitlines()[-1] == "syscalltop can run here"


def test_doctor_names_a_missing_piece_and_its_fix(tmp_path: Path) -> None:
    result = run_without_headers(tmp_path, "--doctor")
    assert result.returncode == 1, result.stdout + result.stderr
    out = result.stdout.splitlines()
    headers = next(i for i, line in enumerate(out) if line.startswith("kernel headers"))
    assert "MISSING" in out[headers]
    assert "fix: `apt-get install linux-headers-" in out[headers + 1]
    assert out[-1] == "syscalltop cannot run here yet: kernel headers"
    unprivileged = run_cli(
        "--doctor", wrapper=("setpriv", "--inh-caps=-all", "--bounding-set=-all")
    )
    assert unprivileged.returncode == 1
    assert "privileges" in unprivileged.stdout.splitlines()[-1]


def test_version_names_bcc_kernel_and_btf() -> None:
    result = run_cli("--version")
    assert result.returncode == 0
    first, bcc, kernel = result.stdout.splitlines()
    assert first.startswith("syscalltop ") and bcc.startswith("bcc 0.")
    assert kernel == f"kernel {os.uname().release} (BTF)"


def test_a_start_from_a_kept_image_maps_neither_libbcc_nor_llvm(workload_factory) -> None:
    """With the image kept, a start loads it through BCC's small libbcc_bpf alone: the
    compiler's libraries (libbcc maps 60 MB of LLVM resident) never come into memory."""
    assert run_cli("--json", "-n", "1", "-i", "0.2").returncode == 0  # keeps the image
    workload = workload_factory("--getppid=321")
    # Open-ended (no -p: a filter is program text, another image): it is still running when
    # its maps are read, however slow the machine is. Its counts come from the workload this
    # test runs, not from whatever else the machine happens to do in the first interval.
    process = subprocess.Popen(
        [*SYSCALLTOP, "--json", "-i", "0.3"], stdout=subprocess.PIPE, text=True, cwd=REPO
    )
    assert process.stdout is not None
    killer = threading.Timer(60, process.kill)  # a bound for a reader that never gets there
    killer.start()
    getppid_total = 0
    try:
        process.stdout.readline()  # attached and reading
        workload.go()
        for line in process.stdout:
            rows = [row for row in json.loads(line)["processes"] if row["pid"] == workload.pid]
            getppid_total += sum(row["syscalls"].get("getppid", 0) for row in rows)
            if getppid_total >= 321:
                break
        libraries = {
            Path(line.split()[-1]).name
            for line in Path(f"/proc/{process.pid}/maps").read_text().splitlines()
            if line.split()[-1].startswith("/")
        }
    finally:
        killer.cancel()
        process.terminate()  # the pid this test started
        process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM
    assert getppid_total == 321
    assert any(name.startswith("libbcc_bpf.so") for name in libraries)
    assert not [name for name in libraries if name.startswith(("libbcc.so", "libLLVM", "libclang"))]


def test_prepare_keeps_the_image_each_level_starts_from(tmp_path) -> None:
    """--prepare (what make install runs) compiles and keeps a program's image: the start
    after it with the same flags compiles nothing."""
    cache = tmp_path / "programs"
    environment = {**os.environ, "SYSCALLTOP_PROGRAM_CACHE": str(cache)}
    os.chmod(tmp_path, 0o700)
    said = []
    for flags in ((), ("--level", "counts"), ()):
        prepared = run_cli("--prepare", *flags, env=environment)
        assert prepared.returncode == 0 and prepared.stderr == ""
        said.append(prepared.stdout)
    assert said == [
        f"syscalltop: program image compiled and kept in {cache}\n",
        f"syscalltop: program image compiled and kept in {cache}\n",
        f"syscalltop: program image already kept in {cache}\n",
    ]
    kept = {(path.name, path.stat().st_ino) for path in cache.glob("*.json")}
    assert len(kept) == 2
    for flags in ((), ("--level", "counts")):
        assert run_cli("--json", "-n", "1", "-i", "0.2", *flags, env=environment).returncode == 0
    assert {(path.name, path.stat().st_ino) for path in cache.glob("*.json")} == kept
    off = run_cli("--prepare", env={**environment, "SYSCALLTOP_PROGRAM_CACHE": "off"})
    assert (off.returncode, off.stdout) == (1, "")
    assert off.stderr == (
        "syscalltop: the program cache is off (SYSCALLTOP_PROGRAM_CACHE=off): nothing kept\n"
    )


def test_without_bccs_bindings_each_mode_says_so_in_one_line() -> None:
    """bcc is found without importing it (a start from a kept image never does): when its
    bindings are not there at all, the start and --version still say so."""
    hide_bcc = (
        "import importlib.util as u, runpy, sys; real = u.find_spec; "
        "u.find_spec = lambda name, *more: None if name == 'bcc' else real(name, *more); "
        "sys.argv[0] = 'syscalltop'; runpy.run_module('tui', run_name='__main__')"
    )
    started = subprocess.run(
        [sys.executable, "-c", hide_bcc, "--json", "-n", "1"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert started.returncode == 2 and started.stdout == ""
    assert started.stderr.splitlines() == [
        "syscalltop: bcc's Python bindings are missing (No module named 'bcc'); install "
        "python3-bpfcc (make setup does) and use the distro's python3"
    ]
    version = subprocess.run(
        [sys.executable, "-c", hide_bcc, "--version"], capture_output=True, text=True, cwd=REPO
    )
    assert version.stdout.splitlines()[1] == "bcc missing (install python3-bpfcc)"


def test_own_calls_are_left_out_unless_asked_for() -> None:
    def own_rows(*flags: str) -> list[dict]:
        process = subprocess.Popen(
            [*SYSCALLTOP, "--json", "-n", "2", "-i", "0.3", *flags],
            stdout=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )
        out, _ = process.communicate(timeout=60)
        return [p for line in json_lines(out) for p in line["processes"] if p["pid"] == process.pid]

    def images() -> set[tuple[str, int]]:
        cache = Path(os.environ["SYSCALLTOP_PROGRAM_CACHE"])
        return {(path.name, path.stat().st_ino) for path in cache.glob("*.json")}

    assert own_rows() == []
    kept = images()
    # Another start, another pid, the same program: the kept image is loaded (a compile
    # would write a new file) and the pid put in it leaves this run's own calls out too.
    assert own_rows() == []
    assert images() == kept
    assert own_rows("--show-self")  # it reads maps and writes lines: it makes calls
