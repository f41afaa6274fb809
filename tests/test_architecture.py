"""The shape of the package, checked: the layer contract and the docstrings.

The layers (``.importlinter``): a lower layer never imports a higher one,
and only the record layer speaks SQL. Public names carry docstrings: a new
engineer, or employment counsel reading the code, learns from each one what
it takes, what it returns and what it raises.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Public functions, classes and methods of ``engine`` that must have a docstring.
MIN_DOCSTRING_COVERAGE = 95.0


def test_the_layer_contract_is_kept():
    result = subprocess.run(
        [sys.executable, "-c", "from importlinter.cli import lint_imports_command; lint_imports_command()",
         "--no-cache", "--config", str(ROOT / ".importlinter")],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "broken" in result.stdout and " 0 broken" in result.stdout, result.stdout


def test_public_names_have_docstrings():
    from interrogate.config import InterrogateConfig
    from interrogate.coverage import InterrogateCoverage

    config = InterrogateConfig(
        ignore_init_method=True, ignore_init_module=True, ignore_magic=True, ignore_private=True,
        ignore_semiprivate=True, ignore_nested_functions=True, ignore_nested_classes=True,
        ignore_property_decorators=False, fail_under=MIN_DOCSTRING_COVERAGE,
    )
    results = InterrogateCoverage(
        paths=[str(ROOT / "engine")], conf=config, excluded=(str(ROOT / "engine" / "record" / "migrations"),),
    ).get_coverage()
    missing = sorted(
        f"{Path(file.filename).relative_to(ROOT)}:{node.lineno} {node.name}"
        for file in results.file_results for node in file.nodes if not node.covered
    )
    assert results.perc_covered >= MIN_DOCSTRING_COVERAGE, (
        f"{results.perc_covered:.1f}% of public names have a docstring, below {MIN_DOCSTRING_COVERAGE}%; "
        f"{len(missing)} without one:\n" + "\n".join(missing)
    )
