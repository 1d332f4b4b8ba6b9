"""What the practice says about itself: its clients, its staff, the access it granted."""

from __future__ import annotations

from datetime import date

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from agent.storage.models.defaults import no_permissions

__all__ = ["Client", "ClientOrgLink", "IntendedAccess", "Staff", "StaffEmail"]


class Client(SQLModel, table=True):
    """The practice's own client record, from its practice manager export."""

    __tablename__ = "client"

    id: int | None = Field(default=None, primary_key=True)
    external_id: str = Field(unique=True, max_length=200)
    name: str = Field(max_length=500)
    client_manager: str = Field(default="", max_length=200, index=True)
    job_manager: str = Field(default="", max_length=200)
    partner: str = Field(default="", max_length=200)
    annual_fee: float | None = None
    archived: bool = False
    contact_email: str = Field(default="", max_length=320)
    #: who at the client the practice calls about their books (a practice export's contact)
    contact_name: str = Field(default="", max_length=200)


class ClientOrgLink(SQLModel, table=True):
    """A client's link to a portal org, by the portal's own id.

    Kept apart from ``org`` because the client list is usually imported before the
    first crawl has seen the org.
    """

    __tablename__ = "client_org_link"
    __table_args__ = (UniqueConstraint("portal", "portal_org_id"),)

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="client.id", index=True)
    portal: str = Field(max_length=16)
    portal_org_id: str = Field(max_length=64)


class Staff(SQLModel, table=True):
    """A roster member of the practice."""

    __tablename__ = "staff"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, index=True)
    status: str = Field(max_length=16)
    left_on: date | None = None
    practice_role: str = Field(default="", max_length=100)
    #: the practice's own title for the person, as the roster wrote it ("Senior accountant")
    job_title: str = Field(default="", max_length=200)


class StaffEmail(SQLModel, table=True):
    """One of a staff member's addresses, stored normalised (see agent.reconcile.identity)."""

    __tablename__ = "staff_email"

    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key="staff.id", index=True)
    email: str = Field(unique=True, max_length=320)
    is_primary: bool = False


class IntendedAccess(SQLModel, table=True):
    """Access the practice itself granted a staff member to an org."""

    __tablename__ = "intended_access"
    __table_args__ = (UniqueConstraint("staff_id", "portal", "portal_org_id"),)

    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key="staff.id", index=True)
    portal: str = Field(max_length=16)
    portal_org_id: str = Field(max_length=64)
    role: str = Field(max_length=100)
    extra_permissions: list[str] = Field(default_factory=no_permissions, sa_column=Column(JSON))
    #: the last day the access is intended; after it, it is judged as never granted
    until: date | None = Field(default=None, index=True)
