"""What a recipe may say: the schema of a portal's knowledge, kept as data.

Real portals change their pages without notice. Everything a scraper knows about a
portal (where its pages are, the labels and buttons of its sign-in, the headers of
its tables, the keys of its JSON and what their values mean, the sentences that
prove an org's list is complete or that the login may not see it) lives in a TOML
file per portal (``agent/scrapers/recipes/``), read through this schema. The code
keeps only the mechanics, shared by every portal: read JSON with the session
(``json_reader``), read role-located tables or item lists across pages
(``page_reader``), walk the sign-in forms (``signin``). A changed portal is then
fixed by changing data: a practice can put a recipe in its override directory
(``recipes``) and the next crawl reads with it, no release needed.

The schema is strict: an unknown key, a missing one, a wrong type or a reader that
cannot work (a page list with both a table and items, a path without ``{org}``) is
refused when the recipe is loaded, with the file, the key and the reason, before a
single request is sent.

Paths are the portal's own, relative to a login's base URL. ``{org}`` stands for the
org's id (quoted for a URL), ``{page}`` for a page number counted from 1 and
``{user}`` for the portal's id of a user (``address`` fills them in). JSON keys may be
dotted (``data.users``) to reach into nested objects.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Annotated, Literal
from urllib.parse import quote

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from agent.domain import AccessStatus, Portal

#: a recipe's version: numbers and dots, then optionally a tag (``2026.12.1``, ``3-local``)
_VERSION = r"^[0-9]+(\.[0-9]+)*([-+][A-Za-z0-9.]+)?$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)


def _needs(path: str, *names: str) -> str:
    for name in names:
        if "{" + name + "}" not in path:
            raise ValueError(f"must contain {{{name}}}")
    return path


def _relative(path: str) -> str:
    if not path.startswith("/"):
        raise ValueError("must start with / (a path on the portal)")
    return path


Text = Annotated[str, Field(min_length=1)]
#: a path on the portal
PortalPath = Annotated[str, AfterValidator(_relative)]
#: a path on the portal naming an org
OrgPath = Annotated[str, AfterValidator(lambda v: _needs(_relative(v), "org"))]
#: a path on the portal naming an org and a page
OrgPagePath = Annotated[str, AfterValidator(lambda v: _needs(_relative(v), "org", "page"))]
#: a range text: where its numbers are
RangeText = Annotated[str, AfterValidator(lambda v: _needs(v, "first", "last", "total"))]


class SignIn(_Strict):
    """The sign-in pages, by their labels, buttons and sentences (``signin``)."""

    path: PortalPath
    email_label: Text
    password_label: Text
    password_button: Text
    wrong_password: Text
    code_label: Text
    code_button: Text
    wrong_code: Text
    #: where a signed-in login lands: a fragment of its URL
    landing: Text
    #: identifier-first portals ask for the email on a page of its own, with this button
    identifier_button: str | None = None


class Session(_Strict):
    """A request that a signed-in session passes and an expired one does not."""

    path: PortalPath
    #: whether the page answers JSON (an expired session: 401) or HTML (a redirect)
    json_: bool = Field(alias="json")


class JsonOrgs(_Strict):
    """The org list as one JSON answer: a list of objects with an id and a name."""

    read: Literal["json"]
    path: PortalPath
    rows: Text
    id: Text
    name: Text
    role: str | None = None


class TableOrgs(_Strict):
    """The org list as a table found by its headers, each row linking to one org, paged
    by a link named ``next_link``."""

    read: Literal["table"]
    path: PortalPath
    headers: Annotated[list[str], Field(min_length=1)]
    #: the column whose link (or text) names the org
    name_column: Text
    #: where each org links, ``{org}`` for its id
    link: OrgPath
    next_link: Text = "Next"
    max_pages: Annotated[int, Field(ge=1)] = 2000

    @model_validator(mode="after")
    def _name_is_a_header(self) -> TableOrgs:
        if self.name_column not in self.headers:
            raise ValueError(f"name_column {self.name_column!r} is not one of headers")
        return self


class LinkOrgs(_Strict):
    """The org list as links on one page, each to one org and named by it."""

    read: Literal["links"]
    path: PortalPath
    link: OrgPath


Orgs = Annotated[JsonOrgs | TableOrgs | LinkOrgs, Field(discriminator="read")]

#: the fields every user list must give
REQUIRED_FIELDS = ("email", "name", "role", "status")
#: the fields of a user a recipe can fill (``agent.capture.PortalUser``)
UserField = Literal[
    "email",
    "name",
    "role",
    "status",
    "extra_permissions",
    "last_login",
    "kind",
    "portal_user_id",
    "subscriber",
    "firm",
    "added_by_owner",
]


class JsonUsers(_Strict):
    """An org's users as JSON: a list, the portal's own count, paged when the path has
    ``{page}`` (until the items add up to the count)."""

    read: Literal["json"]
    path: OrgPath
    rows: Text
    total: Text
    #: the key that echoes the page number, checked when present
    page: str | None = None
    #: each field's key; ``name`` may be a list of keys joined by a space
    fields: dict[UserField, str | list[str]]
    #: fields whose keys may be missing (the field is then unknown), by field name
    optional: list[UserField] = []
    max_pages: Annotated[int, Field(ge=1)] = 1000

    @model_validator(mode="after")
    def _fields_complete(self) -> JsonUsers:
        _check_fields(list(self.fields), [])
        for name in self.optional:
            if name not in self.fields:
                raise ValueError(f"optional names {name!r}, which fields does not give")
        return self


class PageList(_Strict):
    """One list of users on paged HTML pages (a qbo tab): a table found by its
    headers, or items found by a CSS selector; the ``{a}-{b} of {N}`` text under it
    is the evidence every row was read, ``empty_text`` the only way to none."""

    name: Text
    path: OrgPagePath
    #: a table (by role) having every one of these headers, or ...
    table: list[str] | None = None
    #: ... items, each one user's element, by CSS selector
    items: str | None = None
    #: each field's column header (a table) or CSS selector within the item (items)
    columns: dict[UserField, str]
    #: fields with one value for every user of this list (``role = "Accountant"``)
    constants: dict[UserField, str] = {}
    empty_text: Text
    #: the range text, ``{first}``, ``{last}`` and ``{total}`` standing for numbers
    range: RangeText = "{first}-{last} of {total}"
    #: a table's column holding a link to ``id_link`` (the user's id is its ``{user}``)
    id_column: str | None = None
    id_link: str | None = None
    #: an item's attribute holding the user's id
    id_attribute: str | None = None

    @model_validator(mode="after")
    def _one_way_to_find(self) -> PageList:
        if (self.table is None) == (self.items is None):
            raise ValueError("give exactly one of table (headers) or items (a CSS selector)")
        _check_fields(list(self.columns), list(self.constants))
        if self.table is not None:
            missing = [h for h in self.columns.values() if h not in self.table]
            if missing:
                raise ValueError(f"columns name headers the table does not list: {missing}")
        if self.id_link is not None:
            _needs(_relative(self.id_link), "org", "user")
            if self.table is not None and self.id_column is None:
                raise ValueError("id_link needs id_column (the column holding the link)")
        if self.id_attribute is not None and self.items is None:
            raise ValueError("id_attribute is for items; a table gives ids by id_link")
        return self


class PageUsers(_Strict):
    read: Literal["pages"]
    lists: Annotated[list[PageList], Field(min_length=1)]
    max_pages: Annotated[int, Field(ge=1)] = 2000

    @model_validator(mode="after")
    def _names_distinct(self) -> PageUsers:
        names = [part.name for part in self.lists]
        if len(set(names)) != len(names):
            raise ValueError(f"two lists share a name: {names}")
        return self


Users = Annotated[JsonUsers | PageUsers, Field(discriminator="read")]


class TokenRemoval(_Strict):
    """Removal as a JSON portal's page does it: a request carrying the session's CSRF
    token (read from the ``<meta name=token_meta>`` of ``token_page``) in a header."""

    send: Literal["token"]
    token_page: OrgPath
    token_meta: Text
    token_header: Text
    method: Literal["POST", "DELETE", "PUT", "PATCH"]
    path: OrgPath
    #: the statuses that mean the user was removed
    removed: Annotated[list[int], Field(min_length=1)]

    @model_validator(mode="after")
    def _names_the_user(self) -> TokenRemoval:
        _needs(self.path, "user")
        return self


class FormRemoval(_Strict):
    """Removal as a server-rendered portal does it: the user's delete page holds a form
    with the session's token in ``token_field``; posting it redirects back to a page
    whose path holds ``back_to`` when the user was removed."""

    send: Literal["form"]
    form_page: OrgPath
    token_field: Text
    back_to: Text

    @model_validator(mode="after")
    def _names_the_user(self) -> FormRemoval:
        _needs(self.form_page, "user")
        return self


Removal = Annotated[TokenRemoval | FormRemoval, Field(discriminator="send")]


class Values(_Strict):
    """What the portal's values mean; keys are matched without regard to case."""

    status: Annotated[dict[str, AccessStatus], Field(min_length=1)]
    added_by_owner: dict[str, bool] = {}


