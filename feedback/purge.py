"""The quarterly backlog purge: archive what nobody has a reason to keep, never delete it.

A theme or an untriaged feedback is stale when all of these hold:

- it is older than 12 months (created before the cutoff);
- no ARR signal: no affected account has ARR above zero (for a theme, no account of any of
  its feedback; for a feedback, its own account);
- no activity in the last 12 months: for a theme no feedback logged into it, no status
  change and no history event (attach, detach, merge); for a feedback no change to it at
  all (logged, imported, taken out of a theme).

Only themes still in the backlog are candidates (under review, not planned): a theme on the
roadmap or shipped is a decision, not clutter. Archiving keeps every row: a theme keeps its
feedback and remembers ``status_before_archive``; a feedback keeps its triage clock and
simply leaves the queue and the SLA sweep (both skip archived feedback). An admin restores
either from the "Backlog hygiene" page.

A run is one transaction per organization that first locks the organization's row, so two
runs at once (a retried beat task, an admin clicking while the beat runs) are serialized:
the second sees the first one's archives and finds nothing left to do. Everything a run
causes (the archive, the history events, one audit event, one notification per CSM who
raised something, the webhook deliveries) commits or rolls back together, so a CSM is told
exactly once even when the run repeats.
"""

from __future__ import annotations

import datetime
import logging
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Exists, Max, OuterRef, Q, QuerySet, Subquery
from django.urls import reverse
from django.utils import timezone

from alignment.errors import ApplicationError
from alignment.models import Membership, Organization
from alignment.services.audit import audit_record, audit_source
from alignment.services.notifications import notification_create
from alignment.tenancy import cross_tenant_system_context, tenant_context
from feedback.models import Feedback, Theme, ThemeEvent, ThemeStatus
from feedback.services import _notify_csms
from integrations.models import WebhookEvent
from integrations.services_webhooks import webhook_event_emit

logger = logging.getLogger(__name__)

STALE_MONTHS = 12
PURGEABLE_STATUSES = (ThemeStatus.UNDER_REVIEW, ThemeStatus.NOT_PLANNED)
PURGE_REASON = "Archived by the backlog purge: no account with ARR and no activity in 12 months."
RESTORE_REASON = "Restored from the backlog archive."
PREVIEW_LIMIT = 25
ARCHIVE_LIMIT = 50
# The audit event lists this many ids of each kind; its counts are always complete.
AUDIT_ID_LIMIT = 1000
NOTIFICATION_ITEM_LIMIT = 15


def purge_cutoff(now: datetime.datetime) -> datetime.datetime:
    """The same moment 12 months earlier (29 February falls back to the 28th)."""
    try:
        return now.replace(year=now.year - 1)
    except ValueError:
        return now.replace(year=now.year - 1, day=28)


# --- Selectors ---------------------------------------------------------------------------------


def purgeable_themes(*, org: Organization, now: datetime.datetime) -> QuerySet[Theme]:
    """Open backlog themes older than the cutoff with no ARR signal and no recent activity.

    Annotated with ``last_event_at`` and ``last_feedback_at`` so the preview can say why.
    """
    cutoff = purge_cutoff(now)
    feedback = Feedback.objects.for_org(org).filter(theme=OuterRef("pk"))
    events = ThemeEvent.objects.for_org(org).filter(theme=OuterRef("pk"))
    return (
        Theme.objects.for_org(org)
        .filter(
            status__in=PURGEABLE_STATUSES,
            archived_at__isnull=True,
            merged_into__isnull=True,
            created_at__lt=cutoff,
            status_changed_at__lt=cutoff,
        )
        .exclude(Exists(feedback.filter(account__arr__gt=0)))
        .exclude(Exists(feedback.filter(created_at__gte=cutoff)))
        .exclude(Exists(events.filter(created_at__gte=cutoff)))
        .annotate(
            last_event_at=Subquery(
                events.order_by().values("theme").annotate(m=Max("created_at")).values("m")[:1]
            ),
            last_feedback_at=Subquery(
                feedback.order_by().values("theme").annotate(m=Max("created_at")).values("m")[:1]
            ),
        )
    )


