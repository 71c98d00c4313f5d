"""Runs one B7 measurement of the Dagster peer and prints one JSON line on stdout.

  run_peer.py --mode runs|single --from 2024-01-01-00:00 --to 2024-01-01-23:00 --partitions 24
              --home DIR --raw-root DIR --curated-root DIR [--threads 2] [--memory-mib 768]
              [--plain-reader-min-bytes 4194304]

runs:   `dagster job backfill` of the job: one run per partition, queued (QueuedRunCoordinator,
        4 at a time), launched by `dagster-daemon` (started first, outside the timing).
single: `dagster asset materialize --partition-range`: the asset's BackfillPolicy.single_run(),
        all partitions in one run.

CPU is Dagster's only: every process this driver starts, and theirs, not the driver itself
(which polls the instance). Spent before the timing starts (the daemon's start-up) is subtracted.
"""
from __future__ import annotations

import argparse
import ctypes
import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
CLK_TCK = os.sysconf("SC_CLK_TCK")
MODULE = "clickstream_peer.definitions"


def children_cpu_s() -> float:
    """CPU of this process's children that have exited and been waited for (and of theirs)."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def live_descendants() -> dict[int, float]:
    """Every live descendant -> its CPU so far, including what it has reaped from its own children."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = (Path("/proc") / entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        parents[int(entry)] = int(fields[1])
        times[int(entry)] = sum(int(f) for f in fields[11:15]) / CLK_TCK  # utime stime cutime cstime
    me, out = os.getpid(), {}
    for pid, cpu in times.items():
        p = parents.get(pid)
        while p is not None and p not in (0, 1, me):
            p = parents.get(p)
        if p == me:
            out[pid] = cpu
    return out


def become_subreaper() -> None:
    """Orphans of our descendants (the code server the daemon leaves behind, its run workers) are
    re-parented to this process instead of init, so reaping them here adds their CPU to ours."""
    PR_SET_CHILD_SUBREAPER = 36
    if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


def reap_all(timeout_s: float) -> None:
    """Waits for every remaining descendant (killing what outlives timeout_s), so its CPU is counted."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            if time.monotonic() > deadline:
                for child in live_descendants():
                    try:
                        os.kill(child, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
            time.sleep(0.05)


def write_instance(home: Path) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    # Sqlite storage in DAGSTER_HOME (the default). Runs are queued, 4 at a time; the daemon looks
    # for queued runs every second instead of the default 5, in Dagster's favour.
    (home / "dagster.yaml").write_text(
        "run_coordinator:\n"
        "  module: dagster.core.run_coordinator\n"
        "  class: QueuedRunCoordinator\n"
        "  config:\n"
        "    max_concurrent_runs: 4\n"
        "    dequeue_interval_seconds: 1\n"
        "telemetry:\n"
        "  enabled: false\n"
    )
    workspace = home / "workspace.yaml"
    workspace.write_text(
        "load_from:\n"
        "  - python_module:\n"
        f"      module_name: {MODULE}\n"
        f"      working_directory: {json.dumps(str(HERE))}\n"
    )
    return workspace


def run_single(args: argparse.Namespace, env: dict[str, str]) -> dict:
    cpu0, t0 = children_cpu_s(), time.perf_counter()
    subprocess.run(
        [str(BIN / "dagster"), "asset", "materialize", "-m", MODULE, "--working-directory", str(HERE),
         "--select", "curated_clickstream_hour", "--partition-range", f"{args.start}...{args.end}"],
        env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    wall = time.perf_counter() - t0
    reap_all(timeout_s=30)
    return {"wallS": wall, "cpuS": children_cpu_s() - cpu0, "runs": 1, "failedRuns": 0}


def run_queued(args: argparse.Namespace, env: dict[str, str], workspace: Path, partitions: int) -> dict:
    from dagster import DagsterInstance, DagsterRunStatus, RunsFilter

    log = open(Path(args.home) / "daemon.log", "w")
    daemon = subprocess.Popen([str(BIN / "dagster-daemon"), "run", "-w", str(workspace)], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        instance = DagsterInstance.get()
        # Ready once the run-queue daemon has reported in: from then on queued runs are launched.
        # Its start-up took over 2 minutes at a load average of 25 on the 2 shared cores.
        deadline = time.monotonic() + 600
        while "QUEUED_RUN_COORDINATOR" not in instance.get_daemon_heartbeats():
            if daemon.poll() is not None or time.monotonic() > deadline:
                log.flush()
                sys.stderr.write(Path(log.name).read_text()[-4000:])
                raise RuntimeError(f"dagster-daemon did not start within 600 s (exit code {daemon.poll()})")
            time.sleep(0.2)
        cpu0 = children_cpu_s() + sum(live_descendants().values())
        t0 = time.perf_counter()
        subprocess.run(
            [str(BIN / "dagster"), "job", "backfill", "-w", str(workspace), "-j", "curate_hours",
             "--from", args.start, "--to", args.end, "--noprompt"],
            env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        done = [DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED]
        while instance.get_runs_count(RunsFilter(statuses=done)) < partitions:
            if daemon.poll() is not None:
                log.flush()
                sys.stderr.write(Path(log.name).read_text()[-4000:])
                raise RuntimeError(f"dagster-daemon exited with code {daemon.poll()}")
            time.sleep(0.25)
        wall = time.perf_counter() - t0
        failed = instance.get_runs_count(RunsFilter(statuses=[DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED]))
    finally:
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(timeout=30)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()
        log.close()
        reap_all(timeout_s=30)
    return {"wallS": wall, "cpuS": children_cpu_s() + sum(live_descendants().values()) - cpu0, "runs": partitions, "failedRuns": failed}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=["runs", "single"], required=True)
    parser.add_argument("--from", dest="start", required=True)
    parser.add_argument("--to", dest="end", required=True)
    parser.add_argument("--partitions", type=int, required=True)
    parser.add_argument("--home", required=True)
    parser.add_argument("--raw-root", required=True)
    parser.add_argument("--curated-root", required=True)
    parser.add_argument("--threads", default="2")
    parser.add_argument("--memory-mib", default="", help="DuckDB memory_limit in MiB; empty: DuckDB's default")
    parser.add_argument("--plain-reader-min-bytes", default="0", help="hours smaller than this are read exactly, unproven")
    args = parser.parse_args()

    become_subreaper()
    workspace = write_instance(Path(args.home))
    env = {
        **os.environ,
        "DAGSTER_HOME": str(Path(args.home).resolve()),
        "B7_RAW_ROOT": args.raw_root,
        "B7_CURATED_ROOT": args.curated_root,
        "B7_DUCKDB_THREADS": str(args.threads),
        "B7_DUCKDB_MEMORY_MIB": str(args.memory_mib or 0),
        "B7_PLAIN_READER_MIN_BYTES": str(args.plain_reader_min_bytes),
        "PYTHONPATH": str(HERE),
        "PYTHONUNBUFFERED": "1",
    }
    os.environ.update(env)
    try:
        out = run_single(args, env) if args.mode == "single" else run_queued(args, env, workspace, args.partitions)
    except subprocess.CalledProcessError as err:
        sys.stderr.write(err.stderr[-4000:] if err.stderr else str(err))
        sys.exit(1)
    print(json.dumps({"mode": args.mode, "partitions": args.partitions, **out}))


if __name__ == "__main__":
    main()
