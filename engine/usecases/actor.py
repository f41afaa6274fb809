"""Who acts: every use case takes the acting person as an ``Actor``.

A front end identifies the person (the command line from ``--user`` or the
operating-system account, later a web session) and finds their roles in the
access policy; the use case checks what those roles allow and names the
person in the audit trail.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass

from engine.record.access import Policy
from engine.vocabulary import Vocabulary

UNKNOWN_USER = "unknown"


class Identification(Vocabulary):
    """How a front end knows who acts."""

    OS_USER = "os_user"  # the operating-system account running the command
    OPTION = "option"  # a name typed on the command line (--user, --reviewer, --approver)
    SESSION = "session"  # a signed-in session of a web front end


@dataclass(frozen=True)
class Actor:
    """The person (or job) doing an action.

    Attributes:
        who: the name the access policy and the audit trail use.
        roles: the person's roles in the access policy; empty when the
            policy does not name them (or there is no policy).
        identified_by: how the front end knows who acts.
    """

    who: str
    roles: tuple[str, ...]
    identified_by: Identification

    def __str__(self) -> str:
        return self.who


def os_user() -> str:
    """The operating-system account running this process, or ``"unknown"``
    when the system cannot tell (a container without a password entry)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return UNKNOWN_USER


def identify(name: str | None, policy: Policy | None = None) -> Actor:
    """The actor of a command: the typed name if there is one, else the
    operating-system account.

    Args:
        name: the name given with ``--user`` (or ``--reviewer``,
            ``--approver``); None or empty for the OS user.
        policy: the access policy to read the person's roles from; None
            when the action needs no policy (the actor then has no roles).

    Returns:
        The ``Actor``; never raises: whether the person may act is the use
        case's check.
    """
    who, how = (name, Identification.OPTION) if name else (os_user(), Identification.OS_USER)
    roles = tuple(policy.users.get(who, ())) if policy is not None else ()
    return Actor(who=who, roles=roles, identified_by=how)
