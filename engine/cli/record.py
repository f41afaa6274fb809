"""The decision record: ``verify``, ``audit``, ``memo``, ``consistency`` and ``purge``."""

from __future__ import annotations

from pathlib import Path

import click

from engine import usecases
from engine.cli.options import (
    count,
    open_store,
    parse_date,
    parse_optional_date,
    policy_option,
    policy_session,
    reports_errors,
    store_options,
    user_option,
)
from engine.usecases.choices import FORMATS, MEMO_LANGUAGES


@click.command("verify")
@click.argument("decision_id", required=False)
@click.option("--batch", "batch_id", help="Verify every decision of this batch.")
@user_option("Who verifies, for the audit trail.  [default: the OS user]")
@store_options
@reports_errors(exit_code=1)
def verify_command(decision_id, batch_id, user, db, key_file):
    """Replay stored decisions and confirm they come out the same.

    Evaluates again from the stored canonical input, with the rulebook and
    tables versions and the evaluation date the decision used, and compares
    the decision id, the recommendation and every finding's handling and
    rule. Exit 1 with the differences if anything differs.

    Example:

        adjudicate verify D-93a0bf5f54b6b30f59d6
    """
    if (decision_id is None) == (batch_id is None):
        raise click.UsageError("give one DECISION_ID or --batch BATCH_ID.")
    store = open_store(db, key_file)
    verified = usecases.verify_decisions(usecases.identify(user), store, decision_id=decision_id, batch_id=batch_id)
    for tombstone in verified.purged:
        click.echo(f"{tombstone}: purged at the end of its retention period; nothing left to replay.")
    for r in verified.replays:
        if r.same:
            click.echo(
                f"{r.decision_id}: same recommendation ({r.decision.recommendation}) and handlings "
                f"({count(len(r.decision.findings), 'finding')}), replayed with rulebook {r.result.rulebook.version} "
                f"as of {r.result.as_of.isoformat()}."
            )
        else:
            click.echo(f"{r.decision_id}: DIFFERS")
            for difference in r.differences:
                click.echo(f"  {difference}")
    if verified.differing:
        raise click.ClickException(f"{len(verified.differing)} of {len(verified.replays)} decisions differ on replay.")


@click.group("audit")
def audit_group():
    """Verify and read the tamper-evident audit trail."""


@audit_group.command("verify")
@store_options
@reports_errors(exit_code=1)
def audit_verify(db, key_file):
    """Check the whole hash chain of the audit trail; exit 1 at the first broken entry.

    Prints the hash of the last entry: record it outside the store (a ticket,
    a signed mail) to detect later that entries were cut from the end.

    Example:

        adjudicate audit verify
    """
    store = open_store(db, key_file)
    result = usecases.verify_audit_trail(usecases.identify(None), store)
    if not result.intact:
        raise click.ClickException(f"the audit trail is broken at entry {result.broken_at}: {result.problem}")
    click.echo(f"The audit trail is intact: {count(result.count, 'entry', 'entries')}, head {result.head}.")


@audit_group.command("log")
@click.option("--candidate", help="Only entries about this candidate's decisions.")
@click.option("--since", callback=parse_optional_date, metavar="YYYY-MM-DD", help="Only entries on or after this day (UTC).")
@store_options
@reports_errors(exit_code=1)
def audit_log_command(candidate, since, db, key_file):
    """Print the audit trail, oldest first.

    Example:

        adjudicate audit log --since 2026-11-01
    """
    store = open_store(db, key_file)
    for entry in usecases.read_audit_log(usecases.identify(None), store, candidate_id=candidate, since=since):
        subject = entry.decision_id or entry.batch_id or "-"
        click.echo(f"{entry.seq:>6}  {entry.at}  {entry.actor}  {entry.action}  {subject}  {entry.detail}")


@click.group()
def memo():
    """Show or export a decision memo from the store (access is checked and logged)."""


