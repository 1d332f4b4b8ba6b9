"""How many requests each portal login has spent today, and what a spent budget left.

A login's daily request budget (``agent.crawl.polite``) is counted here, in the
database, so that every process crawling with the login (a scheduled crawl, a
re-scan from the dashboard) draws on the one count. A crawl that ran out leaves the
rest of the login's orgs for the next day and says so in a deferral row: the crawl
stays open, and the next day's crawl resumes it.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from agent.clock import utcnow

__all__ = ["BudgetDeferral", "RequestBudget"]


class RequestBudget(SQLModel, table=True):
    """The requests one login has claimed on one day (UTC), by every process."""

    __tablename__ = "request_budget"
    __table_args__ = (UniqueConstraint("login_id", "day"),)

    id: int | None = Field(default=None, primary_key=True)
    login_id: int = Field(foreign_key="portal_login.id", index=True)
    day: date
    used: int = 0
    updated_at: datetime = Field(default_factory=utcnow)


class BudgetDeferral(SQLModel, table=True):
    """A login's orgs a crawl left unread because the login's daily budget was spent."""

    __tablename__ = "budget_deferral"

    id: int | None = Field(default=None, primary_key=True)
    crawl_id: int = Field(foreign_key="crawl.id", index=True)
    login_id: int = Field(foreign_key="portal_login.id")
    day: date
    orgs: int = 0
    at: datetime = Field(default_factory=utcnow)
