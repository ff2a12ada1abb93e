"""Helpers shared by the bench scripts: statistics, child processes, NATS streams, RSS."""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULT_PREFIX = "BENCH-RESULT "
# Phases of the ledger's loop (``bench.ledger``) that ``bench.report`` judges by name.
TREE_PHASE = "commit: Merkle tree"  # inside the commit, as the projections' parts are
LEAVES_PHASE = "ingest: Merkle leaves"  # inside ingest, which overlaps the commit
SIGNING_PHASE = "checkpoint signing"  # between batches, on the loop's own path


def summary(values: Sequence[float]) -> dict[str, Any]:
    """median, min and max of the runs (and the runs themselves)."""
    vals = [float(v) for v in values]
    if not vals:
        return {"median": None, "min": None, "max": None, "runs": []}
    return {
        "median": statistics.median(vals),
        "min": min(vals),
        "max": max(vals),
        "runs": vals,
    }


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted list (q in 0..100)."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), round(q / 100 * len(sorted_values) + 0.5)))
    return float(sorted_values[rank - 1])


def child(module: str, args: dict[str, Any], *, log: Path, timeout: float = 1800) -> dict[str, Any]:
    """Run ``python -m module '<json args>'`` from the repo root; return its JSON result.

    The child prints ``BENCH-RESULT {json}`` as its last result line; its stderr (and any
    other output) goes to ``log``.
    """
    cmd = [sys.executable, "-m", module, json.dumps(args)]
    with log.open("a") as out:
        out.write(f"\n$ {' '.join(cmd[:3])} {json.dumps(args)[:300]}\n")
        out.flush()
        proc = subprocess.run(
            cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=out, text=True, timeout=timeout
        )
        out.write(proc.stdout)
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            result: dict[str, Any] = json.loads(line[len(RESULT_PREFIX) :])
            return result
    tail = log.read_text()[-3000:]
    raise RuntimeError(f"{module} exited {proc.returncode} without a result; {log} ends:\n{tail}")


def log(message: str) -> None:
    """A line of the bench's progress, timed."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def emit(result: dict[str, Any]) -> None:
    """The child's side of ``child``."""
    sys.stdout.write(RESULT_PREFIX + json.dumps(result, default=str) + "\n")
    sys.stdout.flush()


def child_args() -> dict[str, Any]:
    args: dict[str, Any] = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    return args


def rss_bytes(pid: int | None = None) -> int:
    """Resident set size: psutil when installed, else /proc/<pid>/status VmRSS."""
    try:
        import psutil

        return int(psutil.Process(pid or os.getpid()).memory_info().rss)
    except ImportError:
        status = Path(f"/proc/{pid or 'self'}/status").read_text()
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return 0


@dataclass
class RssSampler:
    """Samples this process's RSS every ``interval`` seconds in a daemon thread."""

    interval: float = 0.25
    progress: Callable[[], int] = lambda: 0
    samples: list[tuple[float, int, int]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> RssSampler:
        started = time.perf_counter()

        def loop() -> None:
            while not self._stop.is_set():
                self.samples.append((time.perf_counter() - started, rss_bytes(), self.progress()))
                self._stop.wait(self.interval)

        self._thread = threading.Thread(target=loop, name="rss-sampler", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> dict[str, Any]:
        self._stop.set()
        if self._thread:
            self._thread.join()
        self.samples.append((self.samples[-1][0] if self.samples else 0.0, rss_bytes(), -1))
        rss = [s[1] for s in self.samples]
        mib = 1024 * 1024
        # RSS at each quarter of the progress (events applied), to tell flat from growing.
        quarters: dict[str, float] = {}
        done = max((s[2] for s in self.samples), default=0)
        for q in (0.25, 0.5, 0.75, 1.0):
            at = [s[1] for s in self.samples if done and s[2] >= q * done]
            if at:
                quarters[f"{int(q * 100)}%"] = at[0] / mib
        return {
            "start_mib": rss[0] / mib if rss else None,
            "peak_mib": max(rss) / mib if rss else None,
            "end_mib": rss[-1] / mib if rss else None,
            "by_progress_mib": quarters,
            "samples": len(rss),
        }


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far."""
    try:
        import psutil

        times = psutil.Process(pid).cpu_times()
        return float(times.user + times.system)
    except ImportError:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks


def _tree_cpu() -> float:
    """CPU seconds of this process, its waited-for children and its live descendants."""
    import psutil

    me = psutil.Process()
    times = me.cpu_times()
    total = times.user + times.system + times.children_user + times.children_system
    for proc in me.children(recursive=True):
        try:
            t = proc.cpu_times()
            total += t.user + t.system
        except psutil.Error:
            pass
    return float(total)


@dataclass
class LoadMeter:
    """How many cores the rest of the machine (other sessions, tests) used meanwhile.

    Benchmarks share two cores with whatever else runs; a figure taken while something
    else ate a core is not the machine's ceiling, so every section records this.
    """

    started: float = 0.0
    busy0: float = 0.0
    ours0: float = 0.0

    @staticmethod
    def _busy() -> float:
        import psutil

        t = psutil.cpu_times()
        idle = t.idle + getattr(t, "iowait", 0.0)
        guest = getattr(t, "guest", 0.0) + getattr(t, "guest_nice", 0.0)  # already in user
        return float(sum(t) - idle - guest)

    def start(self) -> LoadMeter:
        with contextlib.suppress(ImportError):
            self.busy0, self.ours0 = self._busy(), _tree_cpu()
        self.started = time.perf_counter()
        return self

    def stop(self) -> dict[str, Any]:
        wall = max(time.perf_counter() - self.started, 1e-9)
        load1 = float(Path("/proc/loadavg").read_text().split()[0])
        try:
            busy, ours = self._busy() - self.busy0, _tree_cpu() - self.ours0
        except ImportError:
            return {"seconds": wall, "load1": load1}
        return {
            "seconds": round(wall, 2),
            "ours_cores": round(ours / wall, 2),
            "others_cores": round(max(0.0, busy - ours) / wall, 2),
            "load1": load1,
        }