def memo_access(function):
    """DECISION_ID, --user and --purpose: who reads which memo, and why."""
    function = click.option("--purpose", required=True, help="Why you need the report; recorded in the audit trail.")(function)
    function = user_option("Who views the report; checked against the access policy.", required=True)(function)
    return click.argument("decision_id")(function)


def memo_language(function):
    """--lang: the memo's language."""
    return click.option("--lang", type=click.Choice(MEMO_LANGUAGES), default="en", show_default=True,
                        help="English or Simplified Chinese.")(function)


def _memo_setting(purpose, db, key_file, policy, user):
    if not purpose.strip():
        raise click.UsageError("--purpose must say why the report is needed.")
    return policy_session(db, key_file, policy, user)


@memo.command("show")
@memo_access
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="md", show_default=True,
              help="Markdown or HTML.")
@memo_language
@store_options
@policy_option
@reports_errors(exit_code=1)
def memo_show(decision_id, user, purpose, fmt, lang, db, key_file, policy):
    """Print a decision memo, rendered from the store.

    Refused without a purpose, or when the access policy does not let the
    user see reports for the decision's position; every view and every
    refusal is recorded in the audit trail.

    Example:

        adjudicate memo show D-93a0bf5f54b6b30f59d6 --user legal-counsel --purpose "arbitration file 2026-114"
    """
    store, rules, actor = _memo_setting(purpose, db, key_file, policy, user)
    shown = usecases.show_memo(actor, store, rules, decision_id,
                               purpose=purpose, fmt=fmt, lang=lang)
    click.echo(shown.text, nl=False)


@memo.command("export")
@memo_access
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="html", show_default=True,
              help="Markdown or HTML.")
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True, help="The file to write.")
@memo_language
@store_options
@policy_option
@reports_errors(exit_code=1)
def memo_export(decision_id, user, purpose, fmt, output, lang, db, key_file, policy):
    """Write a decision memo to a file; the file is removed again by purge.

    Example:

        adjudicate memo export D-93a0bf5f54b6b30f59d6 --user legal-counsel --purpose "arbitration" -o memo.html
    """
    store, rules, actor = _memo_setting(purpose, db, key_file, policy, user)
    usecases.export_memo(actor, store, rules, decision_id,
                         purpose=purpose, output=output, fmt=fmt, lang=lang)
    click.echo(f"Wrote {output}", err=True)


@click.command("consistency")
@click.option("--since", callback=parse_optional_date, metavar="YYYY-MM-DD", help="Only decisions evaluated on or after this day.")
@user_option("Who reads the report; groups of positions they may not view are left out.", required=True)
@click.option("--csv", "csv_path", type=click.Path(path_type=Path), help="Also write the groups as CSV.")
@click.option("--html", "html_path", type=click.Path(path_type=Path), help="Also write the report as an HTML page.")
@store_options
@policy_option
@reports_errors(exit_code=1)
def consistency_command(since, user, csv_path, html_path, db, key_file, policy):
    """Show how comparable cases were recommended and decided.

    Groups decisions that are comparable: the same rulebook version, the
    same position, and the same weighed findings (handling review or
    escalate) by category, severity band (minor: low; moderate: medium;
    serious, severe: high) and relevance. A group whose final outcomes
    differ is flagged and lists every member's outcome, whether it overrode
    the recommendation, and the reason given. Different recommendations for
    the same exact findings (never allowed under one rulebook version) are
    flagged as a defect.

    Example:

        adjudicate consistency --user legal-counsel --since 2026-01-01 --html consistency.html
    """
    store, rules, actor = policy_session(db, key_file, policy, user)
    report = usecases.consistency_report(actor, store, rules, since=since,
                                         csv_path=csv_path, html_path=html_path)
    for g in report.groups:
        recommendations = ", ".join(f"{r} {n}" for r, n in g.recommendations.items())
        outcomes = ", ".join(f"{o} {n}" for o, n in g.outcomes.items())
        click.echo(f"{g.rulebook_version}  {g.position_id}  {g.signature}  [{len(g.decisions)}]  "
                   f"recommended: {recommendations}; decided: {outcomes}" + (f"  << {g.flag}" if g.flag else ""))
        for signature in g.defects:
            click.echo(f"    different recommendations for the same findings: {signature}")
        if g.members:
            for m in g.members:
                how = f"overrides {m.recommendation}" if m.override else f"recommended {m.recommendation}"
                click.echo(f"    {m.decision_id}: {m.outcome} ({how})" + (f": {m.reason}" if m.reason else ""))
        else:
            for decision_id, recommendation, outcome, reason in g.overrides:
                click.echo(f"    override {decision_id}: {recommendation} -> {outcome}: {reason}")
    click.echo(f"{count(len(report.groups), 'group')}, {count(len(report.flagged), 'flagged group')}"
               + (f"; {report.hidden} hidden by the access policy." if report.hidden else "."))


