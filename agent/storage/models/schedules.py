"""Each firing of a crawl schedule, recorded once.

A schedule (``scheduled_job``, APScheduler's store) fires into the scan queue from
whichever server leads the deployment (``agent.crawl.leader``). A new leader may find
a fire time its predecessor acted on but died before marking done; the unique
(login, due time) pair makes that second firing a no-op on SQLite and PostgreSQL
alike, whatever the scan queue does with a repeated request.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from agent.clock import utcnow

__all__ = ["ScheduleFiring"]


class ScheduleFiring(SQLModel, table=True):
    """One fire time of one login's schedule, and the scan request it made."""

    __tablename__ = "schedule_firing"
    __table_args__ = (UniqueConstraint("login_id", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    #: no foreign key: removing a login keeps the record of when its schedule fired
    login_id: int
    #: the fire time the schedule was due at (not when it ran): the firing's identity
    due_at: datetime
    fired_at: datetime = Field(default_factory=utcnow)
    #: the server that fired it, ``host pid N``: which one led at that moment
    fired_by: str = Field(default="", max_length=200)
    request_id: int | None = None
