"""Importing vendors' screening reports: the import job as a use case.

Import maps; it decides nothing. It reads report JSON through an import
profile and writes the findings batch that ``evaluate`` reads, and a
rejects file beside it. It touches no store and records nothing: the batch
is an input like one HR typed.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from engine.documents.reports import csv_text
from engine.errors import allowed, did_you_mean
from engine.inputs.tabular import read_table
from engine.inputs.vendor import (
    BATCH_COLUMNS,
    REJECT_COLUMNS,
    ImportedFinding,
    Profile,
    ProfileError,
    Reject,
    ReportError,
    ReportReading,
    load_profile,
    read_report,
)
from engine.rulebook.model import load_rulebook
from engine.usecases.actor import Actor
from engine.usecases.outputs import OutputFile, write_files

__all__ = ["DEFAULT_PROFILES", "ImportReport", "import_reports", "rejects_path", "resolve_profile"]

DEFAULT_PROFILES = Path("rules") / "import"
APPLICATION_COLUMNS = ("candidate_id", "position_id")
APPLICATION_OPTIONAL = ("work_location",)


@dataclass(frozen=True)
class ImportReport:
    """What an import did.

    Attributes:
        reports: report files read (not rejected whole).
        files: report files given (each counted once).
        findings: rows written to the batch.
        rejected: rows written to the rejects file.
        batch: the batch file written.
        rejects: the rejects file written beside it.
        notices: what the user should know (how a file was read, dates
            import had to take from the report), one sentence each.
    """

    reports: int
    files: int
    findings: int
    rejected: int
    batch: Path
    rejects: Path
    notices: tuple[str, ...]


def rejects_path(out: Path) -> Path:
    """The rejects file beside the batch ``out``: ``batch.csv`` -> ``batch.rejects.csv``."""
    out = Path(out)
    return out.with_name(f"{out.stem}.rejects.csv")


def resolve_profile(profile: str | Path, profiles: Path = DEFAULT_PROFILES) -> Path:
    """The YAML file of a profile given by name (``checkr``) or as a path.

    Args:
        profile: a profile name, looked up as ``<profiles>/<name>.yaml``,
            or the path of a profile file.
        profiles: the folder of named profiles.

    Returns:
        pathlib.Path: the profile file.

    Raises:
        ProfileError: there is no such profile; the message lists those there are.
    """
    given = Path(profile)
    if given.suffix.lower() in (".yaml", ".yml") or given.is_file():
        if not given.is_file():
            raise ProfileError("the import profile does not exist; check the path.", file=str(given))
        return given
    path = Path(profiles) / f"{profile}.yaml"
    if path.is_file():
        return path
    names = sorted(p.stem for p in Path(profiles).glob("*.yaml")) if Path(profiles).is_dir() else []
    raise ProfileError(
        f"unknown import profile '{profile}'; "
        + (f"the profiles in {profiles} are {allowed(names)}." if names else f"{profiles} holds no profile.")
        + did_you_mean(str(profile), names)
        + " Pass a profile file (.yaml) or --profiles with the folder of profiles.",
        file=str(path),
    )


def import_reports(
    actor: Actor,
    reports: Sequence[Path],
    *,
    profile: str | Path,
    applications: Path,
    out: Path,
    profiles: Path = DEFAULT_PROFILES,
    rules: Path | None = None,
    obtained_on: dt.date | None = None,
    encoding: str = "utf-8",
) -> ImportReport:
    """Read vendor reports through an import profile; write the findings
    batch ``out`` and the rejects file beside it (``rejects_path``).

    The output is the same bytes whatever the order of ``reports``: rows
    are sorted by candidate and finding id, rejects by file and JSON path.
    A report id found in two files is imported from the file whose name
    sorts first; the other is rejected.

    Args:
        actor: who imports. Import records nothing in the store; the
            argument keeps every use case alike for the front ends.
        reports: the report JSON files.
        profile: the profile's name (in ``profiles``) or file.
        applications: the applications file (CSV, XLSX or JSON:
            candidate_id, position_id, ...); a report of a candidate with
            no application is rejected whole.
        out: the batch file to write (CSV); the rejects file goes beside it.
        profiles: the folder of named profiles.
        rules: the rulebook whose categories the profile must use; None
            to skip that check.
        obtained_on: when the reports were obtained, for reports that do
            not say (``--obtained-on``).
        encoding: the text encoding of the reports and the applications file.

    Returns:
        ImportReport: counts, notices and the files written. Both files are
        written even when nothing could be read (then ``reports`` is 0).

    Raises:
        ProfileError, InvalidConfiguration: the profile cannot be used.
        RulebookError: the rulebook cannot be loaded.
        InputFileError: the applications file cannot be used.
        ReportError: the output is a folder, its folder does not exist,
            or it would overwrite an input.
        OutputError: a file cannot be written; neither file is changed.
    """
    loaded = load_profile(resolve_profile(profile, profiles))
    if rules is not None:
        _check_categories(loaded, rules)
    table = read_table(applications, what="applications file", required=APPLICATION_COLUMNS,
                       optional=APPLICATION_OPTIONAL, encoding=encoding)
    notices = [notice.text for notice in table.notices]
    candidates = frozenset(table.frame["candidate_id"])
    out = Path(out)
    rejects_file = rejects_path(out)
    files = _distinct(reports)
    for path in files:
        if _same_file(path, out) or _same_file(path, rejects_file):
            raise ReportError("the output file is one of the reports; write the batch elsewhere with -o.",
                              file=str(out))
    readings = [
        read_report(path, loaded, applications=candidates, name=str(path), obtained_on=obtained_on, encoding=encoding)
        for path in sorted(files, key=str)
    ]
    findings, rejects = _merge(readings)
    for reading in readings:
        notices.extend(reading.notices)
    _check_output(out)
    # Both files or neither, each cell neutralised like every output CSV
    # (a text a spreadsheet would run as a formula gets an apostrophe).
    write_files([
        OutputFile(out, csv_text(BATCH_COLUMNS, (finding.row() for finding in findings))),
        OutputFile(rejects_file, csv_text(REJECT_COLUMNS, (reject.row() for reject in rejects))),
    ])
    return ImportReport(
        reports=sum(reading.read for reading in readings), files=len(files), findings=len(findings),
        rejected=len(rejects), batch=out, rejects=rejects_file, notices=tuple(notices),
    )


def _check_categories(profile: Profile, rules: Path) -> None:
    """Every category the profile writes must be one the rulebook knows,
    or evaluate would reject every such row."""
    known = load_rulebook(rules).categories
    unknown = sorted(profile.categories - set(known))
    if unknown:
        raise ProfileError(
            f"the profile writes {allowed(unknown)}, which the rulebook ({rules}) does not know; "
            f"its categories are {allowed(known)}." + did_you_mean(unknown[0], known),
            file=str(profile.path),
        )


def _distinct(reports: Sequence[Path]) -> list[Path]:
    """Each file once, however often it is named."""
    seen, files = set(), []
    for path in map(Path, reports):
        key = os.path.realpath(path)
        if key not in seen:
            seen.add(key)
            files.append(path)
    return files


def _same_file(one: Path, other: Path) -> bool:
    return os.path.realpath(one) == os.path.realpath(other)


def _merge(readings: Sequence[ReportReading]) -> tuple[list[ImportedFinding], list[Reject]]:
    """All readings' findings and rejects, in output order; a report id read
    from two files is kept from the first (by file name) only."""
    findings: list[ImportedFinding] = []
    rejects: list[Reject] = []
    first_file: dict[str, str] = {}
    for reading in readings:  # sorted by file name
        rejects.extend(reading.rejects)
        if not reading.read:
            continue
        if reading.report_id in first_file:
            rejects.append(Reject(
                reading.file, "$", reading.candidate_id,
                f"the report id '{reading.report_id}' is also that of {first_file[reading.report_id]}, which was "
                "imported; a report is imported once.",
            ))
            continue
        first_file[reading.report_id] = reading.file
        findings.extend(reading.findings)
    findings.sort(key=lambda finding: (finding.candidate_id, finding.finding_id))
    rejects.sort(key=lambda reject: (reject.file, reject.json_path, reject.reason))
    return findings, rejects


def _check_output(out: Path) -> None:
    """Raise ReportError unless the batch file ``out`` can be written: it
    names a file (not a folder) in a folder that exists."""
    folder = out.parent if str(out.parent) else Path(".")
    if out.is_dir():
        raise ReportError("this is a folder; -o names the batch file to write, e.g. batch.csv.", file=str(out))
    if not folder.is_dir():
        raise ReportError(f"the folder {folder} does not exist; create it first.", file=str(out))
