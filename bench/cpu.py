"""Where a benchmark's CPU goes: per process (a service's workers, PostgreSQL's backends) and for the
whole machine, so a table can show whether a run was held back by a lock or by the cores being full.

On this project's 2-core machines every process of a run (the load generator included) shares the
same cores. When the machine is busy ~100 % of a run, requests/s is at the ceiling the CPU allows:
``cores / CPU seconds per request``, whatever the database or the locks would let through.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import psutil

from bench._stack import RunningStack


def service_processes(port: int) -> list[psutil.Process]:
    """The processes listening on a port (several when a service runs several workers)."""
    found = []
    for proc in psutil.process_iter():
        try:
            if any(c.laddr.port == port and c.status == "LISTEN" for c in proc.net_connections("tcp")):
                found.append(proc)
                found += proc.children(recursive=True)
        except (psutil.AccessDenied, psutil.NoSuchProcess):
            continue
    return list({p.pid: p for p in found}.values())


def postgres_processes(stack: RunningStack) -> list[psutil.Process]:
    """The embedded PostgreSQL's postmaster and every backend it forked."""
    pg_dir = str(stack.data_dir / "pg")
    for proc in psutil.process_iter():
        try:
            cmd = proc.cmdline()
        except (psutil.AccessDenied, psutil.NoSuchProcess):
            continue
        if cmd and cmd[0].endswith("/postgres") and pg_dir in cmd:
            return [proc]
    return []


def pg_cpu_seconds(stack: RunningStack) -> float:
    """CPU of PostgreSQL's processes, backends that came and went included (children's times)."""
    total = 0.0
    for postmaster in postgres_processes(stack):
        for p in [postmaster, *postmaster.children()]:
            try:
                t = p.cpu_times()
                total += (
                    t.user + t.system + getattr(t, "children_user", 0.0) + getattr(t, "children_system", 0.0)
                )
            except psutil.NoSuchProcess:
                continue
    return total


def cpu_seconds(procs: list[psutil.Process]) -> float:
    total = 0.0
    for p in procs:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            continue
    return total


CORES = os.cpu_count() or 1


@dataclass(frozen=True)
class Machine:
    """The whole machine's CPU over an interval: ``busy`` (0–1 of all cores) and ``busy_seconds``."""

    busy: float
    busy_seconds: float
    iowait: float  # share of the interval the cores sat idle waiting on the disk


class MachineMeter:
    """``with MachineMeter() as m: ...`` then ``m.result``: the machine's CPU over the block."""

    def __enter__(self) -> MachineMeter:
        self._start = psutil.cpu_times()
        return self

    def __exit__(self, *_: object) -> None:
        end = psutil.cpu_times()
        spent = {f: getattr(end, f) - getattr(self._start, f) for f in end._fields}
        total = sum(spent.values()) or 1e-9
        idle = spent.get("idle", 0.0) + spent.get("iowait", 0.0)
        self.result = Machine(
            busy=1 - idle / total,
            busy_seconds=total - idle,
            iowait=spent.get("iowait", 0.0) / total,
        )
