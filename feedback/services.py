"""Writes of the VoC pipeline: logging feedback, triage into themes, merges, status changes
and the loop back to the CSMs who raised the signal."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from alignment.errors import ApplicationError
from alignment.models import Account, Membership, Organization, ProductArea
from alignment.services.audit import audit_record
from alignment.services.notifications import notification_create
from feedback.impact import feedback_refresh_impact, themes_refresh_impact
from feedback.models import NEW, Category, Feedback, Source, Theme, ThemeEvent, ThemeStatus, Urgency
from feedback.sla import BusinessCalendar
from integrations.models import WebhookEvent
from integrations.services_webhooks import webhook_event_emit
from roadmap.models import RoadmapItem

DEFAULT_CATEGORIES = [
    ("Feature request", "Something the product cannot do yet."),
    ("Bug", "Something that does not work as it should."),
    ("Usability friction", "Possible, but slow, confusing or error-prone."),
    ("Integration", "Connecting with another system the customer uses."),
    ("Performance", "Too slow or failing at the customer's scale."),
]

# What a CSM may tell the customer for each status, in words they can repeat as they are.
CUSTOMER_WORDING = {
    NEW: "We've logged your request with our product team; they'll review it shortly.",
    ThemeStatus.UNDER_REVIEW: (
        "Product is actively reviewing this request alongside similar requests from other "
        "customers. There is no commitment or date yet."
    ),
    ThemeStatus.NOT_PLANNED: (
        "Product has decided not to build this for now. Here is why: {reason}"
    ),
    ThemeStatus.ON_ROADMAP: (
        "This is on our roadmap. I'll share what I can say about timing as it firms up — "
        "please don't plan around a date yet."
    ),
    ThemeStatus.SHIPPED: "This has shipped. I can walk you through it.",
    ThemeStatus.ARCHIVED: (
        "This request has been closed without further work; tell me if it matters again."
    ),
}


def customer_wording(status: str, reason: str = "") -> str:
    return CUSTOMER_WORDING[status].format(reason=reason or "no reason was recorded")


def calendar_for(org: Organization) -> BusinessCalendar:
    return BusinessCalendar(org.timezone, org.holiday_country)


def categories_ensure_defaults(*, org: Organization) -> None:
    """Every organization starts with about five categories (CS Ops edits them later)."""
    if Category.objects.for_org(org).exists():
        return
    Category.objects.for_org(org).bulk_create(
        [
            Category(organization=org, name=name, description=description, position=i)
            for i, (name, description) in enumerate(DEFAULT_CATEGORIES)
        ]
    )


def _same_org(org: Organization, *objects: object, field: str) -> None:
    for obj in objects:
        if obj is not None and getattr(obj, "organization_id", None) != org.pk:
            raise ApplicationError(
                "That choice does not exist in this organization.",
                field_errors={field: ["Not found."]},
            )


def _event(
    org: Organization, theme: Theme, kind: str, actor: Membership | None, **data: object
) -> ThemeEvent:
    return ThemeEvent.objects.for_org(org).create(
        organization=org, theme=theme, kind=kind, actor=actor, data=data
    )


@transaction.atomic
def feedback_log(
    *,
    org: Organization,
    actor: Membership,
    account: Account,
    verbatim: str,
    job_to_be_done: str = "",
    workaround: str = "",
    source: str = Source.CALL,
    product_area: ProductArea | None = None,
    category: Category | None = None,
    urgency: str = Urgency.MEDIUM,
    answer_needed_by: datetime.date | None = None,
    theme: Theme | None = None,
    logged_at: datetime.datetime | None = None,
) -> Feedback:
    """Record one signal from one account and start its triage clock.

    Attaching it to an existing theme at once (a known duplicate) acknowledges it.
    """
    verbatim = verbatim.strip()
    errors: dict[str, list[str]] = {}
    if not verbatim:
        errors["verbatim"] = ["Write down what the customer said, in their words."]
    if source not in Source.values:
        errors["source"] = ["Choose where this came from."]
    if urgency not in Urgency.values:
        errors["urgency"] = ["Choose an urgency."]
    if errors:
        raise ApplicationError("Some fields need attention.", field_errors=errors)
    _same_org(org, account, field="account")
    _same_org(org, product_area, field="product_area")
    _same_org(org, category, field="category")
    _same_org(org, theme, field="theme")
    logged_at = logged_at or timezone.now()
    calendar = calendar_for(org)
    due = calendar.due_at(logged_at, org.triage_sla_days)
    feedback = Feedback.objects.for_org(org).create(
        organization=org,
        account=account,
        verbatim=verbatim,
        job_to_be_done=job_to_be_done.strip(),
        workaround=workaround.strip(),
        source=source,
        product_area=product_area,
        category=category,
        urgency=urgency,
        answer_needed_by=answer_needed_by,
        logged_by=actor,
        created_at=logged_at,
        due_at=due,
        remind_at=calendar.remind_at(due),
    )
    feedback_refresh_impact(org=org, feedback=feedback)
    audit_record(
        org=org,
        actor=actor.user,
        action="feedback.log",
        target=feedback,
        changes={"account": account.name, "source": source},
    )
    if theme is not None:
        feedback_attach(org=org, actor=actor, feedback=feedback, theme=theme)
    return feedback


@dataclass(frozen=True)
class NewTheme:
    title: str
    status: str = ThemeStatus.UNDER_REVIEW
    description: str = ""
    product_area: ProductArea | None = None
    category: Category | None = None
    not_planned_reason: str = ""
    roadmap_item: RoadmapItem | None = None


def _validate_status(
    org: Organization, status: str, reason: str, roadmap_item: RoadmapItem | None
) -> None:
    if status not in ThemeStatus.values:
        raise ApplicationError("Unknown status.", field_errors={"status": ["Choose a status."]})
    if status == ThemeStatus.NOT_PLANNED and not reason.strip():
        raise ApplicationError(
            "Say why it is not planned: the CSM passes this reason on to the customer.",
            field_errors={"not_planned_reason": ["A reason is required for “Not planned”."]},
        )
    if status == ThemeStatus.ON_ROADMAP and roadmap_item is None:
        raise ApplicationError(
            "Link the roadmap item this theme is on.",
            field_errors={"roadmap_item": ["Choose the roadmap item."]},
        )
    _same_org(org, roadmap_item, field="roadmap_item")


@transaction.atomic
def theme_create(*, org: Organization, actor: Membership, data: NewTheme) -> Theme:
    title = " ".join(data.title.split())
    if not title:
        raise ApplicationError(
            "Give the theme a title.", field_errors={"title": ["Give the theme a title."]}
        )
    _validate_status(org, data.status, data.not_planned_reason, data.roadmap_item)
    if data.status in (ThemeStatus.SHIPPED, ThemeStatus.ARCHIVED):
        raise ApplicationError(
            "A new theme starts under review, not planned or on the roadmap.",
            field_errors={"status": ["Choose under review, not planned or on the roadmap."]},
        )
    _same_org(org, data.product_area, field="product_area")
    _same_org(org, data.category, field="category")
    theme = Theme.objects.for_org(org).create(
        organization=org,
        title=title,
        description=data.description.strip(),
        product_area=data.product_area,
        category=data.category,
        status=data.status,
        not_planned_reason=data.not_planned_reason.strip()
        if data.status == ThemeStatus.NOT_PLANNED
        else "",
        roadmap_item=data.roadmap_item if data.status == ThemeStatus.ON_ROADMAP else None,
        created_by=actor,
    )
    _event(org, theme, "created", actor, status=theme.status)
    audit_record(
        org=org,
        actor=actor.user,
        action="theme.create",
        target=theme,
        changes={"title": title, "status": theme.status},
    )
    return theme


@transaction.atomic
def feedback_attach(
    *, org: Organization, actor: Membership, feedback: Feedback, theme: Theme
) -> Feedback:
    """Put feedback into a theme: this is what acknowledges it (stops its triage clock)."""
    _same_org(org, feedback, field="feedback")
    _same_org(org, theme, field="theme")
    if theme.status == ThemeStatus.ARCHIVED or theme.merged_into_id:
        raise ApplicationError(
            "That theme is archived; choose an open theme.", field_errors={"theme": ["Archived."]}
        )
    feedback = Feedback.objects.for_org(org).select_for_update().get(pk=feedback.pk)
    previous = feedback.theme_id
    if previous == theme.pk:
        return feedback
    previous_status = feedback.status
    now = timezone.now()
    feedback.theme = theme
    updates = ["theme", "updated_at"]
    if feedback.triaged_at is None:
        feedback.triaged_at, feedback.triaged_by = now, actor
        updates += ["triaged_at", "triaged_by"]
    feedback.save(update_fields=updates)
    event = _event(
        org,
        theme,
        "feedback_attached",
        actor,
        feedback_id=feedback.pk,
        account=feedback.account.name,
    )
    audit_record(
        org=org,
        actor=actor.user,
        action="feedback.attach",
        target=feedback,
        changes={"theme": [previous, theme.pk]},
    )
    themes_refresh_impact(org=org, theme_ids=[theme.pk, previous or 0])
    _notify_csms(
        org=org, actor=actor, theme=theme, feedback_ids=[feedback.pk], cause=f"attach:{event.pk}"
    )
    _emit_feedback_status(org, feedback, previous_status)
    return feedback


@transaction.atomic
def feedback_triage(
    *,
    org: Organization,
    actor: Membership,
    feedback: Feedback,
    theme: Theme | None = None,
    new_theme: NewTheme | None = None,
) -> Feedback:
    """Triage = put the feedback into an existing theme or a new one with a status."""
    if (theme is None) == (new_theme is None):
        raise ApplicationError("Choose an existing theme or describe a new one.")
    if new_theme is not None:
        theme = theme_create(org=org, actor=actor, data=new_theme)
    assert theme is not None
    return feedback_attach(org=org, actor=actor, feedback=feedback, theme=theme)


@transaction.atomic
def feedback_detach(*, org: Organization, actor: Membership, feedback: Feedback) -> Feedback:
    """Take feedback out of its theme (wrongly grouped). It is new again and back in the queue."""
    _same_org(org, feedback, field="feedback")
    feedback = Feedback.objects.for_org(org).select_for_update().get(pk=feedback.pk)
    theme_id = feedback.theme_id
    if theme_id is None:
        return feedback
    previous_status = feedback.status
    feedback.theme = None
    feedback.triaged_at = None
    feedback.triaged_by = None
    feedback.save(update_fields=["theme", "triaged_at", "triaged_by", "updated_at"])
    theme = Theme.objects.for_org(org).get(pk=theme_id)
    _event(
        org,
        theme,
        "feedback_detached",
        actor,
        feedback_id=feedback.pk,
        account=feedback.account.name,
    )
    audit_record(
        org=org,
        actor=actor.user,
        action="feedback.detach",
        target=feedback,
        changes={"theme": [theme_id, None]},
    )
    themes_refresh_impact(org=org, theme_ids=[theme_id])
    _emit_feedback_status(org, feedback, previous_status)
    return feedback


@transaction.atomic
def theme_merge(*, org: Organization, actor: Membership, source: Theme, target: Theme) -> Theme:
    """Merge ``source`` into ``target``: every feedback moves, the source is archived and
    points at the target, and both histories record the merge."""
    _same_org(org, source, target, field="theme")
    if source.pk == target.pk:
        raise ApplicationError("A theme cannot be merged into itself.")
    locked = {
        t.pk: t
        for t in Theme.objects.for_org(org)
        .select_for_update()
        .filter(pk__in=[source.pk, target.pk])
    }
    source, target = locked[source.pk], locked[target.pk]
    if target.merged_into_id or target.status == ThemeStatus.ARCHIVED:
        raise ApplicationError("Merge into an open theme, not an archived one.")
    moved = list(Feedback.objects.for_org(org).filter(theme=source).values_list("pk", flat=True))
    now = timezone.now()
    Feedback.objects.for_org(org).filter(pk__in=moved).update(theme=target, updated_at=now)
    previous_status = source.status
    source.status_before_archive = source.status
    source.status = ThemeStatus.ARCHIVED
    source.merged_into = target
    source.archived_at = now
    source.status_changed_at = now
    source.save(
        update_fields=[
            "status",
            "status_before_archive",
            "merged_into",
            "archived_at",
            "status_changed_at",
            "updated_at",
        ]
    )
    _event(
        org,
        source,
        "merged_into",
        actor,
        target_id=target.pk,
        target_title=target.title,
        feedback_ids=moved,
    )
    _event(
        org,
        target,
        "merged_in",
        actor,
        source_id=source.pk,
        source_title=source.title,
        feedback_ids=moved,
    )
    audit_record(
        org=org,
        actor=actor.user,
        action="theme.merge",
        target=source,
        changes={"merged_into": target.title, "feedback_moved": len(moved)},
    )
    themes_refresh_impact(org=org, theme_ids=[source.pk, target.pk])
    _emit_theme_status(org, source, previous_status, feedback_moved=len(moved))
    if previous_status != target.status:
        _notify_csms(
            org=org,
            actor=actor,
            theme=target,
            feedback_ids=moved,
            cause=f"merge:{source.pk}:{target.pk}",
        )
    return target


@transaction.atomic
def theme_set_status(
    *,
    org: Organization,
    actor: Membership,
    theme: Theme,
    status: str,
    reason: str = "",
    roadmap_item: RoadmapItem | None = None,
    notify: bool = True,
) -> Theme:
    """Change what CSMs may tell customers, and tell every CSM with feedback in it, once.

    ``notify=False`` is for a caller that sends its own consolidated notice instead (a
    release shipping several themes tells each CSM once, not once per theme)."""
    _same_org(org, theme, field="theme")
    _validate_status(org, status, reason, roadmap_item)
    theme = Theme.objects.for_org(org).select_for_update().get(pk=theme.pk)
    if theme.merged_into_id:
        raise ApplicationError("This theme was merged; change the theme it was merged into.")
    old = theme.status
    reason = reason.strip()
    if (
        old == status
        and theme.not_planned_reason == (reason if status == ThemeStatus.NOT_PLANNED else "")
        and theme.roadmap_item_id
        == (roadmap_item.pk if roadmap_item and status == ThemeStatus.ON_ROADMAP else None)
    ):
        return theme
    now = timezone.now()
    theme.status = status
    theme.not_planned_reason = reason if status == ThemeStatus.NOT_PLANNED else ""
    if status == ThemeStatus.ON_ROADMAP:
        theme.roadmap_item = roadmap_item
    theme.status_changed_at = now
    if status == ThemeStatus.ARCHIVED:
        theme.archived_at, theme.status_before_archive = now, old
    else:
        theme.archived_at = None
    theme.save()
    event = _event(
        org, theme, "status_changed", actor, old=old, new=status, reason=theme.not_planned_reason
    )
    audit_record(
        org=org,
        actor=actor.user,
        action="theme.status",
        target=theme,
        changes={
            "status": [old, status],
            **({"reason": theme.not_planned_reason} if theme.not_planned_reason else {}),
        },
    )
    _emit_theme_status(org, theme, old)
    if not notify:
        return theme
    feedback_ids = list(
        Feedback.objects.for_org(org).filter(theme=theme).values_list("pk", flat=True)
    )
    _notify_csms(
        org=org, actor=actor, theme=theme, feedback_ids=feedback_ids, cause=f"status:{event.pk}"
    )
    return theme


def _emit_theme_status(
    org: Organization, theme: Theme, previous: str, *, feedback_moved: int | None = None
) -> None:
    """One ``theme.status_changed`` webhook stands for every feedback in the theme (a theme
    may hold thousands); see docs/webhooks.md."""
    data: dict[str, object] = {
        "theme": {
            "id": theme.pk,
            "title": theme.title,
            "status": theme.status,
            "previous_status": previous,
            "not_planned_reason": theme.not_planned_reason,
            "roadmap_item_id": theme.roadmap_item_id,
            "merged_into_id": theme.merged_into_id,
        },
        "customer_wording": customer_wording(theme.status, theme.not_planned_reason),
    }
    if feedback_moved is not None:
        data["feedback_moved"] = feedback_moved
    webhook_event_emit(org=org, event=WebhookEvent.THEME_STATUS_CHANGED, data=data)


def _emit_feedback_status(org: Organization, feedback: Feedback, previous: str) -> None:
    """``feedback.status_changed`` when one feedback moves into or out of a theme and what the
    customer may be told changes with it."""
    status = feedback.status
    if status == previous:
        return
    theme = feedback.theme if feedback.theme_id else None
    webhook_event_emit(
        org=org,
        event=WebhookEvent.FEEDBACK_STATUS_CHANGED,
        data={
            "feedback": {
                "id": feedback.pk,
                "status": status,
                "previous_status": previous,
                "account": {
                    "id": feedback.account_id,
                    "external_id": feedback.account.external_id,
                    "name": feedback.account.name,
                },
                "theme": {"id": theme.pk, "title": theme.title} if theme else None,
            }
        },
    )


def _notify_csms(
    *, org: Organization, actor: Membership, theme: Theme, feedback_ids: list[int], cause: str
) -> None:
    """One notification per CSM per change, listing their accounts and what they may say."""
    if not feedback_ids:
        return
    by_csm: dict[int, set[str]] = defaultdict(set)
    for logged_by_id, account_name in (
        Feedback.objects.for_org(org)
        .filter(pk__in=feedback_ids, logged_by__isnull=False)
        .values_list("logged_by_id", "account__name")
    ):
        by_csm[logged_by_id].add(account_name)
    if not by_csm:
        return
    members = Membership.objects.for_org(org).filter(pk__in=by_csm)
    wording = customer_wording(theme.status, theme.not_planned_reason)
    url = reverse("feedback:my-feedback", kwargs={"org_slug": org.slug})
    for member in members:
        if member.pk == actor.pk:
            continue
        accounts = sorted(by_csm[member.pk])
        notification_create(
            org=org,
            recipient=member,
            kind="theme.status",
            title=f"“{theme.title}” is now {theme.get_status_display().lower()}",
            body=(
                f"Accounts you raised this for: {', '.join(accounts)}.\n\n"
                f"What you can tell them: {wording}"
            ),
            url=url,
            dedupe_key=f"loop:{cause}:{member.pk}",
        )


@transaction.atomic
def feedback_mark_customer_told(
    *,
    org: Organization,
    actor: Membership,
    feedback: Feedback,
    told_on: datetime.date | None = None,
) -> Feedback:
    """Close the loop: the CSM told the customer the current status (on that date)."""
    _same_org(org, feedback, field="feedback")
    feedback = (
        Feedback.objects.for_org(org)
        .select_related("theme")
        .select_for_update(of=("self",))
        .get(pk=feedback.pk)
    )
    status = feedback.status
    if status == NEW:
        raise ApplicationError(
            "Nothing has been decided yet: there is nothing to tell the customer."
        )
    today = timezone.localdate(timezone=org.tzinfo)
    told_on = told_on or today
    if told_on > today:
        raise ApplicationError(
            "The date the customer was told cannot be in the future.",
            field_errors={"told_on": ["That date is in the future."]},
        )
    feedback.customer_told_at = told_on
    feedback.customer_told_status = status
    feedback.save(update_fields=["customer_told_at", "customer_told_status", "updated_at"])
    audit_record(
        org=org,
        actor=actor.user,
        action="feedback.customer_told",
        target=feedback,
        changes={"status": status, "told_on": told_on},
    )
    return feedback
