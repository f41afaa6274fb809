"""How long each stage of an evaluate run took, for the person who tunes it.

A run's stages happen in several processes at once: the main process reads
the batch and records it, worker processes validate, judge and write their
parts, a side process merges the output files. Wall time is what the main
process waits for a stage; the workers' stages overlap, so for them the CPU
seconds they spent, summed over every part, say where the work goes.

Timing costs two clock reads per stage and part: nothing a batch notices.
The figures never reach an output file or the store, which must be the same
for the same input.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

# The stages of a part, in the order a worker does them.
PART_STAGES = ("validate", "judge row by row", "judge", "identify", "memos", "store rows", "part files")
# The stages of the run as the main process waits for them.
RUN_STAGES = ("load", "read", "evaluate", "move memos", "record", "finish")


class Stopwatch:
    """Seconds per stage, added up over every time the stage runs. A stage
    timed inside another is taken out of the outer one's figures: each
    second counts once.

    Attributes:
        wall: stage -> wall-clock seconds.
        cpu: stage -> CPU seconds of this process (user and system).
    """

    def __init__(self) -> None:
        self.wall: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        # Of each stage running: the wall and CPU seconds of the stages inside it.
        self._inner: list[list[float]] = []

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the block as stage ``name`` (added to what it had)."""
        wall, cpu = time.perf_counter(), time.process_time()
        self._inner.append([0.0, 0.0])
        try:
            yield
        finally:
            inner_wall, inner_cpu = self._inner.pop()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            self.wall[name] = self.wall.get(name, 0.0) + wall - inner_wall
            self.cpu[name] = self.cpu.get(name, 0.0) + cpu - inner_cpu
            if self._inner:
                self._inner[-1][0] += wall
                self._inner[-1][1] += cpu

    def add(self, wall: dict[str, float], cpu: dict[str, float]) -> None:
        """Add another stopwatch's figures (a part's) to these."""
        for name, seconds in wall.items():
            self.wall[name] = self.wall.get(name, 0.0) + seconds
        for name, seconds in cpu.items():
            self.cpu[name] = self.cpu.get(name, 0.0) + seconds


# The stopwatch of the part being evaluated in this process: the judging
# code is deep below the part's loop, and a stage is timed where it runs.
_PART = Stopwatch()


def part_stage(name: str):
    """A context that times its block as stage ``name`` of the current part.

    Args:
        name (str): one of ``PART_STAGES``.
    """
    return _PART.stage(name)


def take_part_times() -> tuple[dict[str, float], dict[str, float]]:
    """The current part's (wall, cpu) seconds per stage; the next part
    starts from zero."""
    global _PART
    taken, _PART = _PART, Stopwatch()
    return taken.wall, taken.cpu
