"""Changes of access between two captures of one org."""

from __future__ import annotations

from agent.domain import AccessStatus, Portal
from agent.reconcile import ChangeKind, SeenUser, diff_users

DOMAINS = frozenset({"harbourco.example"})


def user(
    email: str, role: str = "STANDARD", status: AccessStatus = AccessStatus.ACTIVE, *extras: str
) -> SeenUser:
    return SeenUser(email, email.split("@")[0], role, status, extras)


def kinds(before: list[SeenUser], after: list[SeenUser]) -> dict[str, ChangeKind]:
    return {c.identity: c.kind for c in diff_users(Portal.XERO, "!a", before, after, DOMAINS)}


def test_new_gone_role_and_status_changes() -> None:
    before = [
        user("a@harbourco.example"),
        user("b@x.example"),
        user("c@x.example"),
        user("d@x.example", status=AccessStatus.PENDING),
    ]
    after = [
        user("A+tag@HarbourCo.example"),
        user("c@x.example", "READONLY"),
        user("d@x.example"),
        user("e@x.example"),
    ]
    assert kinds(before, after) == {
        "b@x.example": ChangeKind.GONE,
        "c@x.example": ChangeKind.ROLE_CHANGED,
        "d@x.example": ChangeKind.STATUS_CHANGED,
        "e@x.example": ChangeKind.NEW,
    }


def test_relabelled_roles_are_not_changes_but_new_permissions_are() -> None:
    assert kinds([user("a@x.example", "FINANCIALADVISER")], [user("a@x.example", "Adviser")]) == {}
    assert kinds(
        [user("a@x.example", "Adviser")],
        [user("a@x.example", "Adviser", AccessStatus.ACTIVE, "Manage users")],
    ) == {"a@x.example": ChangeKind.ROLE_CHANGED}


def test_declining_is_going_and_no_access_is_no_change() -> None:
    assert kinds([user("a@x.example")], [user("a@x.example", status=AccessStatus.DECLINED)]) == {
        "a@x.example": ChangeKind.GONE
    }
    assert kinds([user("a@x.example", status=AccessStatus.INACTIVE)], []) == {}