def purgeable_feedback(*, org: Organization, now: datetime.datetime) -> QuerySet[Feedback]:
    """Untriaged feedback older than the cutoff, from an account without ARR, untouched since."""
    cutoff = purge_cutoff(now)
    return (
        Feedback.objects.for_org(org)
        .filter(
            theme__isnull=True,
            archived_at__isnull=True,
            created_at__lt=cutoff,
            updated_at__lt=cutoff,
        )
        .exclude(account__arr__gt=0)
    )


def _last_activity(theme: Theme) -> datetime.datetime:
    moments = [theme.created_at, theme.status_changed_at]
    moments += [m for m in (theme.last_event_at, theme.last_feedback_at) if m is not None]  # type: ignore[attr-defined]
    return max(moments)


@dataclass
class PurgePreview:
    now: datetime.datetime
    cutoff: datetime.datetime
    theme_count: int
    feedback_count: int
    themes: list[Theme]
    feedback: list[Feedback]

    @property
    def total(self) -> int:
        return self.theme_count + self.feedback_count

    @property
    def oldest(self) -> datetime.datetime | None:
        dates = [t.created_at for t in self.themes[:1]] + [f.created_at for f in self.feedback[:1]]
        return min(dates) if dates else None


def backlog_purge_preview(
    *, org: Organization, now: datetime.datetime | None = None, limit: int = PREVIEW_LIMIT
) -> PurgePreview:
    """The dry run: what a purge would archive now and why, oldest first. Writes nothing."""
    now = now or timezone.now()
    themes = purgeable_themes(org=org, now=now)
    feedback = purgeable_feedback(org=org, now=now)
    theme_rows = list(themes.select_related("product_area").order_by("created_at", "id")[:limit])
    for theme in theme_rows:
        theme.last_activity_at = _last_activity(theme)  # type: ignore[attr-defined]
    feedback_rows = list(
        feedback.select_related("account", "product_area", "logged_by__user").order_by(
            "created_at", "id"
        )[:limit]
    )
    return PurgePreview(
        now=now,
        cutoff=purge_cutoff(now),
        theme_count=themes.count(),
        feedback_count=feedback.count(),
        themes=theme_rows,
        feedback=feedback_rows,
    )


def archived_themes(*, org: Organization) -> QuerySet[Theme]:
    """Archived themes that can be restored (a merged theme lives on in its target)."""
    return (
        Theme.objects.for_org(org)
        .filter(status=ThemeStatus.ARCHIVED, merged_into__isnull=True)
        .select_related("product_area")
        .order_by("-archived_at", "-id")
    )


def archived_feedback(*, org: Organization) -> QuerySet[Feedback]:
    return (
        Feedback.objects.for_org(org)
        .filter(archived_at__isnull=False)
        .select_related("account", "logged_by__user")
        .order_by("-archived_at", "-id")
    )


# --- Running the purge -------------------------------------------------------------------------


@dataclass
class PurgeResult:
    theme_ids: list[int] = field(default_factory=list)
    feedback_ids: list[int] = field(default_factory=list)
    notified: int = 0

    @property
    def total(self) -> int:
        return len(self.theme_ids) + len(self.feedback_ids)


