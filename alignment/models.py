"""The tenancy core: users, organizations, memberships, accounts, product areas, and the
plumbing every app shares (audit events, notifications, imports, invitations, sessions)."""

from __future__ import annotations

import hashlib
import zoneinfo
from decimal import Decimal

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.contrib.sessions.base_session import AbstractBaseSession
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from alignment.tenancy import TenantManager, TenantModel

# --- Users (global: one person, possibly in several organizations) -------------------------


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: object) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: object) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=150, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.full_name or self.email

    def get_full_name(self) -> str:
        return self.display_name

    def get_short_name(self) -> str:
        return (self.full_name.split(" ")[0] if self.full_name else "") or self.email


class UserSession(AbstractBaseSession):
    """A database session that knows its user, so ending a person's sessions is one query."""

    user_id = models.BigIntegerField(null=True, db_index=True)

    @classmethod
    def get_session_store_class(cls):  # type: ignore[no-untyped-def]
        from alignment.sessions import SessionStore

        return SessionStore


# --- Organization (the tenant) -------------------------------------------------------------


def _timezone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(zoneinfo.available_timezones())]


class Organization(models.Model):
    """The tenant. Not itself tenant-owned: every other table points here."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60, unique=True)
    timezone = models.CharField(max_length=64, default="UTC")
    holiday_country = models.CharField(
        max_length=8,
        default="US",
        help_text="ISO country code whose public holidays pause SLA clocks.",
    )
    currency = models.CharField(max_length=3, default="USD")
    triage_sla_days = models.PositiveSmallIntegerField(
        default=5, validators=[MinValueValidator(1), MaxValueValidator(30)]
    )
    # Customer Impact Score weights (see feedback/scoring.py).
    impact_per_account_weight = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        default=Decimal("5000"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    impact_renewal_multiplier = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("1.5"),
        validators=[MinValueValidator(Decimal("1"))],
    )
    impact_at_risk_multiplier = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("2"),
        validators=[MinValueValidator(Decimal("1"))],
    )
    impact_renewal_window_days = models.PositiveSmallIntegerField(default=90)
    # Escalations (see roadmap/escalations.py): P1 above this affected ARR, and the response
    # expectation per severity, in business days of the organization's calendar.
    escalation_p1_arr_threshold = models.DecimalField(
        "P1 above this affected ARR",
        max_digits=14,
        decimal_places=2,
        default=Decimal("250000"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    escalation_p1_response_days = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(30)]
    )
    escalation_p2_response_days = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(1), MaxValueValidator(30)]
    )
    escalation_p3_response_days = models.PositiveSmallIntegerField(
        default=10, validators=[MinValueValidator(1), MaxValueValidator(60)]
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(triage_sla_days__gte=1) & models.Q(triage_sla_days__lte=30),
                name="org_triage_sla_days_range",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


class Role(models.TextChoices):
    CSM = "csm", "CSM"
    PM = "pm", "PM"
    VP_CS = "vp_cs", "VP CS"
    HEAD_OF_PRODUCT = "head_of_product", "Head of Product"
    CS_OPS = "cs_ops", "CS Ops"
    PMM = "pmm", "PMM"
    SUPPORT = "support", "Support"
    ADMIN = "admin", "Admin"


class MembershipManager(TenantManager):
    def for_user(self, user_id: int) -> models.QuerySet[Membership]:
        """One person's memberships across organizations: scoped by the user instead.

        PostgreSQL allows it only for the user named in ``app.current_user``.
        """
        return self._unchecked().filter(user_id=user_id)


class Membership(TenantModel):
    """A user's role in one organization. Deactivated, never deleted (history keeps names)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    deactivated_at = models.DateTimeField(null=True, blank=True)

    objects = MembershipManager()

    # A person may read their own memberships in other organizations (the switcher).
    rls_read_extra = "user_id = NULLIF(current_setting('app.current_user', true), '')::bigint"

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "user"], name="membership_org_user_uniq"
            )
        ]
        indexes = [models.Index(fields=["organization", "role"], name="membership_org_role_idx")]

    def __str__(self) -> str:
        return f"{self.user.display_name} ({self.get_role_display()})"

    @property
    def display_name(self) -> str:
        return self.user.display_name


# --- Accounts and product areas --------------------------------------------------------------


class Segment(models.TextChoices):
    ENTERPRISE = "enterprise", "Enterprise"
    MID_MARKET = "mid_market", "Mid-market"
    SMB = "smb", "SMB"


class LifecycleStage(models.TextChoices):
    ONBOARDING = "onboarding", "Onboarding"
    ONBOARDED = "onboarded", "Onboarded"
    AT_RISK = "at_risk", "At risk"
    CHURNED = "churned", "Churned"


class RiskFactor(models.TextChoices):
    PRODUCT_GAP = "product_gap", "Product gap"
    ADOPTION = "adoption", "Low adoption"
    RELATIONSHIP = "relationship", "Relationship / champion loss"
    BUDGET = "budget", "Budget"
    COMPETITOR = "competitor", "Competitor"
    SUPPORT = "support", "Support experience"
    OTHER = "other", "Other"


