"""The per-portal limits: every form the docs show loads, a bad one is refused by name,
and ``limits_for`` answers what a portal is held to.

No browser and no database here: the crawl's side is ``tests/test_polite.py``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from agent.crawl.polite import DEFAULTS, PortalLimits, is_local, limits_for
from agent.domain import Portal
from agent.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
VARIABLES = (
    "ACCESSRECON_PORTAL_PACE",
    "ACCESSRECON_PORTAL_CONCURRENCY",
    "ACCESSRECON_PORTAL_DAILY_BUDGET",
)
REAL = "https://go.xero.com"
SANDBOX = "http://127.0.0.1:8101"


def documented_forms() -> list[tuple[str, str]]:
    """Every ``VARIABLE=value`` and every default the README and the architecture page show."""
    forms: list[tuple[str, str]] = []
    for doc in (ROOT / "README.md", ROOT / "docs" / "architecture.md"):
        text = doc.read_text(encoding="utf-8")
        for name in VARIABLES:
            forms += [(name, v) for v in re.findall(rf"`{name}=([^`]+)`", text)]
            # the Settings table row: its default, and each `xero:…` example in it
            for row in re.findall(rf"^\| `{name}` \|(.*)$", text, flags=re.MULTILINE):
                forms += [(name, v) for v in re.findall(r"`([^`]*:[^`]*|\d[^`]*)`", row)]
    return forms


def test_the_docs_show_each_variable_in_several_forms() -> None:
    shown = {name for name, _ in documented_forms()}
    assert shown == set(VARIABLES)
    assert len(documented_forms()) >= 8


@pytest.mark.parametrize(("name", "value"), documented_forms())
def test_every_documented_form_loads(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    field = name.removeprefix("ACCESSRECON_").lower()
    loaded = getattr(Settings(), field)
    assert loaded, f"{name}={value} loaded as nothing"


def test_the_forms_mean_what_the_readme_says(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACCESSRECON_PORTAL_PACE", "xero:5,qbo:3")
    monkeypatch.setenv("ACCESSRECON_PORTAL_CONCURRENCY", "2, XERO:4")
    monkeypatch.setenv("ACCESSRECON_PORTAL_DAILY_BUDGET", '{"qbo": 25000}')
    settings = Settings()
    assert settings.portal_pace == {"xero": 5.0, "qbo": 3.0}
    assert settings.portal_concurrency == {"*": 2, "xero": 4}
    assert settings.portal_daily_budget == {"qbo": 25000}
    assert limits_for("myob", settings, base_url=REAL).concurrency == 2  # every portal
    assert limits_for("xero", settings, base_url=REAL).concurrency == 4  # named wins


def test_a_dotenv_file_is_read_too(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("ACCESSRECON_PORTAL_PACE=myob:1.5\n", encoding="utf-8")
    assert Settings().portal_pace == {"myob": 1.5}


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("ACCESSRECON_PORTAL_PACE", "xero:fast", "'fast' for xero is not a number"),
        ("ACCESSRECON_PORTAL_PACE", "xero:0", "'0' for xero is not a number"),
        ("ACCESSRECON_PORTAL_PACE", "sage:3", "'sage' is not a portal"),
        ("ACCESSRECON_PORTAL_PACE", "xero:5,xero:6", "xero is given twice"),
        ("ACCESSRECON_PORTAL_PACE", "qbo:", "'' for qbo is not a number"),
        ("ACCESSRECON_PORTAL_CONCURRENCY", "xero:2.5", "'2.5' for xero is not a whole number"),
        ("ACCESSRECON_PORTAL_CONCURRENCY", "myob:65", "'65' for myob is not a whole number"),
        ("ACCESSRECON_PORTAL_DAILY_BUDGET", "-1", "'-1' for every portal is not a whole"),
        ("ACCESSRECON_PORTAL_DAILY_BUDGET", "[5]", "'[5]' for every portal"),
    ],
)
def test_a_bad_value_is_refused_naming_the_setting_and_the_part(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, says: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as refused:
        Settings()
    message = str(refused.value)
    assert f"{name}: {says}" in message
    if "number" in says:  # and the form to write instead
        assert "e.g. xero:" in message


def test_real_portals_keep_the_defaults_and_settings_override_them() -> None:
    plain = Settings()
    for portal in Portal:
        assert limits_for(portal, plain, base_url=REAL) == DEFAULTS[portal]
        assert limits_for(portal, plain) == DEFAULTS[portal]  # no address: as a real one
    tuned = Settings(portal_pace={"qbo": 1.5}, portal_daily_budget={"*": 900})
    qbo = limits_for("qbo", tuned, base_url="https://qbo.intuit.com")
    assert (qbo.pace_per_s, qbo.daily_budget, qbo.concurrency) == (1.5, 900, 3)
    assert qbo.source == ("default", "setting", "setting")


def test_a_portal_on_this_machine_is_held_only_to_what_settings_name() -> None:
    for address in (SANDBOX, "http://localhost:9000", "http://[::1]:8080"):
        assert is_local(address)
        local = limits_for("xero", Settings(), base_url=address)
        assert (local.concurrency, local.pace_per_s, local.daily_budget) == (None, None, None)
        assert not local.paced
    assert not is_local(REAL)
    assert not is_local("http://10.0.0.5:8101")
    named = limits_for("xero", Settings(portal_pace={"xero": 20}), base_url=SANDBOX)
    assert (named.pace_per_s, named.daily_budget) == (20.0, None)


def test_describe_is_one_line_a_person_can_read() -> None:
    line = DEFAULTS[Portal.XERO].describe()
    assert line == (
        "xero: 4 requests in flight, 5 a second per portal host, 12,000 a day per login (default)"
    )
    local = limits_for("myob", Settings(), base_url=SANDBOX).describe()
    assert "\n" not in local
    assert "no pace" in local
    assert "no daily budget" in local
    with pytest.raises(AttributeError):
        DEFAULTS[Portal.QBO].pace_per_s = 9  # type: ignore[misc]
    assert isinstance(limits_for("qbo", Settings()), PortalLimits)
