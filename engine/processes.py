"""Worker processes: a pool that evaluates parts, and one process that
does a side job while the main one does another.

Processes, never threads: durable-rules has no locks and never releases the
GIL. On Linux they are forked, so that a worker starts with the rulebook and
tables already loaded; elsewhere they are spawned. Every worker ignores
Ctrl-C: the terminal sends it to the whole process group, and the main
process alone handles it, by stopping the workers and removing what was
written.
"""

from __future__ import annotations

import multiprocessing
import signal
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager


def _context():
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    return multiprocessing.get_context(method)


def _ignore_ctrl_c(initializer: Callable | None = None, *args) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if initializer is not None:
        initializer(*args)


def pool_map(
    function: Callable, items: Iterable, *, workers: int, initializer: Callable, initargs: tuple
) -> Iterator:
    """``function`` over ``items`` in ``workers`` processes, results as they
    come. Leaving the loop early (an error, Ctrl-C) stops the workers."""
    with _context().Pool(workers, initializer=_ignore_ctrl_c, initargs=(initializer, *initargs)) as pool:
        yield from pool.imap_unordered(function, items)


@contextmanager
def beside(function: Callable, *args, enabled: bool = True) -> Iterator[Callable[[], object]]:
    """Run ``function(*args)`` in a forked process while the block runs;
    the block calls the value given to get the result (or the error). The
    arguments are inherited, not pickled, so they may be open files. Not
    ``enabled``, or where processes cannot be forked, it runs in this
    process when the result is asked for."""
    if not enabled or "fork" not in multiprocessing.get_all_start_methods():
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
            raise RuntimeError(f"the process running {function.__name__} ended without a result") from None
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
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        sending.send(("result", function(*args)))
    except BaseException as error:  # handed to the main process, which raises it
        sending.send(("error", error))
