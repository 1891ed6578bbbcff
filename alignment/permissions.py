"""The permission matrix: which role may do what, in one place.

Browser views declare the permission they need (``@org_view(Perm.X)``); the API's base
viewset reads the same matrix. Object-level rules (a CSM edits only the accounts they own)
live in the services that perform the change.
"""

from enum import StrEnum

from alignment.models import Role


class Perm(StrEnum):
    VIEW = "view"  # see the organization's workspace at all
    ACCOUNT_EDIT = "account.edit"  # create and edit accounts (CSMs: only their own)
    ACCOUNT_EDIT_ANY = "account.edit_any"  # edit any account, reassign CSMs
    ACCOUNT_IMPORT = "account.import"
    PRODUCT_AREA_EDIT = "product_area.edit"
    MEMBER_VIEW = "member.view"
    MEMBER_MANAGE = "member.manage"  # invite, change roles, deactivate
    ORG_SETTINGS = "org.settings"
    AUDIT_VIEW = "audit.view"
    OVERVIEW_VIEW = "overview.view"
    FEEDBACK_TRIAGE = "feedback.triage"  # put feedback into themes, set theme statuses, merge


_EVERYONE = {Perm.VIEW, Perm.MEMBER_VIEW}
_LEADERS = {Perm.OVERVIEW_VIEW}

MATRIX: dict[str, frozenset[Perm]] = {
    Role.CSM: frozenset(_EVERYONE | {Perm.ACCOUNT_EDIT}),
    Role.PM: frozenset(_EVERYONE | {Perm.FEEDBACK_TRIAGE}),
    Role.PMM: frozenset(_EVERYONE),
    Role.SUPPORT: frozenset(_EVERYONE),
    Role.VP_CS: frozenset(
        _EVERYONE | _LEADERS | {Perm.ACCOUNT_EDIT, Perm.ACCOUNT_EDIT_ANY, Perm.ACCOUNT_IMPORT}
    ),
    Role.HEAD_OF_PRODUCT: frozenset(
        _EVERYONE | _LEADERS | {Perm.PRODUCT_AREA_EDIT, Perm.FEEDBACK_TRIAGE}
    ),
    Role.CS_OPS: frozenset(
        _EVERYONE
        | _LEADERS
        | {Perm.ACCOUNT_EDIT, Perm.ACCOUNT_EDIT_ANY, Perm.ACCOUNT_IMPORT, Perm.PRODUCT_AREA_EDIT}
    ),
    Role.ADMIN: frozenset(Perm),
}


def role_has_perm(role: str, perm: Perm) -> bool:
    return perm in MATRIX.get(role, frozenset())
