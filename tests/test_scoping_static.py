"""The third wall, checked statically: every query of a tenant model says ``for_org``.

Walks the project's own Python source (not tests, not migrations) and flags:

- ``<TenantModel>.objects.<anything but for_org>`` (``Membership.objects.for_user`` too),
  including a bare ``<TenantModel>.objects`` handed around, except lexically inside a
  ``with cross_tenant_system_context():`` block (which is itself allowlisted by file);
- ``.objects.raw(`` on any model, ``_base_manager`` anywhere, and the manager internals
  ``_unchecked`` outside the tenancy core;
- the escape hatch ``cross_tenant_system_context`` outside the files allowed to use it.

Each allowlist entry carries the reason it is safe. The tenant models come from
``alignment.rls.tenant_models()``, so a new model is covered the day it lands.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

from alignment.rls import tenant_models

ROOT = Path(__file__).resolve().parent.parent
SOURCE_DIRS = ["alignment", "feedback", "roadmap", "cadences", "metrics", "integrations"]
SKIP_PARTS = {"migrations", "tests", "__pycache__"}

# ``none()`` returns no rows whatever the organization (form fields start with it).
ALLOWED_METHODS: dict[str, set[str]] = {
    "*": {"for_org", "none"},
    "Membership": {"for_org", "for_user", "none"},
}

# file -> reason: who may use the named escape hatch at all.
CROSS_TENANT_ALLOWLIST: dict[str, str] = {
    "alignment/tenancy.py": "defines the escape hatch",
    "alignment/services/notifications.py": "the reconciler re-enqueues pending emails of "
    "every organization (a system sweep, no request can reach it)",
    "integrations/delivery.py": "the webhook sweep reads (organization id, delivery id) of "
    "due deliveries across organizations; each attempt then runs in tenant_context (beat only)",
    "feedback/sla_sweep.py": "the SLA sweep reads the ids of due items across organizations "
    "from its partial indexes, then works on each inside tenant_context (Celery beat only)",
    "integrations/api/auth.py": "API key authentication reads one ApiKey row by its unique "
    "public prefix before the organization is known (the key names it); the secret is checked "
    "in constant time and the rest of the request runs inside tenant_context(key.organization)",
    "feedback/purge.py": "the quarterly backlog purge lists organization ids once, then purges "
    "each organization inside tenant_context (Celery beat only; the page runs one org)",
    "roadmap/escalation_sweep.py": "the escalation breach sweep reads the ids of due escalations "
    "across organizations from its partial index, then works on each inside tenant_context "
    "(Celery beat only)",
    "roadmap/briefing.py": "the monthly roadmap briefing lists organization ids once, then "
    "builds and sends each organization's briefing inside tenant_context (Celery beat only)",
    "integrations/api/idempotency.py": "the hourly purge lists the ids of organizations with "
    "expired idempotency records, then deletes each one's rows inside tenant_context (Celery "
    "beat only; requests use tenant_context throughout)",
}

# file -> reason: the manager internals that skip the organization check.
UNCHECKED_ALLOWLIST: dict[str, str] = {
    "alignment/tenancy.py": "TenantManager itself: for_org and the scoped get_queryset",
    "alignment/models.py": "MembershipManager.for_user, which PostgreSQL limits to "
    "app.current_user",
}

# (file, line) -> reason: individual unscoped queries that are fine. Keep it empty.
QUERY_ALLOWLIST: dict[tuple[str, int], str] = {}


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


def tenant_model_names() -> set[str]:
    return {model.__name__ for model in tenant_models()}


def _model_name(node: ast.expr, aliases: dict[str, str]) -> str | None:
    """'Account' for ``Account`` / ``models.Account`` / an alias of it, else None."""
    if isinstance(node, ast.Name):
        return aliases.get(node.id)
    if isinstance(node, ast.Attribute):
        return aliases.get(node.attr)
    return None


def check_source(path: str, source: str, tenant_names: set[str]) -> list[Finding]:
    tree = ast.parse(source, filename=path)
    aliases = {name: name for name in tenant_names}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if alias.name in tenant_names and alias.asname:
                    aliases[alias.asname] = alias.name
    parents: dict[ast.AST, ast.AST] = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[child] = node

    def in_cross_tenant_block(node: ast.AST) -> bool:
        while node in parents:
            node = parents[node]
            if isinstance(node, ast.With | ast.AsyncWith):
                for item in node.items:
                    call = item.context_expr
                    if isinstance(call, ast.Call):
                        func = call.func
                        name = func.attr if isinstance(func, ast.Attribute) else None
                        name = func.id if isinstance(func, ast.Name) else name
                        if name == "cross_tenant_system_context":
                            return True
        return False

    findings: list[Finding] = []

    def flag(node: ast.AST, message: str) -> None:
        line = getattr(node, "lineno", 0)
        if (path, line) not in QUERY_ALLOWLIST:
            findings.append(Finding(path, line, message))

    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            if node.attr == "objects":
                parent = parents.get(node)
                method = parent.attr if isinstance(parent, ast.Attribute) else None
                if method == "raw":
                    flag(node, "raw SQL through .objects.raw() skips the organization scope")
                model = _model_name(node.value, aliases)
                if model is not None and not in_cross_tenant_block(node):
                    allowed = ALLOWED_METHODS.get(model, ALLOWED_METHODS["*"])
                    if method not in allowed:
                        shown = f".{method}" if method else ""
                        flag(
                            node,
                            f"{model}.objects{shown} is not scoped: "
                            f"use {model}.objects.for_org(org)",
                        )
            elif node.attr == "_base_manager":
                flag(node, "_base_manager bypasses the tenant manager")
            elif node.attr == "_unchecked" and path not in UNCHECKED_ALLOWLIST:
                flag(node, "_unchecked() is the tenant manager's internal, unscoped queryset")
        name = None
        if isinstance(node, ast.Name):
            name = node.id
        elif isinstance(node, ast.Attribute):
            name = node.attr
        elif isinstance(node, ast.alias):
            name = node.asname or node.name
        if name == "cross_tenant_system_context" and path not in CROSS_TENANT_ALLOWLIST:
            flag(node, "cross_tenant_system_context outside CROSS_TENANT_ALLOWLIST")
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if (
                    alias.name == "cross_tenant_system_context"
                    and path not in CROSS_TENANT_ALLOWLIST
                ):
                    flag(node, "imports cross_tenant_system_context (not in the allowlist)")
    return findings


def project_files() -> list[Path]:
    files = []
    for folder in SOURCE_DIRS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if SKIP_PARTS.isdisjoint(path.relative_to(ROOT).parts):
                files.append(path)
    return files


def test_no_tenant_model_is_queried_without_its_organization():
    names = tenant_model_names()
    findings: list[Finding] = []
    for path in project_files():
        relative = path.relative_to(ROOT).as_posix()
        findings += check_source(relative, path.read_text(encoding="utf-8"), names)
    assert not findings, "unscoped tenant queries:\n" + "\n".join(map(str, findings))


def test_the_walk_reads_the_project_source():
    files = {p.relative_to(ROOT).as_posix() for p in project_files()}
    assert "alignment/services/notifications.py" in files
    assert not any("/migrations/" in f for f in files)


def test_every_allowlisted_file_exists_and_says_why():
    for allowlist in (CROSS_TENANT_ALLOWLIST, UNCHECKED_ALLOWLIST):
        for path, reason in allowlist.items():
            assert (ROOT / path).exists(), f"{path} is allowlisted but gone: remove it"
            assert reason.strip()
    assert all(reason.strip() for reason in QUERY_ALLOWLIST.values())


# --- the checker catches what it should ------------------------------------------------------

NAMES = {"Account", "Membership"}


@pytest.mark.parametrize(
    "code",
    [
        "Account.objects.filter(pk=1)",
        "Account.objects.all()",
        "Account.objects.get(pk=1)",
        "qs = Account.objects",
        "Membership.objects.filter(user=u)",
        "from alignment.models import Account as A\nA.objects.count()",
        "from alignment import models\nmodels.Account.objects.create(name='x')",
        "User.objects.raw('select * from alignment_account')",
        "Account._base_manager.all()",
        "Account.objects._unchecked()",
        "from alignment.tenancy import cross_tenant_system_context",
        "with tenancy.cross_tenant_system_context():\n    pass",
    ],
)
def test_the_checker_flags_unscoped_queries(code):
    assert check_source("feedback/services.py", code, NAMES)


@pytest.mark.parametrize(
    "code",
    [
        "Account.objects.for_org(org).filter(pk=1)",
        "Membership.objects.for_user(user_id)",
        "User.objects.filter(email=e)",
        "Organization.objects.get(slug=s)",
        "with cross_tenant_system_context():\n    Account.objects.count()",
    ],
)
def test_the_checker_accepts_scoped_queries(code):
    assert check_source("alignment/services/notifications.py", code, NAMES) == []


def test_an_unscoped_query_after_the_escape_hatch_block_is_still_flagged():
    code = "with cross_tenant_system_context():\n    pass\nAccount.objects.count()\n"
    assert check_source("alignment/services/notifications.py", code, NAMES)
