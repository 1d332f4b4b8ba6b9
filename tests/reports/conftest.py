"""The report tests' practice: built once per test on each configured database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from tests.reports.states import State, build

AS_OF = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)


@pytest.fixture
def state(engine: Engine) -> State:
    return build(engine)
