"""The organisation file (``organisation.yaml`` in the workspace): who the
employer is and which screening agency prepared the reports, as the
candidate notices must name them.

A notice is a letter from the employer: its name and address head it, and
its contact is where the candidate responds and, in the PRC, exercises the
rights of the Personal Information Protection Law (PIPL Arts. 17, 44-46,
50: the processor's name and contact). A US adverse notice must name the
consumer reporting agency that furnished the report, with its address and
toll-free number (FCRA §615(a)(3)(A), 15 U.S.C. §1681m(a)). One agency may
serve every finding (``screening_agency``), or one agency each finding
``source`` (``screening_agencies``, with a ``default`` for the others).

The file is loaded strictly (``engine.inputs.strict_yaml``): a key written
twice or not known is an error naming its line, with a "did you mean".
Which notice needs which part is the business of ``engine.workflow.notices``.

Format::

    employer:
      name: Example Logistics Ltd.
      address: 1 Harbour Road, Springfield
      contact: hr@example.com, +1 555 0100
    screening_agency:
      name: Example Screening Inc.
      address: 2 Archive Street, Springfield
      phone: 1-800-555-0199
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from engine.errors import AdjudicateError, InvalidConfiguration
from engine.inputs.strict_yaml import YamlMap, key_problems, load_yaml

DEFAULT_ORGANISATION = Path("organisation.yaml")
"""The organisation file when neither ``--organisation`` nor ``ADJUDICATE_ORGANISATION`` names one."""

_TOP_KEYS = ("employer", "screening_agency", "screening_agencies")
_EMPLOYER_KEYS = ("name", "address", "contact")
_AGENCY_KEYS = ("name", "address", "phone")
DEFAULT_AGENCY = "default"
"""The key of ``screening_agencies`` for every source not listed by name."""


class OrganisationError(AdjudicateError):
    """A problem in the organisation file, or a notice it cannot supply."""


@dataclass(frozen=True)
class Employer:
    """The employer that sends the notices.

    Attributes:
        name (str): its legal name, at the top of each letter.
        address (str): its postal address, under the name.
        contact (str): where the candidate writes (an e-mail address, a phone number).
    """

    name: str
    address: str
    contact: str


@dataclass(frozen=True)
class Agency:
    """A screening (consumer reporting) agency.

    Attributes:
        name (str): its name.
        address (str): its postal address.
        phone (str): its telephone number; toll-free for a US agency that
            compiles reports nationwide (FCRA §615(a)(3)(A)).
    """

    name: str
    address: str
    phone: str


@dataclass(frozen=True)
class Organisation:
    """What the organisation file holds; empty parts when it is missing.

    Attributes:
        path (str): the file read, for messages.
        found (bool): whether the file exists.
        employer (Employer | None): the employer, or None if not written.
        agencies (dict[str, Agency]): finding source -> its agency;
            ``default`` for every other source.
    """

    path: str
    found: bool = False
    employer: Employer | None = None
    agencies: dict = field(default_factory=dict)

    def agency_for(self, source: str) -> Agency | None:
        """The agency that reported a finding from ``source``.

        Args:
            source (str): the finding's ``source`` as the batch wrote it.

        Returns:
            Agency | None: the agency listed for it, else the default, else None.
        """
        return self.agencies.get(source) or self.agencies.get(DEFAULT_AGENCY)


def organisation_path(option: Path | None) -> Path:
    """The organisation file: the option, else ``ADJUDICATE_ORGANISATION``, else ``organisation.yaml``.

    Args:
        option (Path | None): ``--organisation`` as given, or None.

    Returns:
        Path: the file to read (it may not exist).
    """
    if option is not None:
        return Path(option)
    return Path(os.environ.get("ADJUDICATE_ORGANISATION", DEFAULT_ORGANISATION))


def load_organisation(path: Path) -> Organisation:
    """The organisation file at ``path``; an empty ``Organisation`` (``found``
    false) when there is no file: a notice that needs a part of it says so.

    Args:
        path (Path): the file.

    Returns:
        Organisation: its employer and agencies.

    Raises:
        OrganisationError: the file is not valid YAML, or not a mapping.
        InvalidConfiguration: the file has problems (each with its line):
            unknown or missing keys, values that are not text, both
            ``screening_agency`` and ``screening_agencies``.
    """
    path = Path(path)
    if not path.exists():
        return Organisation(path=str(path))
    document = load_yaml(path, OrganisationError)
    if not isinstance(document, YamlMap):
        raise OrganisationError(
            "the organisation file must be a mapping with 'employer' and 'screening_agency' (or "
            "'screening_agencies'); see docs/human-decision.md.", file=str(path), line=1,
        )
    problems: list[OrganisationError] = []

    def problem(message: str, line: int) -> None:
        problems.append(OrganisationError(message, file=str(path), line=line))

    for message, line in key_problems(document, _TOP_KEYS, "the organisation file"):
        problem(message, line)
    employer = None
    if "employer" in document:
        employer = _party(document, "employer", "'employer'", _EMPLOYER_KEYS, Employer, problem)
    agencies: dict = {}
    if "screening_agency" in document and "screening_agencies" in document:
        problem("write either 'screening_agency' (one agency for every finding) or 'screening_agencies' "
                "(one per finding source), not both.", document.line_of("screening_agencies"))
    elif "screening_agency" in document:
        agency = _party(document, "screening_agency", "'screening_agency'", _AGENCY_KEYS, Agency, problem)
        if agency is not None:
            agencies[DEFAULT_AGENCY] = agency
    elif "screening_agencies" in document:
        by_source = document["screening_agencies"]
        if not isinstance(by_source, YamlMap) or not by_source:
            problem("'screening_agencies' maps each finding source as the batch writes it (or 'default') "
                    "to an agency with 'name', 'address' and 'phone'.", document.line_of("screening_agencies"))
        else:
            for source in by_source:
                agency = _party(by_source, source, f"the agency of source '{source}'", _AGENCY_KEYS, Agency,
                                problem)
                if agency is not None:
                    agencies[str(source)] = agency
    if problems:
        raise InvalidConfiguration(f"The organisation file {path}", problems)
    return Organisation(path=str(path), found=True, employer=employer, agencies=agencies)


def _party(parent: YamlMap, key, where: str, keys: tuple[str, ...], kind, problem):
    # An employer or an agency: every key written, each a line of text.
    entry = parent[key]
    if not isinstance(entry, YamlMap):
        problem(f"{where} needs {', '.join(repr(k) for k in keys[:-1])} and '{keys[-1]}', each as text.",
                parent.line_of(key))
        return None
    found = list(key_problems(entry, keys, where, required=keys))
    for message, line in found:
        problem(message, line)
    bad = [k for k in keys if k in entry and (not isinstance(entry[k], (str, int)) or not str(entry[k]).strip())]
    for k in bad:
        problem(f"'{k}' of {where} must be text, not empty.", entry.line_of(k))
    if found or bad:
        return None
    return kind(**{k: " ".join(str(entry[k]).split()) for k in keys})


__all__ = [
    "DEFAULT_AGENCY", "DEFAULT_ORGANISATION", "Agency", "Employer", "Organisation", "OrganisationError",
    "load_organisation", "organisation_path",
]
