"""The shipped example's whole output folder, byte for byte.

The golden folder ``tests/golden/example/`` was written by the evaluate
command on ``examples/`` before the code was reorganised into subpackages;
this test holds every later version to the same bytes, file by file, so a
change of shape can never change what a user gets. When a change of
behaviour is meant to change the output, regenerate the folder with the
command in ``README.md`` (``--as-of 2026-11-01``, with the example's
applications file) and review the diff.
"""

from __future__ import annotations

from pathlib import Path

from conftest import EXAMPLES, EXAMPLE_BATCH, EXAMPLE_CONSENTS, assert_clean_exit, evaluate_args, run_cli

GOLDEN = Path(__file__).parent / "golden" / "example"


def _files(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


def test_example_output_folder_is_byte_identical_to_the_golden_one(tmp_path):
    out = tmp_path / "out"
    # As the README's first command runs it.
    result = run_cli(
        evaluate_args(EXAMPLE_BATCH, EXAMPLE_CONSENTS, out) + ["--applications", EXAMPLES / "applications.csv"]
    )
    assert_clean_exit(result)
    expected, written = _files(GOLDEN), _files(out)
    assert sorted(written) == sorted(expected)
    different = [name for name in expected if written[name] != expected[name]]
    assert not different, f"these output files differ from tests/golden/example/: {different}"
    assert len(expected) > 40  # every memo, both formats, and the four files
