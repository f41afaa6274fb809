"""Worker processes: a pool that evaluates parts, and one process that
does a side job while the main one does another.

Processes, never threads: durable-rules has no locks and never releases the
GIL. They are forked, so that a worker starts with the rulebook, the tables
and the open input files of the main process, none of which can be pickled.
Forking is safe on Linux only; elsewhere everything runs in the main
process (``parallel`` says which).

Stopping. Every worker ignores Ctrl-C: the terminal sends it to the whole
process group, and the main process alone handles it, by stopping the
workers and removing what was written. While the main process forks, it
holds Ctrl-C and SIGTERM back (blocks them): Python would otherwise run
the handler inside its own fork hooks, where the KeyboardInterrupt it
raises is dropped and the stop lost. A forked process starts with them
held too, and lets them through only once it ignores Ctrl-C, so that a
Ctrl-C at that moment cannot kill it half started.

Every worker ends when the main process ends, even if that one is killed
(SIGKILL, the out-of-memory killer): on Linux the kernel sends it SIGKILL
then (``prctl(PR_SET_PDEATHSIG)``).
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager

from engine.errors import EngineError

# Ctrl-C (sent by the terminal to the whole process group) and SIGTERM
# (sent by a scheduler to the main process): the signals that stop a run.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
# From <linux/prctl.h>.
_PR_SET_PDEATHSIG = 1


def parallel() -> bool:
    """Whether work may go to other processes here.

    Returns:
        True on Linux, where processes are forked; False elsewhere, where
        every job runs in the calling process.
    """
    return sys.platform.startswith("linux")


@contextmanager
def _stop_signals_held() -> Iterator[None]:
    """Ctrl-C and SIGTERM held back from this thread for the block, and
    delivered (their handler run) when it ends; see the module docstring.
    Threads and processes started in the block start with them held."""
    if not parallel():
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _end_with_parent(parent: int) -> None:
    """Have the kernel kill this process when ``parent`` (its parent
    process's id) ends; end now if it already has."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    # The parent may have died between the fork and the prctl call above;
    # this process was then given to another parent, and no signal will come.
    if os.getppid() != parent:
        os._exit(1)


def _as_worker(parent: int, initializer: Callable | None = None, *args) -> None:
    _end_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The main process's SIGTERM handler stops a run; a worker just ends.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # Held since the fork (``_stop_signals_held``); a Ctrl-C held meanwhile is dropped now.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
    if initializer is not None:
        initializer(*args)


def pool_map(
    function: Callable, items: Iterable, *, workers: int, initializer: Callable, initargs: tuple
) -> Iterator:
    """Call ``function`` on each of ``items`` in forked worker processes.

    Every worker ignores Ctrl-C and ends if this process ends (see the
    module docstring). Leaving the loop early (an error, Ctrl-C, closing
    the generator) stops the workers at once, without waiting for the items
    in progress.

    Args:
        function: called in a worker with one item; it and its result are
            pickled, so it must be a module-level function.
        items: the arguments, each pickled to a worker.
        workers: how many worker processes (at least 1).
        initializer: called once in each worker, with ``initargs`` (inherited
            by the fork, not pickled: they may be unpicklable).
        initargs: the initializer's arguments.

    Yields:
        The results, in the order they are done (not the order of ``items``).

    Raises:
        EngineError: a worker ended abruptly (out of memory, killed, a crash
            in the rule engine); the run fails instead of hanging.
        Any exception ``function`` raised, as raised in the worker.
    """
    before = set(multiprocessing.active_children())
    executor = ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context("fork"),
        initializer=_as_worker, initargs=(os.getpid(), initializer, *initargs),
    )
    finished = False
    try:
        # The first submit forks every worker and starts the executor's threads.
        with _stop_signals_held():
            pending = {executor.submit(function, item) for item in items}
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield future.result()
        finished = True
    except BrokenProcessPool:
        raise EngineError(
            "a worker process ended abruptly (out of memory, or killed); nothing was stored or written. "
            "Try fewer --workers or a smaller --chunk-size."
        ) from None
    finally:
        if not finished:
            # Not waiting for items in progress: stopping is what was asked.
            # Only this pool's workers: the caller may have other children.
            for child in multiprocessing.active_children():
                if child not in before:
                    child.terminate()
        executor.shutdown(wait=True, cancel_futures=True)


@contextmanager
def beside(function: Callable, *args, enabled: bool = True) -> Iterator[Callable[[], object]]:
    """Run ``function(*args)`` in a forked process while the block runs.

    The process ignores Ctrl-C, ends if this process ends, and is stopped
    when the block ends. Not ``enabled``, or where processes cannot be
    forked (``parallel``), the function runs in this process when its
    result is asked for.

    Args:
        function: the side job.
        *args: its arguments, inherited by the fork, not pickled: they may
            be open files.
        enabled: False to run the function in this process instead.

    Yields:
        A function of no arguments that waits for the side job and returns
        its result (pickled back), or raises what it raised.

    Raises:
        EngineError: (from the function yielded) the process ended abruptly
            (out of memory, or killed).
    """
    if not enabled or not parallel():
        yield lambda: function(*args)
        return
    receiving, sending = multiprocessing.Pipe(duplex=False)
    process = multiprocessing.get_context("fork").Process(
        target=_run_and_send, args=(os.getpid(), sending, function, args), daemon=True
    )

    def result():
        try:
            outcome, value = receiving.recv()
        except EOFError:
            raise EngineError(
                f"the process running {function.__name__} ended abruptly (out of memory, or killed); "
                "nothing was stored or written."
            ) from None
        if outcome == "error":
            raise value
        return value

    try:
        # Started inside the ``try``: a Ctrl-C held while forking is raised
        # as the signals are let through again, and by then the process
        # runs; it must be stopped before the caller removes what it writes.
        with _stop_signals_held():
            process.start()
        sending.close()
        yield result
    finally:
        if process.pid is not None:
            if process.is_alive():
                process.terminate()
            process.join()
        sending.close()
        receiving.close()


def _run_and_send(parent: int, sending, function: Callable, args: tuple) -> None:
    _as_worker(parent)
    try:
        sending.send(("result", function(*args)))
    except BaseException as error:  # handed to the main process, which raises it
        sending.send(("error", error))
