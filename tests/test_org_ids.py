"""One rule per portal for org ids: every layer that reads one keeps it in the stored form.

The cases (``tests/cases/org_ids.json``) are shared with the extension's test
(``tests/extension/test_org_ids.py``), so the id the extension reads off an address
is the id the agent stores.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from agent.domain import Portal
from agent.imports import normalise_org_id
from agent.orgid import ID_SHAPES, parse_any_org_id, parse_org_id
from server.schemas import OrgId

CASES: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "cases" / "org_ids.json").read_text("utf-8")
)["cases"]
VALID = [c for c in CASES if "canonical" in c]
REFUSED = [c for c in CASES if "error" in c]
LABELS = {"xero": "Xero", "qbo": "QuickBooks", "myob": "MYOB"}


def case_id(case: dict[str, Any]) -> str:
    return f"{case['portal']}:{case['input']!r}"


def test_every_case_is_one_or_the_other() -> None:
    assert len(VALID) + len(REFUSED) == len(CASES)
    assert all(("canonical" in c) != ("error" in c) for c in CASES)
    assert {c["portal"] for c in VALID} == set(Portal)


@pytest.mark.parametrize("case", VALID, ids=case_id)
def test_an_id_is_kept_in_its_stored_form(case: dict[str, Any]) -> None:
    portal, canonical = Portal(case["portal"]), case["canonical"]
    assert parse_org_id(portal, case["input"]) == canonical
    assert parse_org_id(portal, canonical) == canonical
    assert re.fullmatch(ID_SHAPES[portal], canonical)
    # the formats never overlap: an id alone names its portal
    assert parse_any_org_id(case["input"]) == (portal, canonical)
    assert TypeAdapter(OrgId).validate_python(case["input"]) == canonical
    assert normalise_org_id(portal, case["input"]) == canonical  # imports store the same


@pytest.mark.parametrize("case", REFUSED, ids=case_id)
def test_anything_else_is_refused_naming_the_portal_and_the_format(case: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=re.escape(case["error"])) as refused:
        parse_org_id(case["portal"], case["input"])
    if case["portal"] in LABELS:
        assert f"{LABELS[case['portal']]} " in str(refused.value)


@pytest.mark.parametrize("text", ["x7Kp2", "12345", "3f2b8c1e-5d4a", "", "!x7Kp2\x00"])
def test_an_id_of_no_portal_is_refused_by_the_api(text: str) -> None:
    with pytest.raises(ValueError, match="is not an org id of any portal"):
        parse_any_org_id(text)
    with pytest.raises(ValidationError):
        TypeAdapter(OrgId).validate_python(text)


def test_the_api_refuses_an_id_longer_than_its_column() -> None:
    padded = "!x7Kp2" + " " * 64
    assert parse_org_id(Portal.XERO, padded) == "!x7Kp2"
    with pytest.raises(ValidationError):
        TypeAdapter(OrgId).validate_python(padded)
