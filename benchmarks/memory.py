"""Peak resident memory of a process and everything it starts.

adjudicate may run several worker processes, so the figure that matters to
the machine is the sum over the whole process tree. It is sampled from
/proc (Linux only) every ``interval`` seconds on a background thread; the
peak of the sums is kept.

Pages shared between processes (a forked worker's copy of the parent's
memory) count once per process in VmRSS, so the sum errs on the high side.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator

MIB = 1024 * 1024


def tree_rss(pid: int) -> int:
    """Resident bytes of ``pid`` and all its descendants, now."""
    return sum(_rss(process) for process in _tree(pid))


def _tree(pid: int) -> Iterator[int]:
    yield pid
    for child in _children(pid):
        yield from _tree(child)


def _children(pid: int) -> list[int]:
    children: list[int] = []
    try:
        threads = os.listdir(f"/proc/{pid}/task")
    except OSError:  # the process ended between two reads
        return children
    for thread in threads:
        try:
            with open(f"/proc/{pid}/task/{thread}/children") as handle:
                children.extend(int(child) for child in handle.read().split())
        except OSError:
            continue
    return children


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024  # the kernel writes kB
    except OSError:
        pass
    return 0  # gone, or a zombie (which has no VmRSS line)


class PeakMemory:
    """Samples ``tree_rss(pid)`` while the ``with`` block runs.

    ``peak`` is the largest sum seen, in bytes.
    """

    def __init__(self, pid: int, interval: float = 0.02) -> None:
        self.pid = pid
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while True:
            self.peak = max(self.peak, tree_rss(self.pid))
            if self._stop.wait(self.interval):
                return
