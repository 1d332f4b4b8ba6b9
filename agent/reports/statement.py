"""A client's access statement as the client receives it: a printable page, or an email.

The page is one self-contained HTML document (its stylesheet inline, nothing
fetched from anywhere) that prints cleanly on A4; the PDF is Chromium printing
this same page (``agent.crawl.pdf``), and the dashboard shows it with the
stylesheet linked instead (its CSP allows no inline style). Every name, email and
org name comes from a portal or a client file, so it is hostile text: the template
autoescapes everything, and only the stylesheet, a constant of this package, is
inserted as is. Dates, portals, a person's status and why a read failed are said as
everywhere else (``agent.reports.words``): "5 Dec 2026", "QuickBooks Online",
"Invite pending", "Timeout".

The email is a draft for the practice to send (``X-Unsent``): addressed to the
client's ``contact_email`` from the clients import, from the configured
``smtp_from``, with a short text body and the statement as its HTML part.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from agent.reconcile import removability as why
from agent.reports.common import naive_utc
from agent.reports.labels import role_label
from agent.reports.portal_steps import REMOVAL_STEPS, PortalSteps, steps_for
from agent.reports.words import day, label, moment
from agent.services.removals.statements import ClientStatement, Origin, StatementError

__all__ = [
    "EML_MEDIA_TYPE",
    "HTML_MEDIA_TYPE",
    "PDF_MEDIA_TYPE",
    "STATEMENT_CSS",
    "statement_email",
    "statement_filename",
    "statement_html",
]

TEMPLATES = Path(__file__).parent / "templates"
STATEMENT_CSS = (TEMPLATES / "statement.css").read_text(encoding="utf-8")

HTML_MEDIA_TYPE = "text/html; charset=utf-8"
EML_MEDIA_TYPE = "message/rfc822"
PDF_MEDIA_TYPE = "application/pdf"

ORIGINS: dict[Origin, str] = {
    Origin.PRACTICE_GRANT: "Granted by us (the practice)",
    Origin.CLIENT_INVITE: "A member of our staff, invited by you",
    Origin.CLIENT_USER: "Your own user",
    Origin.REVIEW_LOGIN: "Our access-review login",
    Origin.UNKNOWN_PRACTICE: "Uses our address, but is not on our staff list",
    Origin.UNCONFIRMED: "Possibly a member of our staff (not yet confirmed)",
    Origin.NOT_CHECKED: "Not yet checked by us",
}

#: why only the client can remove someone, from ``agent.reconcile.removability``'s
#: reasons, in words a business owner reads
WHY_CLIENT: dict[str, str] = {
    why.NOT_IN_ORG: "our login is not a user of this file",
    why.LACKS_MANAGE_USERS: "our login may not manage users here",
    why.SUBSCRIBER: "they are the subscriber: the subscription must be transferred first",
    why.PRIMARY_ADMIN: "they are the primary admin: another admin must take that role first",
    why.NOT_COMPANY_ADMIN: "our login is not a company admin here",
    why.ANOTHER_FIRM: "they belong to another accounting firm",
    why.OWNER_ADDED: "an advisor added by the business owner: only the owner can remove them",
    why.NOT_ADMINISTRATOR: "our login is not an administrator here",
    why.ADDED_BY_UNKNOWN: "an advisor the owner may have added: the owner can remove them",
}


def _when(value: datetime | None) -> str:
    return "—" if value is None else moment(naive_utc(value))


def _day(value: datetime | None) -> str:
    return "—" if value is None else day(naive_utc(value))


def _portal_title(portal: str) -> str:
    steps = steps_for(portal)
    return steps.title if steps else label(portal)


def _role(raw: str, portal: str) -> str:
    return role_label(portal, raw) if raw else "—"


def _why_client(reason: str) -> str:
    return WHY_CLIENT.get(reason, reason) or "only you can remove this access"


def _reason(reason: str) -> str:
    """Why a read failed, inside a sentence: "no permission", "MFA failed"."""
    if not reason:
        return "no reason given"
    words = label(reason)
    return words[:1].lower() + words[1:] if words[1:2].islower() else words


@cache
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        when=_when,
        day=_day,
        portal_title=_portal_title,
        role=_role,
        origin=lambda o: ORIGINS[Origin(o)],
        why_client=_why_client,
        reason=_reason,
        label=label,
    )
    return env


def _portals(statement: ClientStatement) -> list[PortalSteps]:
    used = {o.portal for o in statement.orgs}
    return [steps for portal, steps in REMOVAL_STEPS.items() if portal.value in used]


def statement_html(
    statement: ClientStatement,
    *,
    stylesheet: str | None = None,
    actions: Sequence[tuple[str, str]] = (),
) -> str:
    """The statement as one HTML page; ``stylesheet`` links the CSS instead of inlining it,
    and ``actions`` (link, text) are shown on screen only, never printed."""
    return (
        _environment()
        .get_template("statement.html")
        .render(
            s=statement,
            css=Markup(STATEMENT_CSS),  # noqa: S704 - this package's own constant, not data
            stylesheet=stylesheet,
            actions=list(actions),
            portals=_portals(statement),
        )
    )


def statement_filename(statement: ClientStatement, suffix: str) -> str:
    """``access-statement-C-014-2026-11-24.pdf``: says whose, and when, and sorts by date."""
    stem = f"access-statement-{statement.external_id}"
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in stem).strip("-")
    while "--" in safe:
        safe = safe.replace("--", "-")
    return f"{safe}-{naive_utc(statement.as_of):%Y-%m-%d}.{suffix.lstrip('.')}"


def _one_line(text: str) -> str:
    """Text for a header or a line of the body: control characters and runs of space gone."""
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())


def statement_email(statement: ClientStatement, html: str, *, sender: str) -> EmailMessage:
    """A draft email of the statement to the client's contact; refused without an address."""
    name = _one_line(statement.name) or statement.external_id
    to = statement.contact_email.strip()
    if not to:
        raise StatementError(
            f"client {name} ({statement.external_id}) has no contact email: add one in the "
            "`contact_email` column of the clients import"
        )
    if "@" not in parseaddr(to)[1] or any(not c.isprintable() for c in to):
        raise StatementError(
            f"client {name} ({statement.external_id}) has contact email {to!r}, which is not "
            "an email address: correct the `contact_email` column of the clients import"
        )
    message = EmailMessage()
    message["Subject"] = f"Who can reach your books: access statement for {name}"
    message["From"] = sender
    message["To"] = to
    message["Date"] = format_datetime(statement.as_of)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message["X-Unsent"] = "1"
    message.set_content(_text_body(statement, name))
    message.add_alternative(html, subtype="html")
    return message


def _text_body(statement: ClientStatement, name: str) -> str:
    lines = [
        "Hello,",
        "",
        f"Here is the access statement for {name}: everyone who can reach your books in "
        f"each accounting system we look after for you, as of {_day(statement.as_of)}.",
        f"{statement.people_count} people have access across {len(statement.orgs)} files.",
    ]
    asked = [(o, r) for o in statement.orgs for r in o.requests]
    if asked:
        lines += ["", "Please remove these people (only you can; the steps are in the statement):"]
        for org, request in asked:
            who = _one_line(request.name) or request.email
            lines.append(
                f"- {who} <{_one_line(request.email)}> from {_portal_title(org.portal)} "
                f"{_one_line(org.org_name or org.portal_org_id)}: {_one_line(request.why_remove)}"
                f" (asked on {_day(request.requested_at)})"
            )
    if statement.unread:
        lines += [
            "",
            f"We could not yet read {len(statement.unread)} of your files: the statement marks "
            "them as not read. That does not mean nobody has access there.",
        ]
    lines += [
        "",
        "The full statement follows in this message. Please tell us if anyone listed should "
        "not have access.",
        "",
    ]
    return "\n".join(lines)
