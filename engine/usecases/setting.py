"""What a front end opens before it calls use cases: the decision store and
the access policy. A command line opens them for one command; a server
would open them once."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from engine.record.access import Policy, load_policy, policy_path
from engine.record.store import DEFAULT_DB, Store

__all__ = ["DEFAULT_DB", "Policy", "Store", "access_policy", "open_store"]


def open_store(
    db: str | None, key_file: str | None, *, create: bool = False, announce: Callable[[str], None] = print
) -> Store:
    """The decision store at ``db``, with its key.

    Args:
        db: the store's URL (``sqlite:///FILE``, ``postgresql://...``) or a
            file path; None for ``ADJUDICATE_DB`` or the default file.
        key_file: the key file; None for ``ADJUDICATE_KEY_FILE`` or the file
            beside a SQLite store.
        create: create the store (and its key) if there is none; only the
            evaluation of a batch does, so that a misspelt URL is an error.
        announce: called with a message to show the person, such as the
            notice that a key was created.

    Returns:
        The opened ``Store``.

    Raises:
        StoreError: there is no store (and ``create`` is false), the key is
            missing or wrong, or the database cannot be used.
    """
    return Store(db, key_file, announce=announce, create=create)


def access_policy(path: Path | None, *, required: bool) -> Policy:
    """The access and retention policy.

    Args:
        path: the policy file; None for ``ADJUDICATE_POLICY`` or
            ``access_policy.yaml`` in the current folder.
        required: whether a missing file is an error; when it is not, the
            default retention applies and nobody may view anything.

    Returns:
        The ``Policy``.

    Raises:
        PolicyError: the file is missing and ``required``.
        InvalidConfiguration: the file has problems (each with its line).
    """
    return load_policy(policy_path(path), required=required)
