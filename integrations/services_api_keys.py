"""Organization API keys: created and revoked by admins in the browser.

A key is ``seam_<prefix>_<secret>``. The prefix is public (shown in the list, used to find
the key); the secret is shown once, on the page that creates the key, and only its SHA-256
is stored, so a leaked database or backup holds no usable key. A key acts only inside its
organization and only with its scopes. Creating and revoking are audited.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from alignment.errors import ApplicationError
from alignment.models import Membership, Organization
from alignment.permissions import Perm, role_has_perm
from alignment.services.audit import audit_record
from integrations.api.scopes import ALL_SCOPES, scopes_normalize
from integrations.models import ApiKey

KEY_PREFIX = "seam_"
PREFIX_LENGTH = 10
# Letters and digits only, so the prefix never contains the "_" that separates it from the
# secret.
_PREFIX_ALPHABET = string.ascii_letters + string.digits
MIN_RATE_LIMIT = 10
MAX_RATE_LIMIT = 10_000


@dataclass(frozen=True)
class NewApiKey:
    key: ApiKey
    token: str  # the full key: shown once, never stored


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def split_token(token: str) -> tuple[str, str] | None:
    """``seam_<prefix>_<secret>`` to ``(prefix, secret)``; None if it cannot be a key."""
    if not token.startswith(KEY_PREFIX):
        return None
    prefix, sep, secret = token[len(KEY_PREFIX) :].partition("_")
    if not sep or not 8 <= len(prefix) <= 12 or not secret or len(secret) > 200:
        return None
    if any(ch not in _PREFIX_ALPHABET for ch in prefix):
        return None
    return prefix, secret


def secret_matches(key: ApiKey, secret: str) -> bool:
    # Constant-time comparison: the time taken says nothing about how much of it matched.
    return hmac.compare_digest(key.key_hash, hash_secret(secret))


def _check_manager(org: Organization, actor: Membership) -> None:
    if (
        actor.organization_id != org.pk
        or not actor.is_active
        or not role_has_perm(actor.role, Perm.API_KEYS_MANAGE)
    ):
        raise ApplicationError("Only an admin can manage API keys.", code="permission_denied")


def api_key_create(
    *,
    org: Organization,
    actor: Membership,
    name: str,
    scopes: list[str],
    rate_limit_per_minute: int = 600,
) -> NewApiKey:
    """Create a key and return it with its full token, which the caller shows exactly once."""
    _check_manager(org, actor)
    name = (name or "").strip()
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = ["Name the key after what uses it, e.g. “Salesforce sync”."]
    elif len(name) > 100:
        errors["name"] = ["The name can be at most 100 characters."]
    unknown = sorted(set(scopes) - set(ALL_SCOPES))
    if unknown:
        errors["scopes"] = [f"Unknown scope: {', '.join(unknown)}."]
    elif not scopes:
        errors["scopes"] = ["Choose at least one thing this key may do."]
    if not MIN_RATE_LIMIT <= rate_limit_per_minute <= MAX_RATE_LIMIT:
        errors["rate_limit_per_minute"] = [
            f"Choose between {MIN_RATE_LIMIT} and {MAX_RATE_LIMIT:,} requests a minute."
        ]
    if errors:
        raise ApplicationError("Please correct the highlighted fields.", field_errors=errors)
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        # The prefix is unique across all organizations; a collision (one in ~10^17) just
        # draws again.
        for _ in range(5):
            prefix = "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(PREFIX_LENGTH))
            try:
                with transaction.atomic():
                    key = ApiKey.objects.for_org(org).create(
                        organization=org,
                        name=name,
                        prefix=prefix,
                        key_hash=hash_secret(secret),
                        scopes=scopes_normalize(scopes),
                        rate_limit_per_minute=rate_limit_per_minute,
                        created_by=actor,
                    )
                break
            except IntegrityError:
                continue
        else:  # pragma: no cover - five collisions in a row do not happen
            raise ApplicationError("The key could not be created; try again.")
        audit_record(
            org=org,
            actor=actor.user,
            action="api_key.created",
            target=key,
            changes={
                "name": key.name,
                "prefix": key.prefix,
                "scopes": key.scopes,
                "rate_limit_per_minute": key.rate_limit_per_minute,
            },
        )
    return NewApiKey(key=key, token=f"{KEY_PREFIX}{prefix}_{secret}")


def api_key_revoke(*, org: Organization, actor: Membership, key: ApiKey) -> ApiKey:
    """Revoke a key: from this moment every request with it is refused (401)."""
    _check_manager(org, actor)
    with transaction.atomic():
        current = ApiKey.objects.for_org(org).select_for_update().get(pk=key.pk)
        if current.revoked_at is not None:
            raise ApplicationError("This key was already revoked.", code="invalid")
        current.revoked_at = timezone.now()
        current.revoked_by = actor
        current.save(update_fields=["revoked_at", "revoked_by"])
        audit_record(
            org=org,
            actor=actor.user,
            action="api_key.revoked",
            target=current,
            changes={"name": current.name, "prefix": current.prefix},
        )
    return current
