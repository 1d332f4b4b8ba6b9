"""A world: the data behind the imitation portals and the practice's own files.

A world is what the tests and the demo stand on. It holds the practice (name,
domain, staff, clients, what it granted), the orgs of every portal with their users,
the agent's logins, and the ground truth: the finding class every (portal, org,
email) must get. Ground truth is written by the generator from what it *meant* each
user to be, never by running the product's reconcile code, so the two can disagree
and a test can catch it.

Values are stored in each portal's own vocabulary (role codes, status words), the
way the portal would show them; ``sandbox/portals`` render them, ``sandbox/generate``
makes them.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass(slots=True)
class WorldUser:
    """One user of one org, as the portal stores it.

    ``status`` uses the portal's words: xero ``ACTIVE``/``PENDING``/``DECLINED``;
    qbo ``Active``/``Invited``/``Inactive``; myob ``ACTIVE``/``INVITED``.
    ``kind`` is qbo's tab (``users`` or ``firms``) or myob's access (``User`` or
    ``Advisor``); xero leaves it ``None``. ``added_by_owner`` marks a myob advisor the
    business owner added, whom only the owner can remove (SPEC.md, Removing a user);
    it means nothing elsewhere, and worlds saved before it existed load as ``False``.
    """

    user_id: str
    first_name: str
    last_name: str
    email: str
    role: str
    status: str
    extra_permissions: list[str] = field(default_factory=list)
    kind: str | None = None
    firm_name: str | None = None
    two_step: bool = True
    last_login_utc: str | None = None
    logins_this_week: int = 0
    is_subscriber: bool = False
    invite_expires_at: str | None = None
    myob_roles: list[str] = field(default_factory=list)
    added_by_owner: bool = False

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


@dataclass(slots=True)
class WorldOrg:
    portal: str
    org_id: str
    name: str
    users: list[WorldUser]
    client_id: str | None = None
    serial_number: str | None = None


#: how a login answers the portal's second step: codes from its TOTP secret, or a
#: code the portal e-mails (SPEC.md, Sign-in by an e-mailed code)
MFA_TOTP = "totp"
MFA_EMAIL = "email"
MFA_METHODS = (MFA_TOTP, MFA_EMAIL)


@dataclass(slots=True)
class WorldLogin:
    """A practice login the agent signs in with (also a user of each of its orgs).

    ``mfa`` is ``totp`` (a code from ``totp_secret``) or ``email`` (a code the portal
    e-mails after the password, which only a person reading the mailbox can give;
    such a login has no TOTP secret). Worlds saved before it existed load as ``totp``.
    """

    portal: str
    email: str
    password: str
    totp_secret: str = ""
    first_name: str = "Access"
    last_name: str = "Robot"
    mfa: str = MFA_TOTP

    def __post_init__(self) -> None:
        if self.mfa not in MFA_METHODS:
            raise ValueError(
                f"login {self.portal}/{self.email}: mfa must be one of"
                f" {', '.join(MFA_METHODS)}, not {self.mfa!r}"
            )
        if self.mfa == MFA_TOTP and not self.totp_secret:
            raise ValueError(f"login {self.portal}/{self.email}: mfa totp needs a totp_secret")


@dataclass(slots=True)
class WorldStaff:
    staff_id: str
    name: str
    emails: list[str]
    status: str  # active | on_leave | left
    practice_role: str
    left_on: str | None = None


@dataclass(slots=True)
class WorldClient:
    client_id: str
    name: str
    client_manager: str
    partner: str
    annual_fee: float
    archived: bool = False
    #: where the client's access statement is addressed (the clients import's contact_email)
    contact_email: str = ""
    #: who at the client the practice calls (the clients import's contact_name)
    contact_name: str = ""


@dataclass(slots=True)
class WorldGrant:
    """Access the practice itself granted: what the intended-access import says."""

    staff_email: str
    portal: str
    org_id: str
    role: str
    extra_permissions: list[str] = field(default_factory=list)


#: who can remove an observed access (DESIGN.md, Acting on findings)
PRACTICE = "practice"
CLIENT = "client"
#: why only the client can remove it; ``""`` when the practice can
REMOVABLE_REASONS = frozenset(
    {
        "agent_lacks_manage_users",
        "subscriber",
        "primary_admin",
        "owner_added_advisor",
        "agent_not_admin",
        "other_firm",
    }
)


@dataclass(slots=True)
class WorldTruth:
    """The expected finding of one (portal, org, email), and who can remove that access.

    ``removable_by`` is ``practice`` when the agent's own login in the org may remove
    the person there, else ``client`` with ``removable_reason`` saying why. Rows of
    worlds saved before these fields existed, and rows of access that is not there
    (``missing_expected``), keep the defaults.
    """

    portal: str
    org_id: str
    email: str
    finding_class: str
    removable_by: str = PRACTICE
    removable_reason: str = ""

    def __post_init__(self) -> None:
        if self.removable_by == PRACTICE:
            if self.removable_reason:
                raise ValueError(
                    f"truth row {self.portal}/{self.org_id}/{self.email}: removable_by practice"
                    f" takes no removable_reason, not {self.removable_reason!r}"
                )
        elif self.removable_by == CLIENT:
            if self.removable_reason not in REMOVABLE_REASONS:
                raise ValueError(
                    f"truth row {self.portal}/{self.org_id}/{self.email}: removable_reason"
                    f" {self.removable_reason!r} is not one of {sorted(REMOVABLE_REASONS)}"
                )
        else:
            raise ValueError(
                f"truth row {self.portal}/{self.org_id}/{self.email}: removable_by must be"
                f" {PRACTICE!r} or {CLIENT!r}, not {self.removable_by!r}"
            )


@dataclass(slots=True)
class World:
    seed: int
    practice_name: str
    practice_domains: list[str]
    staff: list[WorldStaff]
    clients: list[WorldClient]
    orgs: list[WorldOrg]
    logins: list[WorldLogin]
    grants: list[WorldGrant]
    truth: list[WorldTruth]

    def orgs_of(self, portal: str) -> list[WorldOrg]:
        return [o for o in self.orgs if o.portal == portal]

    def logins_of(self, portal: str) -> list[WorldLogin]:
        return [lg for lg in self.logins if lg.portal == portal]

    def leavers(self) -> list[WorldStaff]:
        return [s for s in self.staff if s.status == "left"]

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=1)

    def save(self, path: Path) -> None:
        path.write_text(self.to_json(), encoding="utf-8")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> World:
        return cls(
            seed=data["seed"],
            practice_name=data["practice_name"],
            practice_domains=list(data["practice_domains"]),
            staff=[WorldStaff(**s) for s in data["staff"]],
            clients=[WorldClient(**c) for c in data["clients"]],
            orgs=[
                WorldOrg(**{**o, "users": [WorldUser(**u) for u in o["users"]]})
                for o in data["orgs"]
            ],
            logins=[WorldLogin(**lg) for lg in data["logins"]],
            grants=[WorldGrant(**g) for g in data["grants"]],
            truth=[WorldTruth(**t) for t in data["truth"]],
        )

    @classmethod
    def load(cls, path: Path) -> World:
        return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))
