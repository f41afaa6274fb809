"""The human decision: ``review``, ``respond``, ``attach``, ``decide``, ``notice``, ``reopen`` and ``pending``."""

from __future__ import annotations

from pathlib import Path

import click

from engine import usecases
from engine.cli.options import open_store, parse_date, parse_optional_date, policy_option, policy_session, reports_errors, store_options, user_option
from engine.usecases.choices import NOTICE_LANGUAGES, OUTCOMES
from engine.vocabulary import NoticeKind, WaitingFor


def _prompt_assessment(considered) -> dict:
    click.echo("Individualized assessment: answer each factor for each finding relied on.", err=True)
    findings = {}
    for f in considered:
        finding = f.judged.finding
        click.echo(f"Finding {finding.finding_id}: {finding.category}, {finding.severity}, "
                   f"{finding.occurred_on.isoformat()}", err=True)
        findings[finding.finding_id] = {
            factor.value: click.prompt(f"  {factor.value.replace('_', ' ')}", err=True) for factor in f.factors
        }
    answers = {"findings": findings, "summary": click.prompt("Summary and conclusion", err=True)}
    # A reassessment after the candidate's response states how it was
    # weighed; before any response there is nothing to weigh (left empty).
    weighed = click.prompt("How the candidate's response was weighed (empty if none was received)",
                           default="", show_default=False, err=True)
    if weighed.strip():
        answers["response_weighed"] = {"summary": weighed.strip()}
    return answers


@click.command("review")
@click.argument("decision_id")
@click.option("--reviewer", required=True, help="Who assesses; needs a role that may review the position.")
@click.option("--answers", type=click.Path(path_type=Path),
              help="YAML or JSON file with the assessment; without it, each factor is asked for.")
@store_options
@policy_option
@reports_errors(exit_code=1)
def review_command(decision_id, reviewer, answers, db, key_file, policy):
    """Record an individualized assessment of a decision.

    For every finding that weighs on the recommendation, the factors of the
    law where the job is, for the kind of finding (docs/human-decision.md):
    where no other law applies, the EEOC's nature and gravity, time elapsed,
    nature of the job, age at the time, rehabilitation and the candidate's
    own account; California's three, New York's eight, Illinois' six, or
    the PRC's relevance to the job and necessity; and a summary.

    Example:

        adjudicate review D-93a0bf5f54b6b30f59d6 --reviewer hr-logistics-officer --answers assessment.yaml
    """
    store, rules, actor = policy_session(db, key_file, policy, reviewer)
    usecases.review_decision(
        actor, store, rules, decision_id,
        usecases.answers_from_file(answers) if answers else _prompt_assessment,
    )
    click.echo(f"Recorded the assessment of {decision_id} by {reviewer}.")


@click.command("respond")
@click.argument("decision_id")
@click.option("--file", "response_file", type=click.Path(path_type=Path), required=True,
              help="The candidate's response (text), as received.")
@click.option("--received-on", callback=parse_optional_date, metavar="YYYY-MM-DD", help="When it arrived; not before the pre-adverse notice's date, nor after today.  [default: today]")
@user_option("Who records it; needs a role that may review the position.  [default: the OS user]")
@store_options
@policy_option
@reports_errors(exit_code=1)
def respond_command(decision_id, response_file, received_on, user, db, key_file, policy):
    """Record the candidate's response to a pre-adverse notice.

    The response comes after the pre-adverse notice and before the final
    decision; it is recorded today by the system clock, and --received-on
    says when it arrived (not before the notice).

    Example:

        adjudicate respond D-93a0bf5f54b6b30f59d6 --file response.txt
    """
    content = usecases.read_response(response_file)
    store, rules, actor = policy_session(db, key_file, policy, user)
    recorded = usecases.record_response(actor, store, rules, decision_id, content, received_on)
    click.echo(f"Recorded the response to {decision_id}, received on {recorded.received_on.isoformat()}.")


@click.command("attach")
@click.argument("decision_id")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@user_option("Who attaches them; needs a role that may review the position.  [default: the OS user]")
@store_options
@policy_option
@reports_errors(exit_code=1)
def attach_command(decision_id, files, user, db, key_file, policy):
    """Attach evidence files the candidate sent (a certificate, a court order).

    Each file is stored sealed with its SHA-256, size and name, linked to
    the latest response; the memo lists them, never their content. At most
    20 MB a file; not after the final decision.

    Example:

        adjudicate attach D-93a0bf5f54b6b30f59d6 certificate.pdf court-order.pdf --user hr-logistics-officer
    """
    store, rules, actor = policy_session(db, key_file, policy, user)
    attached = usecases.attach_evidence(actor, store, rules, decision_id, tuple(files))
    for item in attached.files:
        click.echo(f"Attached {item.file_name} to {decision_id}: {item.size} bytes, SHA-256 {item.sha256}.")