@click.command("purge")
@click.option("--as-of", "as_of", callback=parse_date, metavar="YYYY-MM-DD",
              help="Destroy data whose retention ended before this day.  [default: today]")
@click.option("--dry-run", is_flag=True, help="List what would be destroyed, and destroy nothing.")
@user_option("Who purges, for the audit trail.  [default: the OS user]")
@store_options
@reports_errors(exit_code=1)
def purge_command(as_of, dry_run, user, db, key_file):
    """Destroy the personal data of decisions past their retention period.

    Keeps a tombstone without personal data (decision id, dates, hashes) and
    an audit entry; removes the memo files the tool wrote.

    Example:

        adjudicate purge --dry-run
    """
    store = open_store(db, key_file)
    report = usecases.purge_data(usecases.identify(user), store, as_of=as_of, dry_run=dry_run)
    verb = "Would destroy" if dry_run else "Destroyed"
    click.echo(
        f"{verb} the personal data of {count(len(report.decision_ids), 'decision')} and "
        f"{count(len(report.files), 'file')} (retention ended before {as_of.isoformat()})."
    )
    for decision_id in report.decision_ids:
        click.echo(f"  {decision_id}")
    if report.held:
        click.echo(f"Kept under a litigation hold, although past retention: {count(len(report.held), 'decision')}.")
        for decision_id in report.held:
            click.echo(f"  {decision_id}")


@click.command("hold")
@click.argument("decision_id")
@click.option("--reason", required=True, help="The matter the decision is kept for (or, with --release, why the "
              "hold ends); at least a sentence.")
@click.option("--release", is_flag=True, help="Release the hold in force instead of placing one.")
@user_option("Who places or releases the hold; a role of theirs must allow 'hold'.  [default: the OS user]")
@store_options
@policy_option
@reports_errors(exit_code=1)
def hold_command(decision_id, reason, release, user, db, key_file, policy):
    """Place a litigation hold on a decision, or release it (--release).

    While a hold is in force, purge keeps the decision's data whatever its
    retention period says (29 CFR 1602.14: records relevant to a charge are
    kept until its final disposition). Placing and releasing need a role
    that may 'hold'; both are recorded, and a released hold stays in the
    record.

    Example:

        adjudicate hold D-93a0bf5f54b6b30f59d6 --user legal-counsel --reason "Arbitration claim filed by the candidate on 2026-11-20, case 2026-117."

    and, once the matter is closed:

        adjudicate hold D-93a0bf5f54b6b30f59d6 --release --user legal-counsel --reason "The arbitration award of 2027-03-02 is final and no appeal was lodged."
    """
    store, rules, actor = policy_session(db, key_file, policy, user)
    if release:
        usecases.release_hold(actor, store, rules, decision_id, reason=reason)
        click.echo(f"{decision_id}: litigation hold released; purge may destroy its data once its retention ends.")
    else:
        usecases.place_hold(actor, store, rules, decision_id, reason=reason)
        click.echo(f"{decision_id}: litigation hold placed; purge keeps its data until the hold is released.")
