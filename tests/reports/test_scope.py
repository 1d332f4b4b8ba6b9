"""A report cut for one manager's clients holds nothing of anyone else's, in any report."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from agent.reports.common import ReportFormat
from agent.reports.evidence import write_evidence_report
from agent.reports.exceptions import write_exceptions_report
from agent.reports.leaver import write_leaver_report
from agent.reports.matrix import write_matrix_report
from agent.reports.workload import write_workload_report
from tests.reports.conftest import AS_OF
from tests.reports.readback import all_text, read_csv
from tests.reports.states import ANA, BEN, LEAVER_EMAIL, SUM_MANAGER, UNLINKED_ORG, State


@pytest.mark.parametrize("fmt", list(ReportFormat))
def test_ana_s_cut_holds_none_of_ben_s(
    engine: Engine, state: State, tmp_path: Path, fmt: ReportFormat
) -> None:
    scope, label = state.clients_of(ANA), f"clients managed by {ANA}"
    paths = [
        tmp_path / f"{name}.{fmt.value}"
        for name in ("leaver", "ana-leaver", "matrix", "workload", "exceptions", "evidence")
    ]
    with Session(engine) as session:
        for who, path in ((LEAVER_EMAIL, paths[0]), (ANA, paths[1])):
            write_leaver_report(
                session, who, path, fmt=fmt, scope=scope, scope_label=label, as_of=AS_OF
            )
        for write, path in zip(
            (
                write_matrix_report,
                write_workload_report,
                write_exceptions_report,
                write_evidence_report,
            ),
            paths[2:],
            strict=True,
        ):
            write(session, path, fmt=fmt, scope=scope, scope_label=label, as_of=AS_OF)
    # Ben manages clients but is staff too: as a person he may appear on Ana's clients.
    others = state.names_of(BEN) | state.names_of(SUM_MANAGER) | {SUM_MANAGER}
    others |= {UNLINKED_ORG[1], UNLINKED_ORG[2]}
    mine = state.names_of(ANA) | {ANA}  # the workload names managers, not clients
    for path in paths:
        if fmt is ReportFormat.XLSX:
            cells = all_text(path)
            assert f"Scope: {label} (3 clients)" in cells, path.name
        else:
            cells = {c.lstrip("'") for row in read_csv(path) for c in row}
        leaked = {c for c in cells if c in others or any(o in c for o in others if len(o) > 4)}
        assert leaked == set(), (path.name, leaked)
        assert cells & mine, path.name
