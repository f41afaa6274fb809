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


def _own_docstring(value) -> str:
    """The docstring a person wrote, not one Python made up: a dataclass or
    named tuple without one gets its signature, an enum a stock sentence."""
    text = (getattr(value, "__dict__", {}).get("__doc__") if isinstance(value, type) else value.__doc__) or ""
    made_up = text.startswith(f"{value.__name__}(") or text == "An enumeration."
    return "" if made_up else text.strip()


def test_every_public_name_exists_and_has_a_docstring():
    import engine

    assert engine.__doc__ and "usecases" in engine.__doc__
    assert len(engine.__all__) == len(set(engine.__all__)), "a name is listed twice in engine.__all__"
    undocumented = [
        name for name in engine.__all__
        if name != "__version__" and not _own_docstring(getattr(engine, name))
    ]
    assert not undocumented, f"public names without a docstring: {', '.join(undocumented)}"
    assert isinstance(engine.__version__, str)


def test_importing_engine_loads_neither_the_store_nor_the_rule_engine():
    # A worker process, or ``adjudicate --help``, imports engine first: the
    # public names are imported on first use, not by ``import engine``.
    heavy = ("sqlalchemy", "durable", "pandas", "jinja2")
    result = subprocess.run(
        [sys.executable, "-c", "import sys, engine, engine.errors; "
         f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({heavy!r})))"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]", result.stdout


def test_options_shared_by_commands_are_written_once():
    """--user is defined by ``user_option`` and the start of a command the
    policy governs by ``policy_session`` (engine/cli/options.py); a command
    module repeats neither."""
    commands = [path for path in (ROOT / "engine" / "cli").glob("*.py") if path.name != "options.py"]
    for path in commands:
        text = path.read_text(encoding="utf-8")
        assert '"--user"' not in text, path.name
        assert "access_policy(policy, required=True)" not in text, path.name
