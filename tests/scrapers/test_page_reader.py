"""How server-rendered pages are read, with the shipped qbo recipe: by SPEC's words only.

Tables are picked by the columns the recipe names, whatever else they hold; the range
and empty texts are the recipe's own; a row's company is where its link goes, not
what any link is called. These run on ``ReadPage`` values as ``reading`` returns
them, so the edge cases need no portal.
"""

from __future__ import annotations

import pytest

from agent.capture import LayoutChanged, OrgRef
from agent.domain import AccessStatus, Portal
from agent.scrapers.page_reader import (
    _next_page,
    _table_orgs,
    find_table,
    is_data_row,
    link_pattern,
    ranges,
    rows_of_page,
)
from agent.scrapers.reading import ReadPage
from agent.scrapers.recipe import PageUsers, TableOrgs, range_pattern
from agent.scrapers.recipe_book import load_book

URL = "https://qbo.example/clients"
REALM, OTHER = "1234567890", "9876543210"
QBO = load_book()[Portal.QBO].recipe
assert isinstance(QBO.orgs, TableOrgs)
assert isinstance(QBO.users, PageUsers)
CLIENTS = QBO.orgs
USERS_TAB = QBO.users.lists[0]
USERS_HEADERS = tuple(USERS_TAB.table or ())
CLIENTS_HEADERS = tuple(CLIENTS.headers)
RANGE = range_pattern(USERS_TAB.range)


def _table(
    tables: list[list[list[str]]], headers: tuple[str, ...]
) -> tuple[int | None, dict[str, int]]:
    return find_table(tables, headers)


def _ranges(lines: list[str]) -> list[tuple[int, int, int]]:
    return ranges(lines, RANGE)


def _clients(page: ReadPage, url: str) -> list[OrgRef]:
    return _table_orgs(page, url, Portal.QBO, CLIENTS, link_pattern(Portal.QBO, CLIENTS.link))


def users_with_action() -> list[list[str]]:
    return [
        ["Email", "Status", "Name", "Action", "User type"],
        ["ann@client.example", "Active", "Ann", "Delete Ann", "Company admin"],
        ["bo@client.example", "Invited", "Bo", "", "Reports only"],
    ]


def test_a_table_with_more_columns_in_another_order_is_read_by_column_name() -> None:
    tables = [[["Firm", "Name", "Email", "Status"]], users_with_action()]
    index, _ = _table(tables, USERS_HEADERS)
    assert index == 1
    page = ReadPage(["1-2 of 2"], tables, [[], []], [])
    found = rows_of_page(page, URL, Portal.QBO, REALM, USERS_TAB, 0, QBO.values, "nope")
    assert found is not None
    users = found.users
    assert [(u.email, u.name, u.role, u.status) for u in users] == [
        ("ann@client.example", "Ann", "Company admin", AccessStatus.ACTIVE),
        ("bo@client.example", "Bo", "Reports only", AccessStatus.PENDING),
    ]


def test_rows_are_those_with_a_cell_under_every_header() -> None:
    header = ["Name", "Email", "User type", "Status"]
    assert is_data_row(["Ann", "ann@client.example", "Reports only", "Active"], header)
    # a trailing control without a header of its own
    assert is_data_row(["Ann", "ann@client.example", "Reports only", "Active", "Remove"], header)
    assert not is_data_row(["No users to show"], header)
    assert not is_data_row([], header)
    assert not is_data_row(list(header), header)


def test_a_table_missing_a_needed_column_is_not_the_table() -> None:
    without_email = [row[1:] for row in users_with_action()]
    assert _table([without_email], USERS_HEADERS) == (None, {})
    twice = [["Name", "Name", "Email", "User type", "Status"]]
    assert _table([twice], USERS_HEADERS) == (None, {})


def test_two_tables_with_the_needed_columns_are_a_changed_layout() -> None:
    with pytest.raises(LayoutChanged):
        _table([users_with_action(), users_with_action()], USERS_HEADERS)


def test_the_range_is_found_alone_on_its_line_or_beside_the_pager() -> None:
    assert _ranges(["Users", "1-25 of 26", "Next"]) == [(1, 25, 26)]
    assert _ranges(["Users", "Previous 26-26 of 26"]) == [(26, 26, 26)]
    # a name that looks like a range does not hide the page's own, alone on its line
    assert _ranges(["1-2 of 3 x@client.example Reports only Active", "1-1 of 1"]) == [(1, 1, 1)]
    assert _ranges(["No users to show"]) == []
    assert _ranges(["12-3-4 of 5"]) == []


def client_page(
    rows: list[list[str]],
    links: list[tuple[int, int, str, str]],
    page_links: list[tuple[str, str]] | None = None,
) -> ReadPage:
    header = ["Status", "Client", "Go to"]
    return ReadPage(
        lines=[],
        tables=[[header, *rows]],
        table_links=[links],
        links=page_links or [(t, h) for _, _, t, h in links],
    )


def test_a_client_is_named_by_its_client_cell_and_known_by_where_it_links() -> None:
    page = client_page(
        [["Active", "Acme & Co", "Manage users"], ["Active", "Next", "Manage users"]],
        [
            (1, 1, "Acme & Co", f"/app/company/{REALM}/manageusers"),
            (1, 2, "Manage users", f"/app/company/{REALM}/manageusers"),
            (2, 1, "Next", f"https://qbo.example/app/company/{OTHER}/manageusers/"),
            (2, 2, "Manage users", f"/app/company/{OTHER}/manageusers"),
        ],
    )
    assert [(o.portal_org_id, o.name) for o in _clients(page, URL)] == [
        (REALM, "Acme & Co"),
        (OTHER, "Next"),
    ]
    # a client named Next is not the pager's Next link
    assert _next_page(page, CLIENTS.next_link) is None
    paged = client_page([], [], [("Next", "/clients?page=2")])
    assert _next_page(paged, CLIENTS.next_link) == "/clients?page=2"


def test_a_client_row_linking_to_two_companies_or_none_is_a_changed_layout() -> None:
    two = client_page(
        [["Active", "Acme", "Manage users"]],
        [
            (1, 1, "Acme", f"/app/company/{REALM}/manageusers"),
            (1, 2, "Manage users", f"/app/company/{OTHER}/manageusers"),
        ],
    )
    with pytest.raises(LayoutChanged, match="2 orgs"):
        _clients(two, URL)
    # a link under the company's page (a remove link) is not a link to the company
    under = client_page(
        [["Active", "Acme", "Delete"]],
        [(1, 2, "Delete", f"/app/company/{REALM}/manageusers/7/delete")],
    )
    with pytest.raises(LayoutChanged, match="0 orgs"):
        _clients(under, URL)
    # a realm id is ASCII digits (SPEC): other scripts' digits are not a company
    arabic = client_page(
        [["Active", "Acme", "Manage users"]],
        [(1, 1, "Acme", "/app/company/" + "\u0661" * 10 + "/manageusers")],
    )
    with pytest.raises(LayoutChanged, match="0 orgs"):
        _clients(arabic, URL)


def test_an_empty_client_table_is_no_clients_and_no_table_is_a_changed_layout() -> None:
    assert _clients(client_page([], []), URL) == []
    with pytest.raises(LayoutChanged, match=", ".join(CLIENTS_HEADERS)):
        _clients(ReadPage(["No clients to show"], [], [], []), URL)
