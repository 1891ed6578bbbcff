"""Escalation pages: the list, the raise form with its live severity preview, one
escalation (severity explained, response clock, accounts, override and status actions) and
the weekly review of open P1 and P2."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_POST

from alignment.decorators import has_perm, org_view
from alignment.errors import ApplicationError
from alignment.http import redirect_after_post
from alignment.models import Account, Organization
from alignment.permissions import Perm
from feedback import selectors_capture
from feedback.services import calendar_for
from roadmap import selectors_escalations as selectors
from roadmap import services_escalations as services
from roadmap.forms_escalations import (
    EscalationFilterForm,
    EscalationRaiseForm,
    OverrideForm,
    StatusForm,
)
from roadmap.models import Escalation, EscalationStatus

PAGE_SIZE = 25


# --- helpers ----------------------------------------------------------------------------------


def _can_edit_accounts(request: HttpRequest) -> bool:
    return has_perm(request, Perm.ESCALATION_RAISE) or has_perm(request, Perm.ESCALATION_MANAGE)


def _clock(org: Organization, escalation: Escalation, now=None) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """The response clock as the page shows it."""
    now = now or timezone.now()
    if escalation.responded_at is not None:
        late = escalation.responded_at > escalation.due_at
        when = timezone.localtime(escalation.responded_at, org.tzinfo)
        return {
            "label": f"responded {when:%b} {when.day}" + (" (late)" if late else ""),
            "css": "late" if late else "done",
            "overdue": False,
        }
    state = calendar_for(org).describe(escalation.due_at, now)
    return {
        "label": state.label,
        "css": "overdue" if state.overdue else ("soon" if state.urgent else "ok"),
        "overdue": state.overdue,
    }


def _decorate(org: Organization, escalations: list[Escalation]) -> None:
    now = timezone.now()
    for escalation in escalations:
        escalation.clock = _clock(org, escalation, now)
        links = list(escalation.escalation_accounts.all())
        escalation.account_list = [link.account for link in links]


def _chosen_query(ids: list[int]) -> str:
    return urlencode([("accounts", pk) for pk in ids])


def _picker_context(
    request: HttpRequest, chosen: list[Account], customer_cited: bool
) -> dict[str, object]:
    org = request.org  # type: ignore[attr-defined]
    ids = [a.pk for a in chosen]
    for account in chosen:
        account.remove_query = _chosen_query([pk for pk in ids if pk != account.pk])
        account.renews_in = selectors.account_renewal_days(org, account)
    preview = selectors.escalation_severity_preview(
        org=org, accounts=chosen, customer_cited=customer_cited
    )
    due = None
    if preview.result is not None:
        due = services.due_for(org, timezone.now(), preview.result.severity)
    return {
        "chosen": chosen,
        "chosen_query": _chosen_query(ids),
        "customer_cited": customer_cited,
        "preview": preview,
        "preview_due": due,
        "preview_days": (
            services.response_days(org, preview.result.severity) if preview.result else None
        ),
    }


def _cited(data: object) -> bool:
    value = data.get("customer_cited", "")  # type: ignore[attr-defined]
    return str(value).lower() in {"on", "true", "1", "yes"}


# --- list, review -----------------------------------------------------------------------------


@org_view()
def escalation_list(request: HttpRequest) -> HttpResponse:
    org, membership = request.org, request.membership  # type: ignore[attr-defined]
    data = request.GET if request.GET else {"status": "open"}
    filters = EscalationFilterForm(data)
    values = filters.values()
    rows = selectors.escalation_list(
        org=org,
        status=str(values["status"]),
        severity=str(values["severity"]),
        mine_for=membership if values["mine"] else None,
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    escalations = list(page.object_list)
    _decorate(org, escalations)
    return render(
        request,
        "roadmap/escalations/list.html",
        {
            "page": page,
            "escalations": escalations,
            "filters": filters,
            "filtered": values != {"status": "open", "severity": "", "mine": False},
            "can_raise": has_perm(request, Perm.ESCALATION_RAISE),
            "nav": "escalations",
        },
    )


@org_view()
def escalation_review(request: HttpRequest) -> HttpResponse:
    """The weekly review: open P1 and P2 with their ARR, the most severe and largest first."""
    org = request.org  # type: ignore[attr-defined]
    review = selectors.escalation_weekly_review(org=org)
    _decorate(org, review.escalations)
    return render(
        request,
        "roadmap/escalations/review.html",
        {"review": review, "nav": "escalation_review"},
    )


# --- raise ------------------------------------------------------------------------------------


@org_view(Perm.ESCALATION_RAISE)
def escalation_raise(request: HttpRequest) -> HttpResponse:
    """Raise an escalation; the severity and its reasons show live as accounts are picked."""
    org, membership = request.org, request.membership  # type: ignore[attr-defined]
    form = EscalationRaiseForm(request.POST or None, org=org)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            escalation = services.escalation_raise(
                org=org,
                actor=membership,
                title=data["title"],
                ticket_ref=data["ticket_ref"],
                description=data["description"],
                customer_cited=data["customer_cited"],
                product_area=data["product_area"],
                accounts=list(data["accounts"]),
            )
        except ApplicationError as error:
            error.apply_to_form(form)
        else:
            days = services.response_days(org, escalation.severity)
            messages.success(
                request,
                f"Escalated as {escalation.severity}. Product has {days} business "
                f"day{'s' if days != 1 else ''} to respond.",
            )
            return redirect_after_post(
                request, "roadmap:escalation-detail", org_slug=org.slug, pk=escalation.pk
            )
    source = request.POST if request.method == "POST" else request.GET
    chosen = selectors.accounts_for_pick(org=org, ids=source.getlist("accounts"))
    context = {
        "form": form,
        "nav": "escalation_raise",
        **_picker_context(request, chosen, _cited(source)),
    }
    if request.htmx and request.method == "POST":
        return render(
            request,
            "roadmap/escalations/partials/_raise_form.html",
            context,
            status=422 if form.errors else 200,
        )
    return render(
        request,
        "roadmap/escalations/raise.html",
        context,
        status=422 if form.errors else 200,
    )


@org_view()
def escalation_accounts(request: HttpRequest) -> HttpResponse:
    """The account picker of the raise form and of the escalation page.

    ``?q=`` returns matching accounts (``&escalation=<id>``: as "add" buttons for that
    escalation); otherwise the picked ``accounts`` are returned as the picker block, with the
    severity preview swapped in beside it."""
    org, membership = request.org, request.membership  # type: ignore[attr-defined]
    if not _can_edit_accounts(request):
        raise PermissionDenied("Your role cannot pick escalation accounts.")
    chosen = selectors.accounts_for_pick(org=org, ids=request.GET.getlist("accounts"))
    if "q" in request.GET:
        q = request.GET.get("q", "")
        escalation = None
        if request.GET.get("escalation"):
            try:
                escalation = selectors.escalation_get(org=org, pk=int(request.GET["escalation"]))
            except ValueError:
                escalation = None
            if escalation is None:
                raise Http404("No such escalation.")
            chosen = [link.account for link in escalation.escalation_accounts.all()]
        taken = {a.pk for a in chosen}
        results = [
            a
            for a in selectors_capture.account_search(org=org, csm=membership, q=q)
            if a.pk not in taken
        ]
        ids = [a.pk for a in chosen]
        for account in results:
            account.pick_query = _chosen_query([*ids, account.pk])
        return render(
            request,
            "roadmap/escalations/partials/_account_results.html",
            {"results": results, "q": q, "escalation": escalation, "searched": bool(q.strip())},
        )
    context = _picker_context(request, chosen, _cited(request.GET))
    return render(request, "roadmap/escalations/partials/_picker_swap.html", context)


@org_view()
def escalation_preview(request: HttpRequest) -> HttpResponse:
    """The computed severity and its reasons for the accounts picked so far."""
    org = request.org  # type: ignore[attr-defined]
    chosen = selectors.accounts_for_pick(org=org, ids=request.GET.getlist("accounts"))
    return render(
        request,
        "roadmap/escalations/partials/_preview.html",
        _picker_context(request, chosen, _cited(request.GET)),
    )


# --- one escalation ---------------------------------------------------------------------------


def _get(request: HttpRequest, pk: int) -> Escalation:
    escalation = selectors.escalation_get(org=request.org, pk=pk)  # type: ignore[attr-defined]
    if escalation is None:
        raise Http404("No such escalation.")
    return escalation


def _detail_context(
    request: HttpRequest, escalation: Escalation, **forms: object
) -> dict[str, object]:
    org = request.org  # type: ignore[attr-defined]
    _decorate(org, [escalation])
    now = timezone.now()
    for account in escalation.account_list:
        account.renews_in = selectors.account_renewal_days(org, account, now)
    next_statuses = services.allowed_next_statuses(escalation.status)
    live = None
    if escalation.status != EscalationStatus.RESOLVED:
        # The stored reasons are as of the last computation; renewals come closer every day.
        live = services.severity_for(
            org=org,
            accounts=escalation.account_list,
            customer_cited=escalation.customer_cited,
            now=now,
        )
    return {
        "escalation": escalation,
        "reasons": list(live.reasons) if live else escalation.severity_reasons,
        "live_severity": live.severity if live else escalation.computed_severity,
        "override_form": forms.get("override_form")
        or OverrideForm(
            initial={"severity": escalation.severity, "reason": escalation.override_reason}
        ),
        "next_statuses": [(s, EscalationStatus(s).label) for s in next_statuses],
        "history": [
            (event, _history_text(event, org))
            for event in selectors.escalation_history(org=org, escalation=escalation)
        ],
        "can_manage": has_perm(request, Perm.ESCALATION_MANAGE),
        "can_edit_accounts": _can_edit_accounts(request)
        and escalation.status != EscalationStatus.RESOLVED,
        "response_days": services.response_days(org, escalation.severity),
        "nav": "escalations",
    }


def _label(status: object) -> str:
    try:
        return EscalationStatus(str(status)).label.lower()
    except ValueError:
        return str(status)


def _history_text(event, org: Organization) -> str:  # type: ignore[no-untyped-def]
    """One audit event of an escalation, as a sentence."""
    changes = event.changes or {}

    def pair(name: str) -> list[object]:
        value = changes.get(name)
        return value if isinstance(value, list) and len(value) == 2 else [None, value]

    if event.action == "escalation.raise":
        return f"Raised as {changes.get('severity', '?')}"
    if event.action == "escalation.override":
        old, new = pair("severity")
        reason = pair("override_reason")[1]
        text = f"Severity overridden: {old} → {new}" if old else "Override reason changed"
        return f"{text} — “{reason}”" if reason else text
    if event.action == "escalation.revert":
        old, new = pair("severity")
        return f"Override removed: {old} → {new}"
    if event.action == "escalation.recompute":
        old, new = pair("computed_severity")
        if old:
            return f"Recomputed: the rules now say {new} (were {old})"
        return "Recomputed: affected ARR or response time changed"
    if event.action == "escalation.status":
        old, new = pair("status")
        return f"Moved from {_label(old)} to {_label(new)}"
    if event.action == "escalation.account_add":
        return f"Added {changes.get('account', 'an account')}"
    if event.action == "escalation.account_remove":
        return f"Removed {changes.get('account', 'an account')}"
    return event.action


@org_view()
def escalation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    escalation = _get(request, pk)
    return render(request, "roadmap/escalations/detail.html", _detail_context(request, escalation))


@require_POST
@org_view(Perm.ESCALATION_MANAGE)
def escalation_override(request: HttpRequest, pk: int) -> HttpResponse:
    org, membership = request.org, request.membership  # type: ignore[attr-defined]
    escalation = _get(request, pk)
    form = OverrideForm(request.POST)
    if form.is_valid():
        try:
            updated = services.escalation_override_severity(
                org=org,
                actor=membership,
                escalation=escalation,
                severity=form.cleaned_data["severity"],
                reason=form.cleaned_data["reason"],
            )
        except ApplicationError as error:
            error.apply_to_form(form)
        else:
            if updated.override_reason:
                messages.success(request, f"Severity set to {updated.severity}; reason recorded.")
            else:
                messages.success(request, f"Severity follows the rules again: {updated.severity}.")
            return redirect_after_post(
                request, "roadmap:escalation-detail", org_slug=org.slug, pk=pk
            )
    context = _detail_context(request, escalation, override_form=form)
    template = (
        "roadmap/escalations/partials/_override_form.html"
        if request.htmx
        else "roadmap/escalations/detail.html"
    )
    return render(request, template, context, status=422)


@require_POST
@org_view(Perm.ESCALATION_MANAGE)
def escalation_status(request: HttpRequest, pk: int) -> HttpResponse:
    org, membership = request.org, request.membership  # type: ignore[attr-defined]
    escalation = _get(request, pk)
    form = StatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a status to move it to.")
    else:
        try:
            updated = services.escalation_set_status(
                org=org, actor=membership, escalation=escalation, status=form.cleaned_data["status"]
            )
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            told = (
                " The CSMs of the affected accounts have been told."
                if updated.status in services.CSM_NOTIFIED_STATUSES
                else ""
            )
            messages.success(request, f"Moved to {updated.get_status_display().lower()}.{told}")
    return redirect_after_post(request, "roadmap:escalation-detail", org_slug=org.slug, pk=pk)


@require_POST
@org_view(Perm.ESCALATION_MANAGE)
def escalation_recompute(request: HttpRequest, pk: int) -> HttpResponse:
    org, membership = request.org, request.membership  # type: ignore[attr-defined]
    escalation = _get(request, pk)
    try:
        updated = services.escalation_recompute(org=org, actor=membership, escalation=escalation)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        if updated.computed_severity != escalation.computed_severity:
            messages.success(
                request,
                f"Recomputed on today's figures: the rules now say {updated.computed_severity}.",
            )
        else:
            messages.success(
                request, f"Recomputed on today's figures: still {updated.computed_severity}."
            )
    return redirect_after_post(request, "roadmap:escalation-detail", org_slug=org.slug, pk=pk)


def _account_or_404(request: HttpRequest, account_pk: object) -> Account:
    try:
        pk = int(str(account_pk))
    except (TypeError, ValueError) as exc:
        raise Http404("No such account.") from exc
    return get_object_or_404(Account.objects.for_org(request.org), pk=pk)  # type: ignore[attr-defined]


@require_POST
@org_view()
def escalation_account_add(request: HttpRequest, pk: int) -> HttpResponse:
    org, membership = request.org, request.membership  # type: ignore[attr-defined]
    escalation = _get(request, pk)
    if not _can_edit_accounts(request):
        raise PermissionDenied("Your role cannot change an escalation's accounts.")
    if not request.POST.get("account"):
        messages.error(request, "Pick an account to add.")
        return redirect("roadmap:escalation-detail", org_slug=org.slug, pk=pk)
    account = _account_or_404(request, request.POST.get("account"))
    try:
        updated = services.escalation_account_add(
            org=org, actor=membership, escalation=escalation, account=account
        )
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Added {account.name}. {_severity_note(escalation, updated)}")
    return redirect_after_post(request, "roadmap:escalation-detail", org_slug=org.slug, pk=pk)


@require_POST
@org_view()
def escalation_account_remove(request: HttpRequest, pk: int, account_pk: int) -> HttpResponse:
    org, membership = request.org, request.membership  # type: ignore[attr-defined]
    escalation = _get(request, pk)
    account = _account_or_404(request, account_pk)
    if not _can_edit_accounts(request):
        raise PermissionDenied("Your role cannot change an escalation's accounts.")
    try:
        updated = services.escalation_account_remove(
            org=org, actor=membership, escalation=escalation, account=account
        )
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Removed {account.name}. {_severity_note(escalation, updated)}")
    return redirect_after_post(request, "roadmap:escalation-detail", org_slug=org.slug, pk=pk)


def _severity_note(before: Escalation, after: Escalation) -> str:
    if after.computed_severity == before.computed_severity:
        return f"The rules still say {after.computed_severity}."
    note = f"The rules now say {after.computed_severity} (was {before.computed_severity})."
    if after.override_reason:
        note += f" The override to {after.severity} stays in force."
    return note


urlpatterns = [
    path("escalations/", escalation_list, name="escalation-list"),
    path("escalations/new/", escalation_raise, name="escalation-raise"),
    path("escalations/review/", escalation_review, name="escalation-review"),
    path("escalations/accounts/", escalation_accounts, name="escalation-accounts"),
    path("escalations/preview/", escalation_preview, name="escalation-preview"),
    path("escalations/<int:pk>/", escalation_detail, name="escalation-detail"),
    path("escalations/<int:pk>/override/", escalation_override, name="escalation-override"),
    path("escalations/<int:pk>/status/", escalation_status, name="escalation-status"),
    path("escalations/<int:pk>/recompute/", escalation_recompute, name="escalation-recompute"),
    path(
        "escalations/<int:pk>/accounts/add/",
        escalation_account_add,
        name="escalation-account-add",
    ),
    path(
        "escalations/<int:pk>/accounts/<int:account_pk>/remove/",
        escalation_account_remove,
        name="escalation-account-remove",
    ),
]
