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
    FEEDBACK_IMPORT = "feedback.import"  # CSV import of historical feedback
    BACKLOG_PURGE = "feedback.purge"  # run the backlog purge by hand, restore archived items
    ROADMAP_EDIT = "roadmap.edit"  # create and edit roadmap items, change tiers, sign off
    ROADMAP_VIEW_INTERNAL = "roadmap.view_internal"  # internal items and planned quarters
    COMMITMENT_REQUEST = "commitment.request"  # ask to promise something to one account
    COMMITMENT_DECIDE = "commitment.decide"  # approve or decline (the owning PM, or HoP)
    RELEASE_MANAGE = "release.manage"  # releases, CS briefs, shipping
    ESCALATION_RAISE = "escalation.raise"
    ESCALATION_MANAGE = "escalation.manage"  # override severity, move through statuses
    BETA_MANAGE = "beta.manage"  # beta programs, participants, retrospectives
    API_KEYS_MANAGE = "integrations.api_keys"
    WEBHOOKS_MANAGE = "integrations.webhooks"


_EVERYONE = {Perm.VIEW, Perm.MEMBER_VIEW}
_LEADERS = {Perm.OVERVIEW_VIEW}

# Product people see the whole roadmap and run it; CS people see what they may repeat.
_PRODUCT = {
    Perm.FEEDBACK_TRIAGE,
    Perm.ROADMAP_EDIT,
    Perm.ROADMAP_VIEW_INTERNAL,
    Perm.COMMITMENT_DECIDE,
    Perm.RELEASE_MANAGE,
    Perm.ESCALATION_MANAGE,
    Perm.BETA_MANAGE,
}
_CS = {Perm.ACCOUNT_EDIT, Perm.COMMITMENT_REQUEST, Perm.ESCALATION_RAISE}

MATRIX: dict[str, frozenset[Perm]] = {
    Role.CSM: frozenset(_EVERYONE | _CS),
    Role.PM: frozenset(_EVERYONE | _PRODUCT),
    Role.PMM: frozenset(_EVERYONE | {Perm.ROADMAP_VIEW_INTERNAL, Perm.RELEASE_MANAGE}),
    Role.SUPPORT: frozenset(_EVERYONE | {Perm.ESCALATION_RAISE}),
    Role.VP_CS: frozenset(
        _EVERYONE
        | _LEADERS
        | _CS
        | {Perm.ACCOUNT_EDIT_ANY, Perm.ACCOUNT_IMPORT, Perm.FEEDBACK_IMPORT, Perm.BETA_MANAGE}
    ),
    Role.HEAD_OF_PRODUCT: frozenset(
        _EVERYONE | _LEADERS | _PRODUCT | {Perm.PRODUCT_AREA_EDIT, Perm.BACKLOG_PURGE}
    ),
    Role.CS_OPS: frozenset(
        _EVERYONE
        | _LEADERS
        | {
            Perm.ACCOUNT_EDIT,
            Perm.ACCOUNT_EDIT_ANY,
            Perm.ACCOUNT_IMPORT,
            Perm.FEEDBACK_IMPORT,
            Perm.PRODUCT_AREA_EDIT,
            Perm.ESCALATION_RAISE,
            Perm.BETA_MANAGE,
        }
    ),
    Role.ADMIN: frozenset(Perm),
}


def role_has_perm(role: str, perm: Perm) -> bool:
    return perm in MATRIX.get(role, frozenset())