@transaction.atomic
def backlog_purge_run(
    *, org: Organization, actor: Membership | None, now: datetime.datetime | None = None
) -> PurgeResult:
    """Archive every stale theme and untriaged feedback of ``org``; tell each CSM once.

    ``actor`` is the admin who ran it by hand, or None for the quarterly beat run.
    """
    if actor is not None and actor.organization_id != org.pk:
        raise ApplicationError("That member does not belong to this organization.")
    # The lock serializes runs of one organization (see the module docstring); everything
    # below is evaluated after it, so a run that waited sees what the first one archived.
    Organization.objects.select_for_update().filter(pk=org.pk).values_list("pk").first()
    now = now or timezone.now()
    result = PurgeResult()
    themes = list(
        purgeable_themes(org=org, now=now).order_by("id").values_list("pk", "status", "title")
    )
    result.theme_ids = [pk for pk, _, _ in themes]
    result.feedback_ids = list(
        purgeable_feedback(org=org, now=now).order_by("id").values_list("pk", flat=True)
    )
    for status in PURGEABLE_STATUSES:
        Theme.objects.for_org(org).filter(
            pk__in=[pk for pk, old, _ in themes if old == status]
        ).update(
            status=ThemeStatus.ARCHIVED,
            status_before_archive=status,
            archived_at=now,
            archived_by_purge=True,
            status_changed_at=now,
            updated_at=now,
        )
    ThemeEvent.objects.for_org(org).bulk_create(
        [
            ThemeEvent(
                organization=org,
                theme_id=pk,
                kind="status_changed",
                actor=actor,
                data={"old": old, "new": ThemeStatus.ARCHIVED, "reason": PURGE_REASON},
                created_at=now,
            )
            for pk, old, _ in themes
        ]
    )
    Feedback.objects.for_org(org).filter(pk__in=result.feedback_ids).update(archived_at=now)
    for pk, old, title in themes:
        webhook_event_emit(
            org=org,
            event=WebhookEvent.THEME_STATUS_CHANGED,
            data={
                "theme_id": pk,
                "title": title,
                "old_status": old,
                "status": ThemeStatus.ARCHIVED.value,
                "reason": "backlog_purge",
            },
        )
    event = audit_record(
        org=org,
        actor=actor.user if actor else None,
        action="backlog.purged",
        target_type="backlog",
        target_repr=f"Backlog purge of {now:%Y-%m-%d}",
        changes={
            "cutoff": purge_cutoff(now),
            "themes_archived": len(result.theme_ids),
            "feedback_archived": len(result.feedback_ids),
            "theme_ids": result.theme_ids[:AUDIT_ID_LIMIT],
            "feedback_ids": result.feedback_ids[:AUDIT_ID_LIMIT],
            "run": "manual" if actor else "scheduled",
        },
    )
    if result.total:
        result.notified = _notify_raisers(
            org=org, run_key=str(event.pk), actor=actor, themes=themes, result=result
        )
    return result


def _notify_raisers(
    *,
    org: Organization,
    run_key: str,
    actor: Membership | None,
    themes: list[tuple[int, str, str]],
    result: PurgeResult,
) -> int:
    """One notification per CSM who logged any of it, listing what was archived.

    The dedupe key names the run, so the same run can never tell the same CSM twice.
    """
    titles = {pk: title for pk, _, title in themes}
    items: dict[int, set[str]] = defaultdict(set)
    rows = Feedback.objects.for_org(org).filter(
        Q(pk__in=result.feedback_ids) | Q(theme_id__in=result.theme_ids),
        logged_by__isnull=False,
    )
    for logged_by_id, theme_id, account_name, verbatim in rows.values_list(
        "logged_by_id", "theme_id", "account__name", "verbatim"
    ):
        if theme_id in titles:
            items[logged_by_id].add(f"Theme “{titles[theme_id]}”")
        else:
            words = verbatim if len(verbatim) <= 80 else verbatim[:79] + "…"
            items[logged_by_id].add(f"{account_name}: “{words}”")
    members = Membership.objects.for_org(org).filter(pk__in=items)
    url = reverse("feedback:my-feedback", kwargs={"org_slug": org.slug})
    sent = 0
    for member in members:
        if actor is not None and member.pk == actor.pk:
            continue
        listed = sorted(items[member.pk])
        shown = listed[:NOTIFICATION_ITEM_LIMIT]
        more = len(listed) - len(shown)
        body = (
            "These had no account with ARR and no activity for 12 months, so they were "
            "archived (not deleted). Ask an admin to restore anything that matters again.\n\n"
            + "\n".join(f"• {line}" for line in shown)
            + (f"\n…and {more} more." if more else "")
        )
        count = len(listed)
        created = notification_create(
            org=org,
            recipient=member,
            kind="backlog.purged",
            title=f"{count} stale item{'s' if count != 1 else ''} you raised "
            f"{'were' if count != 1 else 'was'} archived",
            body=body,
            url=url,
            dedupe_key=f"purge:{run_key}:{member.pk}",
        )
        sent += created is not None
    return sent


