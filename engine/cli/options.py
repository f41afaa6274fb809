"""Options and error handling shared by the commands, written once."""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path

import click

from engine import usecases
from engine.dates import FORMAT_HINT, parse_iso_date
from engine.errors import AdjudicateError
from engine.usecases.setting import Policy, Store

DEFAULT_RULES = Path("rules")
DEFAULT_TABLES = Path("position_risk_tables")


def parse_date(ctx, param, value):
    """A YYYY-MM-DD option; today when it is not given."""
    if value is None:
        return dt.date.today()
    try:
        return parse_iso_date(value)
    except ValueError:
        raise click.BadParameter(f"'{value}' is not a date; {FORMAT_HINT}.") from None


def parse_optional_date(ctx, param, value):
    """A YYYY-MM-DD option; None when it is not given."""
    return None if value is None else parse_date(ctx, param, value)


def rules_option(function):
    """--rules: the rulebook folder or file."""
    return click.option(
        "--rules",
        "rules",
        type=click.Path(path_type=Path),
        default=DEFAULT_RULES,
        show_default=True,
        help="Rulebook folder (with rulebook.yaml) or rulebook file.",
    )(function)


def tables_option(function):
    """--tables: the position risk tables folder."""
    return click.option(
        "--tables",
        "tables",
        type=click.Path(path_type=Path),
        default=DEFAULT_TABLES,
        show_default=True,
        help="Folder with positions.csv and relevance.csv.",
    )(function)


def store_options(function):
    """--db and --key-file, for every command that uses the decision store."""
    function = click.option(
        "--key-file",
        envvar="ADJUDICATE_KEY_FILE",
        help="The store's encryption key.  [env: ADJUDICATE_KEY_FILE; default: beside a SQLite store]",
    )(function)
    return click.option(
        "--db",
        envvar="ADJUDICATE_DB",
        help=f"Store URL (sqlite:///FILE or postgresql://...).  [env: ADJUDICATE_DB; default: {usecases.DEFAULT_DB}]",
    )(function)


def policy_option(function):
    """--policy: the access and retention policy file."""
    return click.option(
        "--policy",
        type=click.Path(path_type=Path),
        help="Access and retention policy.  [env: ADJUDICATE_POLICY; default: access_policy.yaml]",
    )(function)


def user_option(help: str, *, required: bool = False):
    """--user: who acts, for the audit trail and the access policy.

    Args:
        help: the option's help, in the words of the command (who verifies,
            who issues, ...), with its default when it is not required.
        required: the command refuses to run without it.
    """
    return click.option("--user", required=required, help=help)


def open_store(db, key_file, *, create: bool = False):
    """Only evaluate creates a store; every other command needs one that exists."""
    return usecases.open_store(db, key_file, announce=lambda message: click.echo(message, err=True), create=create)


def policy_session(db, key_file, policy, user: str | None) -> tuple[Store, Policy, usecases.Actor]:
    """Open the existing store, read the access policy (it must exist) and
    identify ``user`` against it: the start of every command whose action
    the policy allows or refuses.

    Args:
        db: the store URL, or None for the default.
        key_file: the store's key file, or None for the default.
        policy: the policy file, or None for the default.
        user: who acts; None for the OS user.

    Returns:
        The store, the policy and the actor.

    Raises:
        AdjudicateError: the store, its key or the policy cannot be read.
    """
    store = open_store(db, key_file)
    rules = usecases.access_policy(policy, required=True)
    return store, rules, usecases.identify(user, rules)


def reports_errors(exit_code: int):
    """Turn library errors into messages with ``exit_code``, never tracebacks."""

    def decorate(function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            try:
                return function(*args, **kwargs)
            except AdjudicateError as error:
                exception = click.ClickException(str(error))
                exception.exit_code = exit_code
                raise exception from None

        return wrapper

    return decorate


def count(number: int, noun: str, plural: str | None = None) -> str:
    """``1 memo``, ``2 memos``."""
    return f"{number} {noun if number == 1 else (plural or noun + 's')}"
