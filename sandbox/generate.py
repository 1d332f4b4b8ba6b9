"""Generate a seeded world and the files a practice would hand the product.

``generate_world(seed, staff=…, orgs_per_portal=…, users_per_org=…)`` builds a
``World`` whose every user was put there *as* something: a grant kept as granted,
a grant whose role drifted, a direct invite by the client, a leaver never removed,
a practice address matching nobody, a client's own person, a pending or declined
invitation. That intent is the ground truth; ``write_world`` saves it next to the
portals' data and the practice's import files (the product's own columns).

The hard cases of matching people are there on purpose: addresses in mixed case
or plus-tagged on the practice domain; personal addresses on the roster (a direct
invite sent there is ``invited_direct``; a leaver's, written with a plus-tag, is
``leaver_access``; a grant recorded under one, tag and all, is the person's) and
off it (a staff member, or a leaver, invited on a private address under a name
written as ``Surname, Given``, without its diacritics, or as initials:
``probable_match``); two staff with the same name;
staff on leave; archived clients and unlinked orgs; the portal vendors' support
users and other firms' accountants (``client_user``); MYOB grants that name only the
Roles, not the user type.

Who can remove each access varies too (``sandbox.rights``): the agent's own rights
differ from org to org, xero has subscribers, each qbo company's first own person is
its primary admin, and some myob advisors were added by the business owner. The
truth says, per observed user, whether the practice or only the client can remove it.

The same seed and sizes always give the same world, so a failing test can be
replayed.
"""

from __future__ import annotations

import csv
import random
import string
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyotp

from sandbox.rights import vary_rights
from sandbox.world import (
    MFA_EMAIL,
    World,
    WorldClient,
    WorldGrant,
    WorldLogin,
    WorldOrg,
    WorldStaff,
    WorldTruth,
    WorldUser,
)

PORTALS = ("xero", "qbo", "myob")

_GIVEN = [
    "Anna",
    "Ben",
    "Chloé",
    "Dev",
    "Erin",
    "Farah",
    "George",
    "Hana",
    "Ivan",
    "Jo",
    "Kiri",
    "Liam",
    "Mei",
    "Noah",
    "Olivia",
    "Priya",
    "Quinn",
    "Rhys",
    "Sofía",
    "Tom",
    "Uma",
    "Vikram",
    "Wen",
    "Xavier",
    "Yusuf",
    "Zoë",
    "Łukasz",
    "Aroha",
    "Björn",
    "Siobhán",
]
_FAMILY = [
    "Ashby",
    "Brennan",
    "Chen",
    "D'Souza",
    "Evans",
    "Fraser",
    "Gupta",
    "Hōhepa",
    "Iwata",
    "Jensen",
    "Kaur",
    "Lee",
    "Müller",
    "Nguyen",
    "O'Brien",
    "Patel",
    "Quigley",
    "Rossi",
    "Singh",
    "Tanaka",
    "Underwood",
    "Vasquez",
    "Walker",
    "Xu",
    "Yilmaz",
    "Zielińska",
]
#: Client people come from other pools than staff, so no client name resembles staff.
_CLIENT_GIVEN = ["Marge", "Otis", "Ruth", "Stan", "Trudy", "Vern", "Wanda", "Yolanda", "Ziggy"]
_CLIENT_FAMILY = ["Bakery", "Cartage", "Dairy", "Electrical", "Fisheries", "Glazing", "Haulage"]
#: The person each client's record names as its contact (picked by the client's number,
#: not by the random generator, so adding them left every other choice as it was).
_CONTACT_FAMILY = ["Ngata", "Morrison", "Okonkwo", "Lindqvist", "Whitcombe", "Fa'asavalu"]
#: Other accounting firms' people: a pool of their own, so no name resembles staff.
_FIRM_GIVEN = ["Ingrid", "Malcolm", "Petra", "Rupert", "Tamsin"]
_FIRM_FAMILY = ["Ogilvy", "Pemberton", "Quayle", "Ravensworth"]
_FIRMS = ["Pemberton & Quayle CA", "Ogilvy Tax Advisers"]
#: Personal mail providers, none of them a roster alias's domain (mailbox.example).
_PERSONAL_DOMAINS = ["home.example", "fastmail.example", "inbox.example"]
#: How each portal's vendor appears when the client lets its support staff in.
_SUPPORT = {
    "xero": ("Xero", "Support", "support@xero.com"),
    "qbo": ("QuickBooks", "Support", "accountant.support@intuit.com"),
    "myob": ("MYOB", "Support", "Support@MYOB.com"),
}
_ODD_NAMES = [
    "<img src=x onerror=alert(1)>",
    "Ōtautahi & Sons = Best",
    "Bree 🍀 O'Hara",
    'a<b>c "quoted"',
]
_BUSINESS = [
    "Bakery",
    "Builders",
    "Cafe",
    "Dental",
    "Engineering",
    "Farms",
    "Garage",
    "Holdings",
    "Imports",
    "Joinery",
    "Kitchens",
    "Legal",
    "Motors",
    "Nursery",
    "Optics",
    "Plumbing",
]
_PLACES = ["Harbour", "Summit", "Kōwhai", "Riverside", "Old Mill", "Smith & Jones", "Ngā Hau"]