class Account(TenantModel):
    """A customer company, usually mirrored from the CRM by its external id."""

    external_id = models.CharField(
        max_length=128, blank=True, help_text="The CRM's id for this account (unique here)."
    )
    name = models.CharField(max_length=200)
    arr = models.DecimalField(
        "ARR",
        max_digits=14,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    segment = models.CharField(max_length=20, choices=Segment.choices, default=Segment.SMB)
    renewal_date = models.DateField(null=True, blank=True)
    health_score = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(100)], help_text="0 to 100."
    )
    lifecycle_stage = models.CharField(
        max_length=20, choices=LifecycleStage.choices, default=LifecycleStage.ONBOARDING
    )
    csm = models.ForeignKey(
        Membership,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_accounts",
        verbose_name="owning CSM",
    )
    primary_risk = models.CharField(max_length=20, choices=RiskFactor.choices, blank=True)
    primary_risk_note = models.CharField(max_length=500, blank=True)
    risk_theme = models.ForeignKey(
        "feedback.Theme",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="at_risk_accounts",
        help_text="For a product-gap risk: the theme whose gap puts this account at risk.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "external_id"],
                condition=~models.Q(external_id=""),
                name="account_org_external_id_uniq",
            ),
            models.CheckConstraint(condition=models.Q(arr__gte=0), name="account_arr_non_negative"),
            models.CheckConstraint(
                condition=models.Q(health_score__isnull=True) | models.Q(health_score__lte=100),
                name="account_health_score_range",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "-arr", "id"], name="account_org_arr_idx"),
            models.Index(fields=["organization", "renewal_date"], name="account_org_renewal_idx"),
            models.Index(fields=["organization", "name"], name="account_org_name_idx"),
            models.Index(fields=["organization", "csm"], name="account_org_csm_idx"),
            models.Index(fields=["organization", "updated_at"], name="account_org_updated_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class ProductArea(TenantModel):
    """One node of the product taxonomy, with the PM who owns its feedback."""

    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    pm = models.ForeignKey(
        Membership,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="product_areas",
        verbose_name="owning PM",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                "organization", Lower("name"), name="product_area_org_name_uniq"
            )
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


# --- Invitations -----------------------------------------------------------------------------


class Invitation(TenantModel):
    email = models.EmailField()
    role = models.CharField(max_length=20, choices=Role.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["organization", "email"], name="invitation_org_email_idx")]

    def __str__(self) -> str:
        return f"Invitation for {self.email}"

    @staticmethod
    def hash_token(token: str) -> str:
        """Only a token's SHA-256 is stored: a database leak reveals no usable link."""
        return hashlib.sha256(token.encode()).hexdigest()

    @property
    def is_pending(self) -> bool:
        return (
            self.accepted_at is None
            and self.revoked_at is None
            and self.expires_at > timezone.now()
        )


# --- Audit -----------------------------------------------------------------------------------


class AuditEvent(TenantModel):
    """Who changed what, when, and from where. Written by services in the same transaction."""

    actor = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    actor_label = models.CharField(max_length=200)
    action = models.CharField(max_length=60)
    target_type = models.CharField(max_length=60)
    target_id = models.CharField(max_length=64, blank=True)
    target_repr = models.CharField(max_length=300, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    source = models.CharField(max_length=20, default="web")
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(
                fields=["organization", "-created_at", "-id"], name="audit_org_created_idx"
            ),
            models.Index(
                fields=["organization", "target_type", "target_id"], name="audit_org_target_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.actor_label} {self.action} {self.target_type} {self.target_repr}"


# --- Notifications ---------------------------------------------------------------------------


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"


class Notification(TenantModel):
    """One message to one member: in-app at once, by email through a worker.

    Written in the same transaction as the change that causes it. ``dedupe_key`` makes the
    cause idempotent (the same change never notifies twice); ``email_status`` makes the
    delivery idempotent (a worker claims the row before sending).
    """

    recipient = models.ForeignKey(
        Membership, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=60)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=500, blank=True)
    dedupe_key = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    email_status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    email_attempts = models.PositiveSmallIntegerField(default=0)
    email_last_error = models.TextField(blank=True)
    email_claimed_at = models.DateTimeField(null=True, blank=True)
    email_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "dedupe_key"], name="notification_org_dedupe_uniq"
            )
        ]
        indexes = [
            models.Index(
                fields=["organization", "recipient", "-created_at"], name="notif_recipient_idx"
            ),
            models.Index(
                fields=["organization", "recipient"],
                condition=models.Q(read_at__isnull=True),
                name="notif_unread_idx",
            ),
            models.Index(
                fields=["email_status", "created_at"],
                condition=models.Q(email_status__in=["pending", "sending"]),
                name="notif_email_pending_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.title


# --- Imports ---------------------------------------------------------------------------------


class ImportStatus(models.TextChoices):
    PENDING = "pending", "Queued"
    RUNNING = "running", "Importing"
    DONE = "done", "Finished"
    FAILED = "failed", "Failed"


class ImportJob(TenantModel):
    """A CSV import: its file, its progress, and its per-row report."""

    kind = models.CharField(max_length=30)
    created_by = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    filename = models.CharField(max_length=255)
    content = models.TextField()
    status = models.CharField(
        max_length=10, choices=ImportStatus.choices, default=ImportStatus.PENDING
    )
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    failure_message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["organization", "kind", "-created_at"], name="import_org_kind_idx")
        ]

    def __str__(self) -> str:
        return f"{self.kind} import {self.filename}"

    @property
    def percent(self) -> int:
        if not self.total_rows:
            return 100 if self.status == ImportStatus.DONE else 0
        return min(100, round(100 * self.processed_rows / self.total_rows))

    @property
    def is_finished(self) -> bool:
        return self.status in (ImportStatus.DONE, ImportStatus.FAILED)
