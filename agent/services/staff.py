"""A member of staff as the reports and the API show them."""

from __future__ import annotations

from sqlmodel import Session, col, select

from agent.storage.models import StaffEmail


def emails_of(session: Session, staff_id: int) -> list[str]:
    """Every address of a member of staff, the primary first, then alphabetically.

    The order is what a person reading a report or the people page expects: the
    address the practice knows them by, then their aliases.
    """
    return list(
        session.exec(
            select(StaffEmail.email)
            .where(StaffEmail.staff_id == staff_id)
            .order_by(col(StaffEmail.is_primary).desc(), col(StaffEmail.email))
        )
    )
