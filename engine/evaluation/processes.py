"""Worker processes: a pool that evaluates parts, and one process that
does a side job while the main one does another.

Processes, never threads: durable-rules has no locks and never releases the
GIL. They are forked, so that a worker starts with the rulebook, the tables
and the open input files of the main process, none of which can be pickled.
Forking is safe on Linux only; elsewhere everything runs in the main
process (``parallel`` says which). Every worker ignores Ctrl-C: the
terminal sends it to the whole process group, and the main process alone
handles it, by stopping the workers and removing what was written.
"""

from __future__ import annotations

import multiprocessing
import signal
import sys
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager

from engine.errors import EngineError


def parallel() -> bool:
    """Whether work may go to other processes here."""
    return sys.platform.startswith("linux")


def _as_worker(initializer: Callable | None = None, *args) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The main process's SIGTERM handler stops a run; a worker just ends.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if initializer is not None:
        initializer(*args)


def pool_map(
    function: Callable, items: Iterable, *, workers: int, initializer: Callable, initargs: tuple
) -> Iterator:
    """``function`` over ``items`` in ``workers`` forked processes, results
    as they come. A worker that dies (out of memory, a crash in the rule
    engine) fails the run with an EngineError instead of hanging it.
    Leaving the loop early (an error, Ctrl-C) stops the workers at once."""
    executor = ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context("fork"),
        initializer=_as_worker, initargs=(initializer, *initargs),
    )
    pending: set = set()
    try:
        pending = {executor.submit(function, item) for item in items}
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield future.result()
    except BrokenProcessPool:
        raise EngineError(
            "a worker process ended abruptly (out of memory, or killed); nothing was stored or written. "
            "Try fewer --workers or a smaller --chunk-size."
        ) from None
    finally:
        if pending:
            # Not waiting for parts in progress: stopping is what was asked.
            for child in multiprocessing.active_children():
                child.terminate()
        executor.shutdown(wait=True, cancel_futures=True)


@contextmanager
def beside(function: Callable, *args, enabled: bool = True) -> Iterator[Callable[[], object]]:
    """Run ``function(*args)`` in a forked process while the block runs;
    the block calls the value given to get the result (or the error). The
    arguments are inherited, not pickled, so they may be open files. Not
    ``enabled``, or where processes cannot be forked, it runs in this
    process when the result is asked for."""
    if not enabled or not parallel():
        yield lambda: function(*args)
        return
    receiving, sending = multiprocessing.Pipe(duplex=False)
    process = multiprocessing.get_context("fork").Process(
        target=_run_and_send, args=(sending, function, args), daemon=True
    )
    process.start()
    sending.close()

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
        yield result
    finally:
        if process.is_alive():
            process.terminate()
        process.join()
        receiving.close()


def _run_and_send(sending, function: Callable, args: tuple) -> None:
    _as_worker()
    try:
        sending.send(("result", function(*args)))
    except BaseException as error:  # handed to the main process, which raises it
        sending.send(("error", error))
