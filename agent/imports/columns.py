"""The three kinds of import and their columns, documented once.

``COLUMNS`` is the single source for the readers (which columns exist, under which
names, which are required), the README and the command line's ``--help``: change a
column here and all three follow.

Each column lists the other names practice exports give it (``aliases``), so a file
is read as the practice wrote it rather than rejected for a spelling, and the words
that make an unknown column suspicious (``watch``): a client list with a column
``Xero tenant`` that the import does not read must be refused, not imported with every
org link silently dropped.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    """One column of an import file, documented once for the reader, README and --help.

    ``aliases`` are other names a practice's export gives the column; ``multi`` marks
    a cell holding a list (tab and line breaks allowed between values); ``watch`` are
    fragments of a column name that make an unknown column an error naming this one
    (matched against the name's ``column_key``).
    """

    name: str
    required: bool
    description: str
    example: str
    aliases: tuple[str, ...] = ()
    multi: bool = False
    watch: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


class ImportKind(StrEnum):
    """What a file holds; the value is the CLI word (``accessrecon import staff FILE``)."""

    STAFF = "staff"
    CLIENTS = "clients"
    ACCESS = "access"


def _combine(prefixes: Iterable[str], suffixes: Iterable[str], *, skip: str) -> tuple[str, ...]:
    """Every ``prefix_suffix`` name (a bare prefix for an empty suffix), ``skip`` left out."""
    suffix_list = list(suffixes)
    names = [f"{p}_{s}" if s else p for p in prefixes for s in suffix_list]
    return tuple(name for name in dict.fromkeys(names) if name != skip)


_ORG_WORDS = ("org", "realm", "business", "xero", "qbo", "myob", "quickbooks")
"""A column whose name holds one of these, and is not a known column, may be org links."""

_ORG_SUFFIXES = ("", "org", "orgs", "org_id", "org_ids")

PORTAL_ORG_ALIASES: dict[str, tuple[str, ...]] = {
    "xero_org": _combine(("xero",), (*_ORG_SUFFIXES, "short_code", "short_codes"), skip="xero_org"),
    "qbo_org": (
        *_combine(
            ("qbo", "quickbooks"),
            (*_ORG_SUFFIXES, "realm_id", "realm_ids", "company_id"),
            skip="qbo_org",
        ),
        "quickbooks_online",
        "realm_id",
    ),
    "myob_org": _combine(
        ("myob",),
        (*_ORG_SUFFIXES, "business_id", "business_ids", "file_id", "company_file_id"),
        skip="myob_org",
    ),
}
"""The names a per-portal org column is read under (``xero``, ``qbo_realm_id``...)."""

TITLE_COLUMN_NAMES = ("role", "job_title", "title", "position")

STAFF_COLUMNS: list[ColumnSpec] = [
    ColumnSpec(
        "name",
        True,
        "The person's full name.",
        "Anna Smith",
        aliases=("full_name", "staff_name", "employee_name"),
    ),
    ColumnSpec(
        "emails",
        True,
        "Every address the person uses, separated by ; or , or new lines. The first is "
        "their primary address, the rest are aliases. Each address belongs to one person.",
        "anna@practice.co.nz; anna.smith@gmail.com",
        aliases=("email", "primary_email", "email_address", "work_email"),
        multi=True,
        watch=("email", "alias"),
    ),
    ColumnSpec(
        "aliases",
        False,
        "Further addresses of the person (with a primary_email or emails column), "
        "separated by ; or , or new lines.",
        "anna.smith@gmail.com",
        aliases=(
            "alias",
            "other_emails",
            "alternate_emails",
            "alternative_emails",
            "secondary_email",
            "secondary_emails",
            "personal_email",
            "email_aliases",
        ),
        multi=True,
        watch=("email", "alias"),
    ),
    ColumnSpec(
        "status",
        True,
        "active, on leave (or on_leave) or left; any case.",
        "active",
        aliases=("staff_status", "employment_status"),
    ),
    ColumnSpec(
        "left_on",
        False,
        "The day the person left: required when status is left, empty otherwise. "
        "2025-03-03, 03/03/2025 (day first) or an Excel date.",
        "2025-03-03",
        aliases=(
            "left",
            "left_date",
            "date_left",
            "leaving_date",
            "end_date",
            "termination_date",
            "finish_date",
        ),
        watch=("left", "leaving", "terminat"),
    ),
    ColumnSpec(
        "practice_role",
        False,
        "The person's job title as the practice writes it (senior, accountant, director, "
        "practice manager...). It is kept as written and read as one of the access roles "
        "practice admin, partner, manager or employee by the table in the README; a title "
        "not in the table is read as employee, with a warning naming it. Empty if not known.",
        "Senior accountant",
        aliases=TITLE_COLUMN_NAMES,
        watch=("role", "title"),
    ),
]

_PEOPLE_NOTE = (
    "Either the person's name or any of their addresses in the imported "
    "roster (an address is stored as the person's name)."
)

CLIENT_COLUMNS: list[ColumnSpec] = [
    ColumnSpec(
        "client_id",
        True,
        "The practice's own id for the client (from the practice manager); unique.",
        "C00042",
        aliases=("client_code", "client_number", "client_ref"),
    ),
    ColumnSpec(
        "name",
        True,
        "The client's name.",
        "Kowhai Joinery Ltd",
        aliases=(
            "client_name",
            "business_name",
            "organisation_name",
            "organization_name",
            "entity_name",
        ),
    ),
    ColumnSpec(
        "client_manager",
        False,
        f"Who manages the client. {_PEOPLE_NOTE}",
        "Ben Chen",
        aliases=("manager", "client_manager_email", "manager_email"),
        watch=("manager",),
    ),
    ColumnSpec(
        "job_manager",
        False,
        f"Who manages the client's jobs. {_PEOPLE_NOTE}",
        "ben@practice.co.nz",
        aliases=("job_manager_email",),
        watch=("manager",),
    ),
    ColumnSpec(
        "partner",
        False,
        f"The partner responsible. {_PEOPLE_NOTE}",
        "Kiri Evans",
        aliases=("partner_email", "client_partner", "responsible_partner"),
        watch=("partner",),
    ),
    ColumnSpec(
        "annual_fee",
        False,
        "The yearly fee or budget; $ and thousands commas allowed.",
        "$13,900.00",
        aliases=("fee", "fees", "annual_fees", "budget", "annual_budget"),
        watch=("fee", "budget"),
    ),
    ColumnSpec(
        "archived",
        False,
        "yes or no (also true/false, 1/0); empty means no.",
        "no",
        aliases=("archive", "is_archived"),
        watch=("archiv",),
    ),
    ColumnSpec(
        "contact_email",
        False,
        "The client's contact address, if any.",
        "accounts@kowhai.co.nz",
        aliases=("contact", "client_email"),
    ),
    ColumnSpec(
        "contact_name",
        False,
        "Who at the client to call about their books, if anyone.",
        "Aroha Ngata",
        aliases=("contact_person", "primary_contact"),
    ),
    ColumnSpec(
        "linked_orgs",
        False,
        "The client's ledger orgs as portal:org_id, separated by ;. Portals: xero "
        "(! and five letters or digits, case matters), qbo (10 to 19 digits), myob (a "
        "UUID). An org links to at most one client. Instead of (or beside) it, one "
        "column per portal may hold that portal's ids: xero_org, qbo_org, myob_org.",
        "xero:!x7Kp2; qbo:9130352157364426",
        aliases=("orgs", "org_links", "linked_org", "ledger_orgs"),
        multi=True,
        watch=_ORG_WORDS,
    ),
    ColumnSpec(
        "xero_org",
        False,
        "The client's Xero org ids (short codes), separated by ; or , or new lines.",
        "!x7Kp2",
        aliases=PORTAL_ORG_ALIASES["xero_org"],
        multi=True,
        watch=_ORG_WORDS,
    ),
    ColumnSpec(
        "qbo_org",
        False,
        "The client's QuickBooks Online org ids (realm ids), separated by ; or , or new lines.",
        "9130352157364426",
        aliases=PORTAL_ORG_ALIASES["qbo_org"],
        multi=True,
        watch=_ORG_WORDS,
    ),
    ColumnSpec(
        "myob_org",
        False,
        "The client's MYOB org ids (business UUIDs), separated by ; or , or new lines.",
        "3f2b8c1e-5d4a-4c6b-9e2f-7a1b0c9d8e6f",
        aliases=PORTAL_ORG_ALIASES["myob_org"],
        multi=True,
        watch=_ORG_WORDS,
    ),
]

ORG_COLUMNS: dict[str, str | None] = {
    "linked_orgs": None,
    "xero_org": "xero",
    "qbo_org": "qbo",
    "myob_org": "myob",
}
"""The client columns that link orgs, and the portal each holds (``None``: portal:org_id)."""

ACCESS_COLUMNS: list[ColumnSpec] = [
    ColumnSpec(
        "staff_email",
        True,
        "An address of a staff member in the imported roster (primary or alias).",
        "anna@practice.co.nz",
        aliases=("email", "user_email", "email_address"),
    ),
    ColumnSpec("portal", True, "xero, qbo or myob.", "xero", aliases=("ledger", "platform")),
    ColumnSpec(
        "org_id",
        True,
        "The org's id in that portal (see linked_orgs for the forms).",
        "!x7Kp2",
        aliases=("portal_org_id", "org"),
    ),
    ColumnSpec(
        "role",
        True,
        "The role the practice granted, as the portal names it. For myob, the user type "
        "and/or Roles, separated by ; or ,.",
        "Adviser",
        aliases=("access_role", "portal_role"),
        multi=True,
    ),
    ColumnSpec(
        "extra_permissions",
        False,
        "Extra permissions granted with the role, separated by ;.",
        "Manage users; Payroll admin",
        aliases=("permissions", "extra_permission", "extras"),
        multi=True,
        watch=("permission",),
    ),
    ColumnSpec(
        "until",
        False,
        "The last day the access is intended; after it the access is reported as never "
        "granted, and the client manager is reminded before. Empty: no end. 2027-03-31, "
        "31/03/2027 (day first) or an Excel date.",
        "2027-03-31",
        aliases=(
            "access_until",
            "valid_until",
            "end_date",
            "ends_on",
            "access_ends",
            "expires",
            "expires_on",
            "expiry",
            "expiry_date",
        ),
        watch=("until", "expir", "ends", "enddate"),
    ),
]

COLUMNS: dict[ImportKind, list[ColumnSpec]] = {
    ImportKind.STAFF: STAFF_COLUMNS,
    ImportKind.CLIENTS: CLIENT_COLUMNS,
    ImportKind.ACCESS: ACCESS_COLUMNS,
}


def column_help(kind: ImportKind | str) -> str:
    """The columns of one kind of file as plain text, for ``--help``."""
    lines = []
    for spec in COLUMNS[ImportKind(kind)]:
        need = "required" if spec.required else "optional"
        also = f" Also read as: {', '.join(spec.aliases)}." if spec.aliases else ""
        lines.append(f"{spec.name} ({need}): {spec.description}{also} Example: {spec.example}")
    return "\n".join(lines)
