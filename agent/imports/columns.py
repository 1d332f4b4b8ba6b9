"""The three kinds of import and their columns, documented once.

``COLUMNS`` is the single source for the readers (which columns exist, which are
required), the README and the command line's ``--help``: change a column here and
all three follow.
"""

from __future__ import annotations

from enum import StrEnum

from agent.imports.reading import ColumnSpec


class ImportKind(StrEnum):
    """What a file holds; the value is the CLI word (``accessrecon import staff FILE``)."""

    STAFF = "staff"
    CLIENTS = "clients"
    ACCESS = "access"


STAFF_COLUMNS: list[ColumnSpec] = [
    ColumnSpec("name", True, "The person's full name.", "Anna Smith"),
    ColumnSpec(
        "emails", True,
        "Every address the person uses, separated by ; or , or new lines. The first is "
        "their primary address, the rest are aliases. Each address belongs to one person.",
        "anna@practice.co.nz; anna.smith@gmail.com",
    ),
    ColumnSpec(
        "status", True, "active, on leave (or on_leave) or left; any case.", "active",
    ),
    ColumnSpec(
        "left_on", False,
        "The day the person left: required when status is left, empty otherwise. "
        "2025-03-03, 03/03/2025 (day first) or an Excel date.",
        "2025-03-03",
    ),
    ColumnSpec(
        "practice_role", False,
        "practice admin, partner, manager or employee; empty if not known.", "manager",
    ),
]

CLIENT_COLUMNS: list[ColumnSpec] = [
    ColumnSpec(
        "client_id", True,
        "The practice's own id for the client (from the practice manager); unique.", "C00042",
    ),
    ColumnSpec("name", True, "The client's name.", "Kowhai Joinery Ltd"),
    ColumnSpec("client_manager", False, "Who manages the client, as a name.", "Ben Chen"),
    ColumnSpec("job_manager", False, "Who manages the client's jobs, as a name.", "Ben Chen"),
    ColumnSpec("partner", False, "The partner responsible, as a name.", "Kiri Evans"),
    ColumnSpec(
        "annual_fee", False, "The yearly fee or budget; $ and thousands commas allowed.",
        "$13,900.00",
    ),
    ColumnSpec(
        "archived", False, "yes or no (also true/false, 1/0); empty means no.", "no",
    ),
    ColumnSpec(
        "contact_email", False, "The client's contact address, if any.", "accounts@kowhai.co.nz",
    ),
    ColumnSpec(
        "linked_orgs", False,
        "The client's ledger orgs as portal:org_id, separated by ;. Portals: xero "
        "(! and five letters or digits, case matters), qbo (10 to 19 digits), myob (a "
        "UUID). An org links to at most one client.",
        "xero:!x7Kp2; qbo:9130352157364426",
    ),
]

ACCESS_COLUMNS: list[ColumnSpec] = [
    ColumnSpec(
        "staff_email", True,
        "An address of a staff member in the imported roster (primary or alias).",
        "anna@practice.co.nz",
    ),
    ColumnSpec("portal", True, "xero, qbo or myob.", "xero"),
    ColumnSpec(
        "org_id", True, "The org's id in that portal (see linked_orgs for the forms).",
        "!x7Kp2",
    ),
    ColumnSpec(
        "role", True, "The role the practice granted, as the portal names it.", "Adviser",
    ),
    ColumnSpec(
        "extra_permissions", False,
        "Extra permissions granted with the role, separated by ;.",
        "Manage users; Payroll admin",
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
        lines.append(f"{spec.name} ({need}): {spec.description} Example: {spec.example}")
    return "\n".join(lines)