def backlog_purge_all_organizations(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """The quarterly beat run: every organization, each in its own tenant context.

    The cross-tenant context is used only to list organization ids. One organization's
    failure is logged and does not stop the others; running it again is harmless.
    """
    with cross_tenant_system_context():
        org_ids = list(Organization.objects.order_by("pk").values_list("pk", flat=True))
    totals = {"organizations": 0, "themes": 0, "feedback": 0, "failed": 0}
    for org_id in org_ids:
        try:
            with audit_source("task", label="Backlog purge"), tenant_context(org_id):
                org = Organization.objects.get(pk=org_id)
                result = backlog_purge_run(org=org, actor=None, now=now)
        except Exception:
            logger.exception("backlog purge of organization %s failed", org_id)
            totals["failed"] += 1
            continue
        totals["organizations"] += 1
        totals["themes"] += len(result.theme_ids)
        totals["feedback"] += len(result.feedback_ids)
    return totals


# --- Restoring ---------------------------------------------------------------------------------


def theme_restored_status(theme: Theme) -> str:
    """The status before the archive, when it is still a valid one to return to."""
    before = theme.status_before_archive
    if before == ThemeStatus.NOT_PLANNED and not theme.not_planned_reason:
        return ThemeStatus.UNDER_REVIEW
    if before == ThemeStatus.ON_ROADMAP and theme.roadmap_item_id is None:
        return ThemeStatus.UNDER_REVIEW
    if before in ThemeStatus.values and before != ThemeStatus.ARCHIVED:
        return before
    return ThemeStatus.UNDER_REVIEW


@transaction.atomic
def theme_restore(*, org: Organization, actor: Membership, theme: Theme) -> Theme:
    """Bring an archived theme back with the status it had; its CSMs hear it is back."""
    theme = Theme.objects.for_org(org).select_for_update().get(pk=theme.pk)
    if theme.status != ThemeStatus.ARCHIVED:
        raise ApplicationError(f"“{theme.title}” is not archived.")
    if theme.merged_into_id:
        raise ApplicationError(
            f"“{theme.title}” was merged into another theme; its feedback lives there now."
        )
    now = timezone.now()
    status = theme_restored_status(theme)
    was_purged = theme.archived_by_purge
    theme.status = status
    theme.archived_at = None
    theme.archived_by_purge = False
    theme.status_before_archive = ""
    theme.status_changed_at = now
    theme.save(
        update_fields=[
            "status",
            "archived_at",
            "archived_by_purge",
            "status_before_archive",
            "status_changed_at",
            "updated_at",
        ]
    )
    event = ThemeEvent.objects.for_org(org).create(
        organization=org,
        theme=theme,
        kind="status_changed",
        actor=actor,
        data={"old": ThemeStatus.ARCHIVED, "new": status, "reason": RESTORE_REASON},
    )
    audit_record(
        org=org,
        actor=actor.user,
        action="theme.restore",
        target=theme,
        changes={"status": [ThemeStatus.ARCHIVED, status], "archived_by_purge": was_purged},
    )
    webhook_event_emit(
        org=org,
        event=WebhookEvent.THEME_STATUS_CHANGED,
        data={
            "theme_id": theme.pk,
            "title": theme.title,
            "old_status": ThemeStatus.ARCHIVED.value,
            "status": str(status),
            "reason": "restored",
        },
    )
    feedback_ids = list(
        Feedback.objects.for_org(org).filter(theme=theme).values_list("pk", flat=True)
    )
    _notify_csms(
        org=org, actor=actor, theme=theme, feedback_ids=feedback_ids, cause=f"restore:{event.pk}"
    )
    return theme


@transaction.atomic
def feedback_restore(*, org: Organization, actor: Membership, feedback: Feedback) -> Feedback:
    """Put archived feedback back in the triage queue with its original clock."""
    feedback = (
        Feedback.objects.for_org(org)
        .select_for_update(of=("self",))
        .select_related("account")
        .get(pk=feedback.pk)
    )
    if feedback.archived_at is None:
        raise ApplicationError("This feedback is not archived.")
    archived_at = feedback.archived_at
    feedback.archived_at = None
    # The clock (due_at, remind_at and the notices already sent) stays as it was.
    feedback.save(update_fields=["archived_at", "updated_at"])
    audit_record(
        org=org,
        actor=actor.user,
        action="feedback.restore",
        target=feedback,
        changes={"archived_at": [archived_at, None], "account": feedback.account.name},
    )
    return feedback