class Texts(_Strict):
    """Sentences the portal's pages say."""

    no_permission: Text


class Recipe(_Strict):
    """One portal's knowledge."""

    portal: Portal
    version: Annotated[str, Field(pattern=_VERSION)]
    description: str = ""
    sign_in: SignIn
    session: Session
    orgs: Orgs
    users: Users
    removal: Removal
    values: Values
    texts: Texts

    @property
    def label(self) -> str:
        """``xero@2026.12.1``: what a scan records of the recipe that read it."""
        return f"{self.portal}@{self.version}"


def _check_fields(fields: Collection[str], constants: Collection[str]) -> None:
    given = set(fields) | set(constants)
    missing = [name for name in REQUIRED_FIELDS if name not in given]
    if missing:
        raise ValueError(f"fields must give {', '.join(missing)}")
    both = sorted(set(fields) & set(constants))
    if both:
        raise ValueError(f"given both as a field and as a constant: {', '.join(both)}")


def range_pattern(template: str) -> re.Pattern[str]:
    """The regular expression of a range text template: numbers where it has
    ``{first}``, ``{last}`` and ``{total}``, the rest literal."""
    parts = re.split(r"(\{first\}|\{last\}|\{total\})", template)
    body = "".join(
        rf"(?P<{p[1:-1]}>\d+)" if p in ("{first}", "{last}", "{total}") else re.escape(p)
        for p in parts
    )
    return re.compile(rf"(?<![\d-]){body}(?!\d)")


def address(
    base_url: str, path: str, *, org: str, page: int | None = None, user: str | None = None
) -> str:
    """A recipe's path made an address: the org's and the user's ids quoted for a URL,
    the page number filled in."""
    filled = path.replace("{org}", quote(org, safe=""))
    if page is not None:
        filled = filled.replace("{page}", str(page))
    if user is not None:
        filled = filled.replace("{user}", quote(user, safe=""))
    return f"{base_url}{filled}"
