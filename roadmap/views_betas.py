"""Beta program pages: the list, one beta with its participants and tagged feedback, the
retrospective that closes it, and general availability of its item."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import path
from django.views.decorators.http import require_http_methods, require_POST

from alignment.decorators import has_perm, org_view
from alignment.errors import ApplicationError
from alignment.http import redirect_after_post, render_form
from alignment.permissions import Perm
from feedback.models import Feedback
from roadmap import selectors_releases as selectors
from roadmap import services_betas as services
from roadmap.forms_releases import BetaForm, ParticipantForm, RetroForm
from roadmap.models import BetaParticipant, BetaProgram, BetaStatus, Delivery, RoadmapItem

CANDIDATES = 25


def _can_manage(request: HttpRequest) -> bool:
    return has_perm(request, Perm.BETA_MANAGE)


@org_view()
def beta_list(request: HttpRequest) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    return render(
        request,
        "roadmap/betas/list.html",
        {"betas": selectors.beta_list(org=org), "can_manage": _can_manage(request), "nav": "betas"},
    )


@require_http_methods(["GET", "POST"])
@org_view(Perm.BETA_MANAGE)
def beta_create(request: HttpRequest) -> HttpResponse:
    org, membership = request.org, request.membership  # type: ignore[attr-defined]
    initial = {"cs_owner": None, "pm": None}
    item_id = request.GET.get("item", "")
    if item_id.isdigit():
        initial["item"] = RoadmapItem.objects.for_org(org).filter(pk=item_id).first()
    form = BetaForm(request.POST or None, org=org, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            beta = services.beta_create(
                org=org,
                actor=membership,
                data=services.BetaData(
                    item=data["item"],
                    name=data["name"],
                    cs_owner=data["cs_owner"],
                    pm=data["pm"],
                    starts_on=data["starts_on"],
                    ends_on=data["ends_on"],
                ),
            )
        except ApplicationError as error:
            error.apply_to_form(form)
        else:
            messages.success(request, f"Beta “{beta.name}” created. Add its participants next.")
            return redirect_after_post(
                request, "roadmap:beta-detail", org_slug=org.slug, pk=beta.pk
            )
    return render_form(
        request,
        form,
        page="roadmap/betas/form.html",
        partial="roadmap/betas/partials/_form.html",
        context={"nav": "betas"},
    )


def _candidates(request: HttpRequest, beta: BetaProgram) -> list:
    org = request.org  # type: ignore[attr-defined]
    q = (request.GET.get("q") or request.POST.get("q") or "").strip()
    accounts = selectors.beta_account_choices(org=org, beta=beta).select_related("csm__user")
    if q:
        accounts = accounts.filter(Q(name__icontains=q) | Q(external_id__iexact=q))
    return list(accounts.order_by("-arr", "name")[:CANDIDATES])


def _participants_context(
    request: HttpRequest, beta: BetaProgram, form: ParticipantForm | None = None
) -> dict:
    org = request.org  # type: ignore[attr-defined]
    return {
        "beta": beta,
        "participants": selectors.beta_participants(org=org, beta=beta),
        "participant_form": form or ParticipantForm(org=org, beta=beta),
        "candidates": _candidates(request, beta) if beta.status == BetaStatus.OPEN else [],
        "q": (request.GET.get("q") or request.POST.get("q") or "").strip(),
        "can_manage": _can_manage(request),
    }


@org_view()
def beta_detail(request: HttpRequest, pk: int) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    beta = selectors.beta_get(org=org, pk=pk)
    context = _participants_context(request, beta)
    if request.htmx and request.GET.get("candidates"):  # type: ignore[attr-defined]
        return render(request, "roadmap/betas/partials/_candidates.html", context)
    can_manage = context["can_manage"]
    context.update(
        {
            "feedback": selectors.beta_feedback(org=org, beta=beta),
            "taggable": selectors.beta_taggable_feedback(org=org, beta=beta)
            if can_manage and beta.status == BetaStatus.OPEN
            else [],
            "can_mark_ga": can_manage
            and beta.item.delivery_status
            not in (Delivery.GA, Delivery.SHIPPED, Delivery.CANCELLED),
            "nav": "betas",
        }
    )
    return render(request, "roadmap/betas/detail.html", context)


@require_POST
@org_view(Perm.BETA_MANAGE)
def beta_participant_add(request: HttpRequest, pk: int) -> HttpResponse:
    org, membership = request.org, request.membership  # type: ignore[attr-defined]
    beta = selectors.beta_get(org=org, pk=pk)
    form = ParticipantForm(request.POST, org=org, beta=beta)
    status = 200
    if form.is_valid():
        data = form.cleaned_data
        try:
            participant = services.beta_participant_add(
                org=org,
                actor=membership,
                beta=beta,
                account=data["account"],
                reason=data["reason"],
                note=data["note"],
            )
        except ApplicationError as error:
            error.apply_to_form(form)
            status = 422
        else:
            if not request.htmx:  # type: ignore[attr-defined]
                messages.success(request, f"{participant.account.name} joined the beta.")
                return redirect_after_post(request, "roadmap:beta-detail", org_slug=org.slug, pk=pk)
            form = None  # a fresh form after success
    else:
        status = 422
    if not request.htmx:  # type: ignore[attr-defined]
        for errors in form.errors.values():  # type: ignore[union-attr]
            messages.error(request, str(errors[0]))
            break
        return redirect_after_post(request, "roadmap:beta-detail", org_slug=org.slug, pk=pk)
    return render(
        request,
        "roadmap/betas/partials/_participants.html",
        _participants_context(request, beta, form),
        status=status,
    )


@require_POST
@org_view(Perm.BETA_MANAGE)
def beta_participant_remove(request: HttpRequest, pk: int, participant_pk: int) -> HttpResponse:
    org, membership = request.org, request.membership  # type: ignore[attr-defined]
    beta = selectors.beta_get(org=org, pk=pk)
    participant = get_object_or_404(
        BetaParticipant.objects.for_org(org).select_related("account"),
        pk=participant_pk,
        beta=beta,
    )
    status = 200
    try:
        services.beta_participant_remove(
            org=org, actor=membership, beta=beta, participant=participant
        )
    except ApplicationError as error:
        messages.error(request, error.message)
        status = 422
    else:
        if not request.htmx:  # type: ignore[attr-defined]
            messages.success(request, f"{participant.account.name} left the beta.")
    if not request.htmx:  # type: ignore[attr-defined]
        return redirect_after_post(request, "roadmap:beta-detail", org_slug=org.slug, pk=pk)
    return render(
        request,
        "roadmap/betas/partials/_participants.html",
        _participants_context(request, beta),
        status=status,
    )


@require_POST
@org_view(Perm.BETA_MANAGE)
def beta_feedback_tag(request: HttpRequest, pk: int) -> HttpResponse:
    org, membership = request.org, request.membership  # type: ignore[attr-defined]
    beta = selectors.beta_get(org=org, pk=pk)
    raw = request.POST.get("feedback", "")
    feedback = (
        Feedback.objects.for_org(org).select_related("account").filter(pk=raw).first()
        if raw.isdigit()
        else None
    )
    if feedback is None:
        messages.error(request, "Choose feedback from one of this beta's participants.")
    else:
        try:
            services.beta_feedback_tag(org=org, actor=membership, beta=beta, feedback=feedback)
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"{feedback.account.name}'s feedback is tagged to this beta.")
    return redirect_after_post(request, "roadmap:beta-detail", org_slug=org.slug, pk=pk)


@require_POST
@org_view(Perm.BETA_MANAGE)
def beta_feedback_untag(request: HttpRequest, pk: int, feedback_pk: int) -> HttpResponse:
    org, membership = request.org, request.membership  # type: ignore[attr-defined]
    beta = selectors.beta_get(org=org, pk=pk)
    feedback = get_object_or_404(
        Feedback.objects.for_org(org).select_related("account"), pk=feedback_pk, beta=beta
    )
    try:
        services.beta_feedback_untag(org=org, actor=membership, beta=beta, feedback=feedback)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"{feedback.account.name}'s feedback is no longer tagged.")
    return redirect_after_post(request, "roadmap:beta-detail", org_slug=org.slug, pk=pk)


@require_http_methods(["GET", "POST"])
@org_view(Perm.BETA_MANAGE)
def beta_close(request: HttpRequest, pk: int) -> HttpResponse:
    org, membership = request.org, request.membership  # type: ignore[attr-defined]
    beta = selectors.beta_get(org=org, pk=pk)
    if beta.status != BetaStatus.OPEN:
        messages.info(request, "This beta is already closed.")
        return redirect_after_post(request, "roadmap:beta-detail", org_slug=org.slug, pk=pk)
    form = RetroForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.beta_close(
                org=org,
                actor=membership,
                beta=beta,
                actioned=data["retro_actioned"],
                not_actioned=data["retro_not_actioned"],
                why=data["retro_why"],
            )
        except ApplicationError as error:
            error.apply_to_form(form)
        else:
            messages.success(
                request, f"“{beta.name}” closed; every participant's CSM has the retrospective."
            )
            return redirect_after_post(request, "roadmap:beta-detail", org_slug=org.slug, pk=pk)
    return render_form(
        request,
        form,
        page="roadmap/betas/close.html",
        partial="roadmap/betas/partials/_close_form.html",
        context={
            "beta": beta,
            "participants": selectors.beta_participants(org=org, beta=beta),
            "nav": "betas",
        },
    )


@require_POST
@org_view(Perm.BETA_MANAGE)
def beta_mark_ga(request: HttpRequest, pk: int) -> HttpResponse:
    org, membership = request.org, request.membership  # type: ignore[attr-defined]
    beta = selectors.beta_get(org=org, pk=pk)
    try:
        result = services.roadmap_item_mark_ga(org=org, actor=membership, item=beta.item, beta=beta)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        told = len(result.beta_csms) + len(result.other_csms)
        messages.success(
            request,
            f"“{beta.item.title}” is generally available; {told} CSM{'s' if told != 1 else ''} "
            f"told, participants' CSMs first.",
        )
    return redirect_after_post(request, "roadmap:beta-detail", org_slug=org.slug, pk=pk)


urlpatterns = [
    path("betas/", beta_list, name="beta-list"),
    path("betas/new/", beta_create, name="beta-create"),
    path("betas/<int:pk>/", beta_detail, name="beta-detail"),
    path("betas/<int:pk>/participants/", beta_participant_add, name="beta-participant-add"),
    path(
        "betas/<int:pk>/participants/<int:participant_pk>/remove/",
        beta_participant_remove,
        name="beta-participant-remove",
    ),
    path("betas/<int:pk>/feedback/", beta_feedback_tag, name="beta-feedback-tag"),
    path(
        "betas/<int:pk>/feedback/<int:feedback_pk>/untag/",
        beta_feedback_untag,
        name="beta-feedback-untag",
    ),
    path("betas/<int:pk>/close/", beta_close, name="beta-close"),
    path("betas/<int:pk>/ga/", beta_mark_ga, name="beta-mark-ga"),
]