_XERO_STAFF_ROLES = ["FINANCIALADVISER", "STANDARD"]
_XERO_CLIENT_ROLES = ["STANDARD", "READONLY", "INVOICEONLY", "CASHBOOKCLIENT", "MANAGEDCLIENT"]
_QBO_USER_TYPES = [
    "Company admin",
    "Standard all access",
    "Standard limited customers and vendors",
    "Reports only",
    "Time tracking only",
]
_MYOB_ROLES = ["Administrator", "Invoicing", "Purchasing", "Payroll", "Banking", "Read only"]


@dataclass(frozen=True, slots=True)
class Sizes:
    staff: int = 12
    orgs_per_portal: int = 6
    users_per_org: int = 6
    portals: tuple[str, ...] = PORTALS


class _Builder:
    def __init__(self, seed: int, sizes: Sizes) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.sizes = sizes
        self.domain = "harbourco.example"
        self.today = date(2026, 11, 1)
        self.used_ids: set[str] = set()
        self.used_emails: set[str] = set()
        self.user_seq = 0

    # -- identifiers ---------------------------------------------------------------

    def org_id(self, portal: str) -> str:
        while True:
            if portal == "xero":
                alphabet = string.ascii_letters + string.digits
                candidate = "!" + "".join(self.rng.choice(alphabet) for _ in range(5))
            elif portal == "qbo":
                length = self.rng.randint(10, 19)
                candidate = str(self.rng.randint(1, 9)) + "".join(
                    self.rng.choice(string.digits) for _ in range(length - 1)
                )
            else:
                candidate = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
            if candidate not in self.used_ids:
                self.used_ids.add(candidate)
                return candidate

    def next_user_id(self) -> str:
        self.user_seq += 1
        return f"u{self.seed}-{self.user_seq:06d}"

    # -- the practice --------------------------------------------------------------

    def staff(self) -> list[WorldStaff]:
        people: list[WorldStaff] = []
        names: set[str] = set()
        n = self.sizes.staff
        for i in range(n):
            while True:
                given, family = self.rng.choice(_GIVEN), self.rng.choice(_FAMILY)
                if f"{given} {family}" not in names:
                    break
            names.add(f"{given} {family}")
            local = f"{_ascii(given)}.{_ascii(family)}".lower()
            emails = [f"{local}@{self.domain}"]
            if self.rng.random() < 0.25:
                emails.append(f"{local}.{i}@mailbox.example")
            # The first staff members are the managers; then a mix of statuses.
            if i < max(2, n // 5):
                status, role = "active", ("partner" if i == 0 else "manager")
            else:
                roll = self.rng.random()
                status = "left" if roll < 0.25 else "on_leave" if roll < 0.35 else "active"
                role = "employee"
            left_on = None
            if status == "left":
                left_on = (self.today - timedelta(days=self.rng.randint(10, 400))).isoformat()
            people.append(
                WorldStaff(
                    staff_id=f"S{i + 1:04d}",
                    name=f"{given} {family}",
                    emails=emails,
                    status=status,
                    practice_role=role,
                    left_on=left_on,
                )
            )
        if not any(s.status == "left" for s in people):
            people[-1].status, people[-1].left_on = "left", "2026-03-03"
        self._namesake(people)
        return people

    def _namesake(self, people: list[WorldStaff]) -> None:
        """Give one employee another current employee's name: two people, one name."""
        pool = [s for s in people if s.status != "left" and s.practice_role == "employee"]
        if len(pool) < 2:
            return
        original, twin = pool[0], pool[-1]
        given, _, family = original.name.partition(" ")
        local = f"{_ascii(given)}.{_ascii(family)}".lower()
        twin.name = original.name
        twin.emails = [f"{local}2@{self.domain}"]

    def logins(self) -> list[WorldLogin]:
        return [
            WorldLogin(
                portal=p,
                email=f"accessrecon.{p}@{self.domain}",
                password=f"Pa55-{p}-{self.rng.getrandbits(32):08x}!",
                totp_secret=pyotp.random_base32(),
            )
            for p in self.sizes.portals
        ]


def _ascii(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.replace("ł", "l").replace("Ł", "L"))
    return "".join(c for c in decomposed if c.isascii() and c.isalnum())


def generate_world(
    seed: int = 7,
    *,
    staff: int = 12,
    orgs_per_portal: int = 6,
    users_per_org: int = 6,
    portals: tuple[str, ...] = PORTALS,
    email_code_portals: tuple[str, ...] = (),
) -> World:
    """A world of the given sizes; ``users_per_org`` counts users besides the agent.

    The logins of ``email_code_portals`` sign in by a code the portal e-mails instead
    of a TOTP code (SPEC.md, Sign-in by an e-mailed code): logins a person finishes.
    The rest of the world is the same as without them.
    """
    if staff < 4:
        raise ValueError("a world needs at least 4 staff (managers, a leaver, others)")
    if orgs_per_portal < 1 or users_per_org < 1:
        raise ValueError("orgs_per_portal and users_per_org must be at least 1")
    unknown = set(portals) - set(PORTALS)
    if unknown:
        raise ValueError(f"unknown portals {sorted(unknown)}; known: {', '.join(PORTALS)}")
    not_generated = set(email_code_portals) - set(portals)
    if not_generated:
        raise ValueError(f"email_code_portals {sorted(not_generated)} are not among the portals")
    b = _Builder(seed, Sizes(staff, orgs_per_portal, users_per_org, tuple(portals)))
    rng = b.rng
    roster = b.staff()
    managers = [s for s in roster if s.practice_role in ("partner", "manager")]
    current = [s for s in roster if s.status != "left"]
    leavers = [s for s in roster if s.status == "left"]
    logins = b.logins()
    for login in logins:
        if login.portal in email_code_portals:
            login.mfa, login.totp_secret = MFA_EMAIL, ""
    clients: list[WorldClient] = []
    orgs: list[WorldOrg] = []
    grants: list[WorldGrant] = []
    truth: list[WorldTruth] = []
    client_no = 0

    for portal in portals:
        login = next(lg for lg in logins if lg.portal == portal)
        for k in range(orgs_per_portal):
            org_id = b.org_id(portal)
            name = f"{rng.choice(_PLACES)} {rng.choice(_BUSINESS)}"
            if k == 1:
                name = "Ōtautahi Café & Co <Ltd> = ✓"
            linked = k % 7 != 3  # roughly one org in seven links to no client
            client_id: str | None = None
            archived = False
            if linked:
                client_no += 1
                client_id = f"C{client_no:05d}"
                archived = k % 5 == 4
                manager = managers[client_no % len(managers)]
                clients.append(
                    WorldClient(
                        client_id=client_id,
                        name=name,
                        client_manager=manager.name,
                        partner=managers[0].name,
                        annual_fee=float(rng.randrange(1200, 48000, 50)),
                        archived=archived,
                        contact_email=f"office@{client_id.lower()}.client.example",
                        contact_name=(
                            f"{_CLIENT_GIVEN[client_no % len(_CLIENT_GIVEN)]} "
                            f"{_CONTACT_FAMILY[client_no % len(_CONTACT_FAMILY)]}"
                        ),
                    )
                )
            org = WorldOrg(
                portal=portal,
                org_id=org_id,
                name=name,
                users=[],
                client_id=client_id,
                serial_number=f"{rng.getrandbits(40):012d}",
            )
            org.users.append(_agent_user(b, portal, login))
            plan = _plan_org(rng, users_per_org, current, leavers)
            for intent, person in plan:
                if intent in ("personal", "leaver_personal"):
                    personal = _personal_user(b, portal, person)
                    org.users.append(personal)
                    truth.append(WorldTruth(portal, org_id, personal.email, "probable_match"))
                    continue
                user, grant_role, observed_role, intent = _staff_user(b, portal, person, intent)
                status_is_access = user.status not in ("DECLINED", "Inactive")
                if intent in ("managed", "drift", "leaver_granted", "missing"):
                    grants.append(_grant(person, portal, org_id, grant_role, intent))
                if intent == "missing":
                    truth.append(WorldTruth(portal, org_id, person.emails[0], "missing_expected"))
                    continue
                org.users.append(user)
                if not status_is_access:
                    continue
                if intent.startswith("leaver"):
                    cls = "leaver_access"
                elif intent == "direct":
                    cls = "invited_direct"
                elif intent == "drift" and observed_role != grant_role:
                    cls = "role_drift"
                elif not linked:
                    cls = "unlinked_org"
                elif archived:
                    cls = "archived_client_access"
                else:
                    cls = "managed"
                truth.append(WorldTruth(portal, org_id, user.email, cls))
            if rng.random() < 0.3 or k == 0:
                ghost = _ghost_user(b, portal)
                org.users.append(ghost)
                truth.append(WorldTruth(portal, org_id, ghost.email, "unknown_practice_user"))
            if rng.random() < 0.2 or k == 2:
                support = _support_user(b, portal)
                org.users.append(support)
                truth.append(WorldTruth(portal, org_id, support.email, "client_user"))
            if rng.random() < 0.2:
                other = _other_firm_user(b, portal)
                org.users.append(other)
                truth.append(WorldTruth(portal, org_id, other.email, "client_user"))
            while len(org.users) < users_per_org + 1:
                person_user = _client_user(b, portal, org)
                if portal == "qbo" and not any(u.role == "Primary admin" for u in org.users):
                    person_user.role = "Primary admin"  # who set the company up
                org.users.append(person_user)
                truth.append(WorldTruth(portal, org_id, person_user.email, "client_user"))
            orgs.append(org)

    truth = vary_rights(seed, orgs, logins, truth, [b.domain])
    return World(
        seed=seed,
        practice_name="Harbour & Co Accountants",
        practice_domains=[b.domain],
        staff=roster,
        clients=clients,
        orgs=orgs,
        logins=logins,
        grants=grants,
        truth=truth,
    )


def _plan_org(
    rng: random.Random, users_per_org: int, current: list[WorldStaff], leavers: list[WorldStaff]
) -> list[tuple[str, WorldStaff]]:
    """Which staff appear in an org and as what; at most half the seats go to staff."""
    seats = max(1, users_per_org // 2)
    chosen = rng.sample(current, k=min(len(current), seats))
    plan: list[tuple[str, WorldStaff]] = []
    for person in chosen:
        roll = rng.random()
        intent = (
            "managed"
            if roll < 0.4
            else "direct"
            if roll < 0.62
            else "drift"
            if roll < 0.74
            else "missing"
            if roll < 0.84
            else "declined"
            if roll < 0.92
            else "personal"
        )
        plan.append((intent, person))
    if leavers and rng.random() < 0.6:
        leaver = rng.choice(leavers)
        roll = rng.random()
        plan.append(
            (
                "leaver_granted"
                if roll < 0.45
                else "leaver_direct"
                if roll < 0.85
                else "leaver_personal",
                leaver,
            )
        )
    return plan


def _grant(person: WorldStaff, portal: str, org_id: str, role: str, intent: str) -> WorldGrant:
    """The practice's record of a grant, written as practices write them.

    A granted access seen as granted is sometimes recorded under the person's personal
    alias with a plus-tag the roster does not have: it is still that person's grant
    (``managed``, the primary address not missing). Every other MYOB staff member's
    grant names only the Roles (``Administrator``, what the granted Online admin holds),
    not the user type: drift is then a difference in Roles only.
    """
    email = person.emails[0]
    if intent == "managed" and len(person.emails) > 1:
        email = person.emails[1].replace("@", "+access@")
    if portal == "myob" and int(person.staff_id[1:]) % 2 == 0:
        return WorldGrant(
            staff_email=email,
            portal=portal,
            org_id=org_id,
            role="",
            extra_permissions=["Administrator"],
        )
    return WorldGrant(staff_email=email, portal=portal, org_id=org_id, role=role)


def _staff_user(
    b: _Builder, portal: str, person: WorldStaff, intent: str
) -> tuple[WorldUser, str, str, str]:
    """The portal user for a staff member, the role granted, the role observed, the intent.

    The intent can change: MYOB has no declined state, so a declined invitation there
    becomes a pending direct invite.
    """
    rng = b.rng
    given, _, family = person.name.partition(" ")
    email = person.emails[0]
    if intent == "direct" and len(person.emails) > 1 and rng.random() < 0.5:
        email = person.emails[1]  # clients often invite the personal address on file
    elif rng.random() < 0.15:
        email = email.upper() if rng.random() < 0.5 else email.replace("@", "+ledger@")
    if intent == "leaver_direct" and len(person.emails) > 1:
        # the client reached the leaver on the personal alias on file, tag and all
        email = person.emails[1].replace("@", "+books@").title()
    if portal == "xero":
        grant_role = rng.choice(_XERO_STAFF_ROLES)
        observed = grant_role
        if intent == "drift":
            observed = next(r for r in _XERO_STAFF_ROLES if r != grant_role)
        status = "DECLINED" if intent == "declined" else "ACTIVE"
        if status == "ACTIVE" and rng.random() < 0.1:
            status = "PENDING"
        extras = ["MANAGE_USERS"] if observed == "FINANCIALADVISER" and rng.random() < 0.4 else []
        user = WorldUser(
            user_id=b.next_user_id(),
            first_name=given,
            last_name=family,
            email=email,
            role=observed,
            status=status,
            extra_permissions=extras,
            last_login_utc=_when(b),
            logins_this_week=rng.randint(0, 9),
        )
    elif portal == "qbo":
        granted = intent in ("managed", "drift", "leaver_granted")
        grant_role = "Accountant" if intent != "drift" else "Company admin"
        observed = "Accountant" if granted else rng.choice(_QBO_USER_TYPES[:3])
        if intent == "drift":
            observed = "Standard all access"
        status = "Inactive" if intent == "declined" else "Active"
        if status == "Active" and rng.random() < 0.1:
            status = "Invited"
        kind = "firms" if observed == "Accountant" else "users"
        user = WorldUser(
            user_id=b.next_user_id(),
            first_name=given,
            last_name=family,
            email=email,
            role=observed,
            status=status,
            kind=kind,
            firm_name="Harbour & Co Accountants" if kind == "firms" else None,
        )
    else:
        grant_role = "Online admin"
        observed = "File user" if intent == "drift" else "Online admin"
        invited = rng.random() < 0.1
        user = WorldUser(
            user_id=b.next_user_id(),
            first_name=given,
            last_name=family,
            email=email,
            role=observed,
            status="INVITED" if invited else "ACTIVE",
            kind="Advisor" if intent in ("managed", "drift", "leaver_granted") else "User",
            myob_roles=["Administrator"] if observed == "Online admin" else ["Invoicing"],
            invite_expires_at=(
                (datetime(2026, 11, 1, tzinfo=UTC) + timedelta(days=7)).isoformat()
                if invited
                else None
            ),
        )
        if intent == "declined":
            # MYOB has no declined state: an expired invitation is simply gone.
            user.status = "INVITED"
            user.invite_expires_at = None
            intent = "direct"
    return user, grant_role, observed, intent


def _personal_user(b: _Builder, portal: str, person: WorldStaff) -> WorldUser:
    """A staff member invited by the client on a private address the roster does not know.

    The name is as the client typed it: as on the roster, ``Surname, Given``, without
    diacritics, or as an initial and the surname.
    """
    rng = b.rng
    given, _, family = person.name.partition(" ")
    style = rng.choice(["plain", "surname_first", "ascii", "initial"])
    first, last = given, family
    if style == "surname_first":
        first, last = "", f"{family}, {given}"
    elif style == "ascii":
        first, last = _ascii(given), _ascii_name(family)
    elif style == "initial":
        first = f"{_ascii(given)[:1].upper()}."
    email = (
        f"{_ascii(given).lower()}{rng.randint(10, 99)}{b.next_user_id()[-3:]}"
        f"@{rng.choice(_PERSONAL_DOMAINS)}"
    )
    if rng.random() < 0.3:
        email = email.capitalize()
    pending = rng.random() < 0.15
    if portal == "xero":
        return WorldUser(
            user_id=b.next_user_id(),
            first_name=first,
            last_name=last,
            email=email,
            role="STANDARD",
            status="PENDING" if pending else "ACTIVE",
            last_login_utc=None if pending else _when(b),
        )
    if portal == "qbo":
        return WorldUser(
            user_id=b.next_user_id(),
            first_name=first,
            last_name=last,
            email=email,
            role="Standard all access",
            status="Invited" if pending else "Active",
            kind="users",
        )
    return WorldUser(
        user_id=b.next_user_id(),
        first_name=first,
        last_name=last,
        email=email,
        role="File user",
        status="INVITED" if pending else "ACTIVE",
        kind="User",
        myob_roles=["Invoicing", "Banking"],
        invite_expires_at=(
            (datetime(2026, 11, 1, tzinfo=UTC) + timedelta(days=5)).isoformat() if pending else None
        ),
    )


def _ascii_name(text: str) -> str:
    """A name as typed on a keyboard without accents, punctuation kept (D'Souza stays)."""
    decomposed = unicodedata.normalize("NFKD", text.replace("ł", "l").replace("Ł", "L"))
    return "".join(c for c in decomposed if c.isascii())


def _support_user(b: _Builder, portal: str) -> WorldUser:
    """The portal vendor's support staff, let in by the client."""
    first, last, email = _SUPPORT[portal]
    if portal == "xero":
        return WorldUser(
            user_id=b.next_user_id(),
            first_name=first,
            last_name=last,
            email=email,
            role="STANDARD",
            status="ACTIVE",
            last_login_utc=_when(b),
        )
    if portal == "qbo":
        return WorldUser(
            user_id=b.next_user_id(),
            first_name=first,
            last_name=last,
            email=email,
            role="Standard all access",
            status="Active",
            kind="users",
        )
    return WorldUser(
        user_id=b.next_user_id(),
        first_name=first,
        last_name=last,
        email=email,
        role="File user",
        status="ACTIVE",
        kind="User",
        myob_roles=["Read only"],
    )


def _other_firm_user(b: _Builder, portal: str) -> WorldUser:
    """An accountant of another firm the client also works with."""
    rng = b.rng
    given, family = rng.choice(_FIRM_GIVEN), rng.choice(_FIRM_FAMILY)
    email = f"{given.lower()}.{family.lower()}.{b.next_user_id()[-4:]}@otherfirm.example"
    if portal == "xero":
        return WorldUser(
            user_id=b.next_user_id(),
            first_name=given,
            last_name=family,
            email=email,
            role="FINANCIALADVISER",
            status="ACTIVE",
            last_login_utc=_when(b),
        )
    if portal == "qbo":
        return WorldUser(
            user_id=b.next_user_id(),
            first_name=given,
            last_name=family,
            email=email,
            role="Accountant",
            status="Active",
            kind="firms",
            firm_name=rng.choice(_FIRMS),
        )
    return WorldUser(
        user_id=b.next_user_id(),
        first_name=given,
        last_name=family,
        email=email,
        role="Online admin",
        status="ACTIVE",
        kind="Advisor",
        myob_roles=["Administrator"],
    )


def _agent_user(b: _Builder, portal: str, login: WorldLogin) -> WorldUser:
    """The agent's own row; ``sandbox.rights`` then sets its rights in the org."""
    user = WorldUser(
        user_id=b.next_user_id(),
        first_name=login.first_name,
        last_name=login.last_name,
        email=login.email,
        role="Online admin",
        status="ACTIVE",
    )
    if portal == "xero":
        user.role, user.extra_permissions = "FINANCIALADVISER", ["MANAGE_USERS"]
        user.last_login_utc = _when(b)
    elif portal == "qbo":
        user.role, user.status, user.kind = "Accountant", "Active", "firms"
        user.firm_name = "Harbour & Co Accountants"
    else:
        user.kind, user.myob_roles = "Advisor", ["Administrator"]
    return user


def _ghost_user(b: _Builder, portal: str) -> WorldUser:
    """A practice-domain address that no roster entry has: someone nobody accounts for."""
    n = b.next_user_id()
    email = f"temp.{n[-4:]}@{b.domain}"
    return _plain_user(b, portal, "Temp", f"Contractor {n[-4:]}", email)


def _client_user(b: _Builder, portal: str, org: WorldOrg) -> WorldUser:
    rng = b.rng
    if rng.random() < 0.08:
        given, family = rng.choice(_ODD_NAMES), ""
    else:
        given, family = rng.choice(_CLIENT_GIVEN), rng.choice(_CLIENT_FAMILY)
    n = b.next_user_id()
    email = f"{_ascii(given).lower() or 'owner'}.{n[-5:]}@client{org.org_id[-4:].lower()}.example"
    return _plain_user(b, portal, given, family, email)


def _plain_user(b: _Builder, portal: str, given: str, family: str, email: str) -> WorldUser:
    rng = b.rng
    if portal == "xero":
        return WorldUser(
            user_id=b.next_user_id(),
            first_name=given,
            last_name=family,
            email=email,
            role=rng.choice(_XERO_CLIENT_ROLES),
            status="ACTIVE",
            last_login_utc=_when(b),
            logins_this_week=rng.randint(0, 20),
            is_subscriber=rng.random() < 0.1,
        )
    if portal == "qbo":
        return WorldUser(
            user_id=b.next_user_id(),
            first_name=given,
            last_name=family,
            email=email,
            role=rng.choice(_QBO_USER_TYPES),
            status="Active",
            kind="users",
        )
    return WorldUser(
        user_id=b.next_user_id(),
        first_name=given,
        last_name=family,
        email=email,
        role="File user",
        status="ACTIVE",
        kind="User",
        myob_roles=rng.sample(_MYOB_ROLES[1:], k=2),
    )


def _when(b: _Builder) -> str | None:
    if b.rng.random() < 0.1:
        return None
    moment = datetime(2026, 11, 1, tzinfo=UTC) - timedelta(minutes=b.rng.randint(5, 90_000))
    return moment.isoformat().replace("+00:00", "Z")


# -- files -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WorldFiles:
    world: Path
    staff: Path
    clients: Path
    access: Path
    truth: Path


def write_world(world: World, directory: Path) -> WorldFiles:
    """Save the portals' data, the practice's import files and the ground truth."""
    directory.mkdir(parents=True, exist_ok=True)
    files = WorldFiles(
        world=directory / "world.json",
        staff=directory / "staff.csv",
        clients=directory / "clients.csv",
        access=directory / "access.csv",
        truth=directory / "truth.csv",
    )
    world.save(files.world)
    links: dict[str, list[str]] = {}
    for org in world.orgs:
        if org.client_id:
            links.setdefault(org.client_id, []).append(f"{org.portal}:{org.org_id}")
    _write_csv(
        files.staff,
        ["name", "emails", "status", "left_on", "practice_role"],
        (
            [
                s.name,
                "; ".join(s.emails),
                s.status.replace("_", " "),
                s.left_on or "",
                s.practice_role,
            ]
            for s in world.staff
        ),
    )
    _write_csv(
        files.clients,
        [
            "client_id",
            "name",
            "client_manager",
            "job_manager",
            "partner",
            "annual_fee",
            "archived",
            "contact_email",
            "linked_orgs",
            "contact_name",
        ],
        (
            [
                c.client_id,
                c.name,
                c.client_manager,
                c.client_manager,
                c.partner,
                f"{c.annual_fee:.2f}",
                "yes" if c.archived else "no",
                c.contact_email,
                "; ".join(links.get(c.client_id, [])),
                c.contact_name,
            ]
            for c in world.clients
        ),
    )
    _write_csv(
        files.access,
        ["staff_email", "portal", "org_id", "role", "extra_permissions"],
        (
            [g.staff_email, g.portal, g.org_id, g.role, "; ".join(g.extra_permissions)]
            for g in world.grants
        ),
    )
    _write_csv(
        files.truth,
        ["portal", "org_id", "email", "finding_class", "removable_by", "removable_reason"],
        (
            [t.portal, t.org_id, t.email, t.finding_class, t.removable_by, t.removable_reason]
            for t in world.truth
        ),
    )
    return files


def _write_csv(path: Path, header: list[str], rows: object) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)  # type: ignore[arg-type]
