"""The access and retention policy: who may see the reports of which
positions, and how long personal data is kept.

A small YAML file (``access_policy.yaml``, or ``--policy`` /
``ADJUDICATE_POLICY``), loaded strictly like the rulebook::

    roles:
      legal:
        positions: all
        may: [view, review, decide]
      hr_logistics:
        positions: [van_driver, forklift_operator, warehouse_picker]
        may: [view, review]
    users:
      legal-counsel: [legal]
      hr-logistics-officer: [hr_logistics]
    retention:
      default_days: 365
      positions:
        childcare_worker: 1095
      work_locations:
        US: {at_least: 365}
        US-CA: {at_least: 1460}
        CN: {at_most: 365}

See ``docs/decision-record.md``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from engine.errors import AccessDenied, AdjudicateError, InvalidConfiguration, allowed, did_you_mean
from engine.inputs.applications import WORK_LOCATION, WORK_LOCATION_HINT, enclosing_locations
from engine.inputs.strict_yaml import YamlMap, key_problems, load_yaml
from engine.vocabulary import Permission

# A candidate's days to respond to a pre-adverse notice where the policy
# names none (California Gov. Code §12952: at least 5 business days).
DEFAULT_RESPONSE_DAYS = 5

DEFAULT_POLICY = Path("access_policy.yaml")
DEFAULT_RETENTION_DAYS = 365
ACTIONS = Permission.words()  # what 'may' lists, in the policy file's words
_TOP_KEYS = ("roles", "users", "retention", "notices")
_ROLE_KEYS = ("positions", "may")
_RETENTION_KEYS = ("default_days", "positions", "work_locations")
_LIMIT_KEYS = ("at_least", "at_most")


class PolicyError(AdjudicateError):
    """A problem in the access policy file."""


@dataclass(frozen=True)
class Role:
    """A role of the policy: the positions it covers and what it may do.

    Attributes:
        positions: the position ids covered; None for every position.
        may: the permissions granted.
    """

    positions: frozenset | None  # None: every position
    may: frozenset  # of Permission

    def covers(self, position_id: str | None) -> bool:
        """Whether the role covers a position (a decision without one only
        when the role covers every position)."""
        return self.positions is None or (position_id is not None and position_id in self.positions)


@dataclass(frozen=True)
class Policy:
    """The access and retention policy, as loaded by ``load_policy``.

    Attributes:
        roles: role name -> ``Role``.
        users: user name -> their role names.
        default_days: days personal data is kept, where no position says otherwise.
        days_by_position: position id -> days kept.
        path: the policy file; None for the built-in default.
        days_at_least: work location (``US-CA``) -> the fewest days its law
            lets records be kept; applies to the jobs there and inside it.
        days_at_most: work location (``CN``) -> the most days records of
            jobs there may be kept.
        response_days: jurisdiction (or "default") -> business days to
            respond to a pre-adverse notice.
    """

    roles: dict  # role name -> Role
    users: dict  # user -> tuple of role names
    default_days: int
    days_by_position: dict
    path: Path | None
    response_days: dict  # jurisdiction (or "default") -> business days to respond to a notice
    days_at_least: dict = dataclasses.field(default_factory=dict)  # work location -> days
    days_at_most: dict = dataclasses.field(default_factory=dict)  # work location -> days

    def allows(self, user: str, action: Permission | str, position_id: str | None) -> bool:
        """Whether one of ``user``'s roles grants ``action`` for the position
        (False for a user the policy does not name)."""
        return any(
            action in self.roles[role].may and self.roles[role].covers(position_id)
            for role in self.users.get(user, ())
        )

    def require(self, user: str, action: Permission | str, position_id: str | None) -> None:
        """Raise AccessDenied unless ``user`` may ``action`` for the position."""
        self.check_user(user)
        if not self.allows(user, action, position_id):
            raise AccessDenied(
                f"user '{user}' (roles {', '.join(self.users[user])}) may not {Permission(action).verb} for the "
                f"position '{position_id or 'unknown'}'."
            )

    def days_to_respond(self, work_location: str | None) -> int:
        """Business days a candidate has to respond to a pre-adverse notice
        for a job in ``work_location``.

        Args:
            work_location (str | None): where the job is, upper case (such
                as ``US-NY-NYC``); '' or None when unknown.

        Returns:
            int: the days the policy gives the most specific jurisdiction
            that it names (``US-NY-NYC``, then ``US-NY``, then ``US``), else
            its ``default``, else ``DEFAULT_RESPONSE_DAYS``.
        """
        for jurisdiction in enclosing_locations(work_location):
            if jurisdiction in self.response_days:
                return self.response_days[jurisdiction]
        return self.response_days.get("default", DEFAULT_RESPONSE_DAYS)

    def check_user(self, user: str) -> None:
        """Raise AccessDenied unless the policy names ``user``."""
        if user not in self.users:
            # No "did you mean" here: it would tell a stranger who may see what.
            raise AccessDenied(f"user '{user}' is not in the access policy {self.path}; ask for a role there.")

    def retention_days(self, position_id: str | None, work_location: str = "") -> int:
        """Days personal data of a decision is kept: the position's days
        (or the default), raised to the longest minimum that the law of the
        work location or of a jurisdiction it lies in sets (a job in
        ``US-CA-LA`` is in ``US-CA`` and ``US``), then lowered to the
        shortest maximum among them.

        Minimums: 29 CFR 1602.14 (US: one year from the record or the
        personnel action), 2 CCR §11013(c) (California: four years), the
        Los Angeles Fair Chance Initiative for Hiring Ordinance (three
        years); a maximum: PIPL Art. 19 (the PRC: the shortest period
        necessary), as the employer's policy sets it.

        Args:
            position_id: the decision's position; None if unknown.
            work_location: where the job is (``US-CA``); '' if unknown.

        Returns:
            int: days, at least 1.
        """
        days = self.days_by_position.get(position_id, self.default_days)
        places = enclosing_locations(work_location)
        floors = [self.days_at_least[place] for place in places if place in self.days_at_least]
        ceilings = [self.days_at_most[place] for place in places if place in self.days_at_most]
        if floors:
            days = max(days, *floors)
        if ceilings:
            days = min(days, *ceilings)
        return days

    def retain_until(self, position_id: str | None, since: dt.date, work_location: str = "") -> dt.date:
        """The last day personal data of a decision is kept: ``since`` (the
        evaluation, or the final decision once there is one) plus
        ``retention_days``.

        Args:
            position_id: the decision's position; None if unknown.
            since: the day the period runs from.
            work_location: where the job is; '' if unknown.

        Returns:
            datetime.date: the last day kept; purge destroys the data after it.
        """
        return since + dt.timedelta(days=self.retention_days(position_id, work_location))


DEFAULT = Policy(
    roles={}, users={}, default_days=DEFAULT_RETENTION_DAYS, days_by_position={}, path=None, response_days={}
)


def policy_path(option: Path | None) -> Path:
    """The policy file: the option, else ADJUDICATE_POLICY, else ``access_policy.yaml``."""
    if option is not None:
        return Path(option)
    return Path(os.environ.get("ADJUDICATE_POLICY", DEFAULT_POLICY))


def load_policy(path: Path, *, required: bool) -> Policy:
    """The policy in ``path``; without the file, the default retention and
    nobody allowed to view anything (or an error if ``required``)."""
    path = Path(path)
    if not path.exists():
        if required:
            raise PolicyError(
                "no access policy: create it (see docs/decision-record.md) or name it with --policy.",
                file=str(path),
            )
        return DEFAULT
    document = load_yaml(path, PolicyError)
    problems: list[PolicyError] = []

    def problem(message, line):
        problems.append(PolicyError(message, file=str(path), line=line))

    if not isinstance(document, YamlMap):
        raise PolicyError(f"the policy must be a mapping with {allowed(_TOP_KEYS)}.", file=str(path), line=1)
    for message, line in key_problems(document, _TOP_KEYS, "the policy"):
        problem(message, line)
    for key in ("roles", "users"):
        if not isinstance(document.get(key) or {}, dict):
            raise PolicyError(f"'{key}' must be a mapping, by name.", file=str(path), line=document.line_of(key))
    roles: dict = {}
    for role, entry in (document.get("roles") or {}).items():
        line = document["roles"].line_of(role)
        if not isinstance(entry, dict):
            problem(f"role '{role}' needs 'positions: all' or a list of position ids.", line)
            continue
        for message, key_line in key_problems(entry, _ROLE_KEYS, f"role '{role}'"):
            problem(message, key_line)
        positions = entry.get("positions")
        may = entry.get("may", [Permission.VIEW.value])
        if not isinstance(may, list) or not all(action in ACTIONS for action in may):
            problem(f"'may' in role '{role}' lists actions from {allowed(ACTIONS)}.", entry.line_of("may"))
            continue
        if positions == "all":
            roles[role] = Role(None, frozenset(map(Permission, may)))
        elif isinstance(positions, list) and all(isinstance(p, str) for p in positions):
            roles[role] = Role(frozenset(positions), frozenset(map(Permission, may)))
        else:
            problem(f"role '{role}' needs 'positions: all' or a list of position ids.", line)
    users: dict = {}
    for user, user_roles in (document.get("users") or {}).items():
        listed = user_roles if isinstance(user_roles, list) else [user_roles]
        if not all(isinstance(r, str) for r in listed):
            problem(f"user '{user}' lists roles by name, such as [legal].", document["users"].line_of(user))
            continue
        unknown = [r for r in listed if r not in roles]
        if unknown:
            problem(f"user '{user}' has the unknown role '{unknown[0]}'; roles: {allowed(roles)}."
                    + did_you_mean(str(unknown[0]), roles), document["users"].line_of(user))
            continue
        users[str(user)] = tuple(listed)
    retention = document.get("retention") or YamlMap()
    default_days = retention.get("default_days", DEFAULT_RETENTION_DAYS) if isinstance(retention, dict) else None
    by_position = retention.get("positions", {}) if isinstance(retention, dict) else None
    if not _days(default_days):
        problem("'default_days' must be a whole number of days, at least 1.", getattr(retention, "line", None))
    if not isinstance(by_position, dict) or not all(_days(d) for d in by_position.values()):
        problem("'retention: positions' maps position ids to whole numbers of days.", getattr(retention, "line", None))
    if isinstance(retention, dict):
        for message, key_line in key_problems(retention, _RETENTION_KEYS, "'retention'"):
            problem(message, key_line)
    at_least, at_most = _limits(retention, problem)
    notices = document.get("notices") or {}
    response_days = notices.get("response_business_days", {}) if isinstance(notices, dict) else None
    if not isinstance(response_days, dict) or not all(_days(d) for d in response_days.values()):
        problem("'notices: response_business_days' maps 'default' or a jurisdiction (such as US-CA) "
                "to a whole number of business days, at least 1.", document.line_of("notices"))
    elif unknown := [k for k in response_days if k != "default" and not WORK_LOCATION.fullmatch(str(k))]:
        # A key that no work location can match would never apply, silently.
        problem(f"'notices: response_business_days' names '{unknown[0]}', which is not a jurisdiction; "
                f"{WORK_LOCATION_HINT} in upper case, or 'default'.", response_days.line_of(unknown[0]))
    if problems:
        raise InvalidConfiguration(f"The access policy {path}", problems)
    return Policy(roles, users, default_days, dict(by_position), path, dict(response_days or {}), at_least, at_most)


def _limits(retention, problem) -> tuple[dict, dict]:
    """The ``work_locations`` entries of the retention section: (at least,
    at most), each work location -> days; problems reported, not raised."""
    entries = retention.get("work_locations", {}) if isinstance(retention, dict) else {}
    at_least: dict = {}
    at_most: dict = {}
    if not isinstance(entries, dict):
        problem("'retention: work_locations' maps work locations (such as US-CA) to {at_least: DAYS} "
                "and/or {at_most: DAYS}.", getattr(retention, "line", None))
        return at_least, at_most
    for place, limits in entries.items():
        line = entries.line_of(place) if hasattr(entries, "line_of") else None
        if not isinstance(place, str) or not WORK_LOCATION.fullmatch(place):
            problem(f"'{place}' in 'retention: work_locations' is not a work location; {WORK_LOCATION_HINT}.", line)
            continue
        if not isinstance(limits, dict) or not limits:
            problem(f"work location '{place}' in 'retention' needs at_least: DAYS and/or at_most: DAYS.", line)
            continue
        for message, key_line in key_problems(limits, _LIMIT_KEYS, f"work location '{place}'"):
            problem(message, key_line)
        for key, target in (("at_least", at_least), ("at_most", at_most)):
            if key in limits:
                if _days(limits[key]):
                    target[place] = limits[key]
                else:
                    problem(f"'{key}' of work location '{place}' must be a whole number of days, at least 1.", line)
    # A maximum below a minimum that applies to the same jobs cannot be
    # kept to: the policy is refused rather than one of the laws ignored.
    for place, most in at_most.items():
        for wider in at_least:
            if (place == wider or place.startswith(wider + "-") or wider.startswith(place + "-")) \
                    and at_least[wider] > most:
                problem(f"work location '{place}' keeps records at most {most} days, but '{wider}' asks for at "
                        f"least {at_least[wider]}: no period meets both.", entries.line_of(place))
    return at_least, at_most


def _days(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1
