"""``python -m benchmarks``: measure adjudicate's throughput and memory."""

from __future__ import annotations

import os
from pathlib import Path

import click

from .runner import DEFAULT_DATA, DEFAULT_RESULTS, Settings, parse_size, run


def _sizes(ctx, param, value: str) -> tuple[str, ...]:
    sizes = tuple(size.strip() for size in value.split(",") if size.strip())
    for size in sizes:
        try:
            parse_size(size)
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from None
    return sizes


@click.command()
@click.option("--sizes", default="10k,100k,1m", show_default=True, callback=_sizes,
              help="Batch sizes in findings, comma-separated (k = thousand, m = million).")
@click.option("--workers", type=click.IntRange(min=1), default=os.cpu_count() or 1, show_default="all cores",
              help="Worker processes for adjudicate evaluate.")
@click.option("--seed", type=int, default=7, show_default=True, help="Seed of the generated batches.")
@click.option("--data", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_DATA,
              show_default="benchmarks/data", help="Where generated batches are cached and runs write.")
@click.option("--results", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_RESULTS,
              show_default="benchmarks/results", help="Where latest.json and latest.csv are written.")
@click.option("--skip-baseline", is_flag=True, help="Do not run the plain durable-rules baseline.")
def main(sizes, workers, seed, data, results, skip_baseline) -> None:
    """Benchmark adjudicate end to end against a plain durable-rules baseline.

    Example:

        python -m benchmarks --sizes 10k,100k
    """
    try:
        run(Settings(sizes, seed, workers, data, results, skip_baseline))
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None


if __name__ == "__main__":
    main(prog_name="python -m benchmarks")