@click.command("reopen")
@click.argument("decision_id")
@click.option("--reason", required=True, help="Why the decision is made again; at least a sentence.")
@user_option("Who reopens it; needs a role that may reopen for the position.  [default: the OS user]")
@store_options
@policy_option
@reports_errors(exit_code=1)
def reopen_command(decision_id, reason, user, db, key_file, policy):
    """Reopen a final decision, so that it is made again.

    The earlier decision stays in the record and the memo, with who reopened
    it, when and why; the decision is back in pending.

    Example:

        adjudicate reopen D-93a0bf5f54b6b30f59d6 --user legal-counsel --reason "The court order sent by the candidate was not weighed before the decision."
    """
    store, rules, actor = policy_session(db, key_file, policy, user)
    usecases.reopen_decision(actor, store, rules, decision_id, reason)
    click.echo(f"Reopened the final decision of {decision_id}; it is waiting on a person again.")


def _show_decision(item) -> bool:
    """Show the approver what will be recorded, and ask to confirm."""
    preview = item.preview
    if preview.response:
        click.echo("The candidate's latest response:", err=True)
        click.echo("  " + "\n  ".join(preview.response.strip().splitlines()), err=True)
        if preview.response_weighed:
            click.echo(f"How the reassessment weighed it: {preview.response_weighed}", err=True)
    if item.notice_reasons:
        until = f" until {preview.grounds.hold_until.isoformat()}" if preview.grounds.hold_until else ""
        click.echo(f"Outcome: {preview.outcome}{until}. The adverse notice ({item.lang}) will state as its reasons:",
                   err=True)
        click.echo(f"  {item.notice_reasons}", err=True)
    else:
        click.echo(f"Outcome: {preview.outcome}. Reason: {preview.reason}", err=True)
    return click.confirm("Record this decision?", err=True)


@click.command("decide")
@click.argument("decision_id")
@click.option("--approver", required=True, help="Who decides; needs a role that may decide for the position.")
@click.option("--outcome", type=click.Choice(OUTCOMES), required=True, help="The final decision.")
@click.option("--reason", required=True, help="Why; at least a sentence (6 words, or 12 Chinese characters).")
@click.option("--relies-on", "relies_on", multiple=True, metavar="FINDING_ID",
              help="For hold and withdraw: a finding the outcome relies on (repeat for each); one the engine weighed (review or escalate) and the assessment answered.")
@click.option("--duty", default="", help="For hold and withdraw: the job duty the findings bear on, quoted from the position's duties.")
@click.option("--deciding-factor", "deciding_factor", default="", metavar="FACTOR",
              help="For hold and withdraw: the assessment factor that decided, one answered for a finding relied on.")
@click.option("--until", "hold_until", callback=parse_optional_date, metavar="YYYY-MM-DD",
              help="For a hold: its last day (after today, at most 180 days on); after it the decision is to make again.")
@click.option("--yes", is_flag=True, help="Record without showing the decision and asking to confirm.")
@store_options
@policy_option
@reports_errors(exit_code=1)
def decide_command(decision_id, approver, outcome, reason, relies_on, duty, deciding_factor, hold_until, yes,
                   db, key_file, policy):
    """Record the final human decision: hire, hold or withdraw, dated today.

    Hold and withdraw are adverse outcomes: they name the findings they rely
    on, the duty those bear on and the deciding factor, and need a review by
    another person, a pre-adverse notice, either the end of the response
    period or a recorded response, and after a response a reassessment that
    weighs it. Before recording, the command shows the candidate's response
    and the reasons the adverse notice will state, and asks to confirm.

    Example:

        adjudicate decide D-93a0bf5f54b6b30f59d6 --approver legal-counsel --outcome withdraw --relies-on F-0003 --duty "Drives a company delivery van" --deciding-factor nature_of_job --reason "The recent DUI bears directly on driving the van every day."
    """
    store, rules, actor = policy_session(db, key_file, policy, approver)
    made = usecases.make_decision(actor, store, rules, decision_id,
                                  outcome=outcome, reason=reason, relies_on=relies_on, duty=duty,
                                  deciding_factor=deciding_factor, hold_until=hold_until,
                                  confirm=None if yes else _show_decision)
    click.echo(f"Recorded: {outcome} for {decision_id} by {approver}"
               + (" (an override of the recommendation)." if made.override else "."))


