"""A roster's practice roles are the practice's own job titles, kept and read as access roles."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from agent.imports import TITLE_ROLES, PracticeRole, role_for_title
from tests.imports.helpers import load, rejected, staff_of, where, write_csv, write_xlsx

TITLES = [
    ("Director", "partner"),
    ("Principal", "partner"),
    ("Partner", "partner"),
    ("Managing Director", "partner"),
    ("Practice Manager", "practice_admin"),
    ("office manager", "practice_admin"),
    ("admin", "practice_admin"),
    ("practice_admin", "practice_admin"),
    ("Manager", "manager"),
    ("Senior Manager", "manager"),
    ("Client Manager", "manager"),
    ("Senior", "employee"),
    ("Senior Accountant", "employee"),
    ("Bookkeeper", "employee"),
    ("Graduate", "employee"),
    ("Intern", "employee"),
    ("Associate", "employee"),
    ("Admin assistant", "employee"),
    ("employee", "employee"),
]


@pytest.mark.parametrize(("title", "role"), TITLES)
def test_the_default_table_reads_titles_as_roles(title: str, role: str) -> None:
    assert role_for_title(title) == (PracticeRole(role), True)


def test_an_unknown_title_is_an_employee_and_said_to_be_unknown() -> None:
    assert role_for_title("Chief Happiness Officer of Vibes") == (PracticeRole.EMPLOYEE, True)
    assert role_for_title("Wizard") == (PracticeRole.EMPLOYEE, False)
    assert {role for role, _, _ in TITLE_ROLES} == set(PracticeRole)


def test_titles_are_kept_as_written_and_mapped(engine: Engine, tmp_path: Path) -> None:
    rows = [
        [f"Person {i}", f"p{i}@practice.example", "active", title]
        for i, (title, _) in enumerate(TITLES)
    ]
    path = write_csv(tmp_path / "roster.csv", ["name", "emails", "status", "job_title"], rows)

    result = load(engine, "staff", path)

    assert result.created == len(TITLES)
    assert result.warnings == ()
    people = staff_of(engine)
    got = {
        (people[f"p{i}@practice.example"].job_title, people[f"p{i}@practice.example"].practice_role)
        for i in range(len(TITLES))
    }
    assert got == set(TITLES)


def test_unknown_titles_are_employees_with_a_warning_naming_them(
    engine: Engine, tmp_path: Path
) -> None:
    rows = [
        ["Ann", "ann@practice.example", "active", "Wizard"],
        ["Bob", "bob@practice.example", "active", "Senior"],
        ["Cy", "cy@practice.example", "active", "Head Chef"],
        ["Di", "di@practice.example", "active", "Wizard"],
        ["Ed", "ed@practice.example", "active", ""],
    ]
    path = write_csv(tmp_path / "roster.csv", ["name", "emails", "status", "title"], rows)

    result = load(engine, "staff", path)

    assert result.created == 5
    [warning] = result.warnings
    assert "'Wizard' (rows 2, 5)" in warning
    assert "'Head Chef' (row 4)" in warning
    assert "employee" in warning
    assert "Senior" not in warning
    people = staff_of(engine)
    assert (
        people["ann@practice.example"].job_title,
        people["ann@practice.example"].practice_role,
    ) == ("Wizard", "employee")
    assert (
        people["ed@practice.example"].job_title,
        people["ed@practice.example"].practice_role,
    ) == ("", "")


@pytest.mark.parametrize("column", ["practice_role", "role", "job_title", "title", "Job Title"])
def test_the_title_column_has_several_names(engine: Engine, tmp_path: Path, column: str) -> None:
    path = write_xlsx(
        tmp_path / "roster.xlsx",
        ["Name", "Email", "Status", column],
        [["Ann", "ann@practice.example", "Active", "Director"]],
    )
    load(engine, "staff", path)
    ann = staff_of(engine)["ann@practice.example"]
    assert (ann.job_title, ann.practice_role) == ("Director", "partner")


def test_two_title_columns_are_refused(engine: Engine, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "roster.csv",
        ["name", "emails", "status", "role", "title"],
        [["Ann", "ann@practice.example", "active", "manager", "Director"]],
    )
    error = rejected(engine, "staff", path)
    assert where(error) == [("roster.csv", 1, "title")]
    assert "both practice_role" in error.errors[0].reason


def test_a_changed_title_is_an_update(engine: Engine, tmp_path: Path) -> None:
    header = ["name", "emails", "status", "title"]
    load(
        engine,
        "staff",
        write_csv(
            tmp_path / "a.csv", header, [["Ann", "ann@practice.example", "active", "Senior"]]
        ),
    )
    same = load(
        engine,
        "staff",
        write_csv(
            tmp_path / "b.csv", header, [["Ann", "ann@practice.example", "active", "Senior"]]
        ),
    )
    assert (same.updated, same.unchanged) == (0, 1)
    # Another title of the same role is still a change: the title is kept as written.
    moved = load(
        engine,
        "staff",
        write_csv(
            tmp_path / "c.csv", header, [["Ann", "ann@practice.example", "active", "Accountant"]]
        ),
    )
    assert (moved.updated, moved.unchanged) == (1, 0)
    assert staff_of(engine)["ann@practice.example"].job_title == "Accountant"


def test_the_readme_shows_the_table_the_import_uses() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    shown = {}
    for line in readme.split("| access role | whole title |", 1)[1].splitlines()[2:]:
        if not line.startswith("|"):
            break
        role, whole, words = (cell.strip() for cell in line.strip("|").split("|"))
        shown[role.replace(" ", "_")] = (
            tuple(w.strip("`") for w in whole.split(", ") if w),
            tuple(words.split(", ")),
        )
    assert shown == {role.value: (whole, phrases) for role, whole, phrases in TITLE_ROLES}