@click.group("notice")
def notice_group():
    """Candidate notices: before an adverse decision, and after it."""


def notice_options(function):
    """The options shared by both notices."""
    for option in reversed([
        click.argument("decision_id"),
        click.option("--lang", type=click.Choice(NOTICE_LANGUAGES), default="en", show_default=True, help="Language of the notice."),
        click.option("--jurisdiction", help="Where the job is (e.g. US-CA), for a decision whose application names no work location; it chooses the response period and the holiday calendar.  [default: the decision's work location, else the policy's default days on the weekdays-only calendar]"),
        user_option("Who issues it.  [default: the OS user]"),
        click.option("-o", "--output", type=click.Path(path_type=Path), default=usecases.DEFAULT_NOTICES_FOLDER, show_default=True, help="Folder for the notice files."),
        click.option("--organisation", type=click.Path(path_type=Path), envvar="ADJUDICATE_ORGANISATION", help="The employer and the screening agencies the notice names (see docs/human-decision.md).  [env: ADJUDICATE_ORGANISATION; default: organisation.yaml]"),
        store_options,
        policy_option,
        reports_errors(exit_code=1),
    ]):
        function = option(function)
    return function


def _notice(kind, decision_id, lang, jurisdiction, user, output, db, key_file, policy, organisation,
            report=None, summary_of_rights=None):
    store, rules, actor = policy_session(db, key_file, policy, user)
    issued = usecases.issue_notice(
        actor, store, rules, decision_id, kind=kind, lang=lang,
        jurisdiction=jurisdiction, output=output,
        organisation=usecases.organisation_file(organisation), report=report, summary_of_rights=summary_of_rights,
    )
    click.echo(f"Wrote {issued.stem}.md and .html"
               + (f"; respond by {issued.deadline.isoformat()} (business days on the {issued.calendar} calendar)."
                  if issued.deadline else "."))


@notice_group.command("pre-adverse")
@notice_options
@click.option("--report", type=click.Path(path_type=Path), help="The background-check report sent with the notice; its SHA-256 is printed and recorded.  [required in the US: FCRA §604(b)(3)]")
@click.option("--summary-of-rights", type=click.Path(path_type=Path), help="\"A Summary of Your Rights Under the Fair Credit Reporting Act\" sent with it; likewise.  [required in the US]")
def notice_pre_adverse(decision_id, lang, jurisdiction, user, output, db, key_file, policy, organisation,
                       report, summary_of_rights):
    """Issue the notice that must come before an adverse decision.

    Names the findings relied on and the enclosed documents, and states the
    right to respond, the evidence accepted, the deadline and what the law
    of the work location adds (see docs/human-decision.md).

    Example:

        adjudicate notice pre-adverse D-93a0bf5f54b6b30f59d6 --lang zh --jurisdiction US-CA --report report.pdf --summary-of-rights fcra-summary.pdf
    """
    _notice(NoticeKind.PRE_ADVERSE, decision_id, lang, jurisdiction, user, output, db, key_file, policy,
            organisation, report, summary_of_rights)


@notice_group.command("adverse")
@notice_options
def notice_adverse(decision_id, lang, jurisdiction, user, output, db, key_file, policy, organisation):
    """Issue the final notice after a hold or a withdraw: the decision, its reasons and the candidate's rights.

    Example:

        adjudicate notice adverse D-93a0bf5f54b6b30f59d6
    """
    _notice(NoticeKind.ADVERSE, decision_id, lang, jurisdiction, user, output, db, key_file, policy,
            organisation)


@click.command("pending")
@store_options
@reports_errors(exit_code=1)
def pending_command(db, key_file):
    """List the decisions waiting on a person, with their deadlines.

    Example:

        adjudicate pending
    """
    store = open_store(db, key_file)
    waiting = usecases.pending_decisions(usecases.identify(None), store).waiting
    if not waiting:
        click.echo("No decision is waiting on a person.")
    for item in waiting:
        deadline = f", respond by {item.deadline.isoformat()}" if item.deadline and item.waiting_for == WaitingFor.RESPONSE else ""
        click.echo(f"{item.decision_id}  {item.candidate_id}  {item.position_id or '-'}  {item.recommendation}: "
                   f"waiting for {item.waiting_for}{deadline}")
