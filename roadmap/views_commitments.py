"""Commitment pages: ask, the PM's approvals, approve/decline (htmx), the promises list,
one promise, withdraw, and "customer informed" which clears an at-risk flag."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_POST

from alignment.decorators import has_perm, org_view
from alignment.errors import ApplicationError
from alignment.http import redirect_after_post
from alignment.models import Account
from alignment.permissions import Perm
from roadmap import selectors_commitments as selectors
from roadmap import services_commitments as services
from roadmap import wording
from roadmap.forms_commitments import (
    ApproveForm,
    CommitmentRequestForm,
    DeclineForm,
    InformedForm,
    PromiseFilterForm,
)
from roadmap.models import Commitment, CommitmentStatus, Tier, Visibility

PAGE_SIZE = 50


def _htmx(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


# --- Ask -------------------------------------------------------------------------------------


@org_view(Perm.COMMITMENT_REQUEST)
def commitment_request(request: HttpRequest) -> HttpResponse:
    """Ask to tell one account something about one item. From an account page the account
    is preset (``?account=``); from an item page the item is (``?item=``)."""
    org, me = request.org, request.membership  # type: ignore[attr-defined]
    source = request.POST if request.method == "POST" else request.GET
    account = None
    account_id = _int(source.get("account")) if request.method == "GET" else None
    if request.method == "POST" and request.POST.get("account_preset"):
        account_id = _int(request.POST.get("account"))
    if account_id is not None:
        account = Account.objects.for_org(org).filter(pk=account_id).first()
        if account is None or not services.commitment_can_request_for(actor=me, account=account):
            account = None
    initial: dict[str, Any] = {"conversation_date": timezone.localdate(timezone=org.tzinfo)}
    if request.method == "GET" and _int(request.GET.get("item")):
        initial["item"] = _int(request.GET.get("item"))
    form = CommitmentRequestForm(
        request.POST if request.method == "POST" else None,
        org=org,
        actor=me,
        account=account,
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            commitment = services.commitment_request(
                org=org,
                actor=me,
                account=data["account"],
                item=data["item"],
                context=data["context"],
                conversation_date=data["conversation_date"],
                proposed_wording=data["proposed_wording"],
                include_quarter=data["include_quarter"],
            )
        except ApplicationError as error:
            error.apply_to_form(form)
        else:
            messages.success(
                request,
                f"Asked for sign-off on “{commitment.item.title}” for "
                f"{commitment.account.name}. Nothing is quotable until it is approved.",
            )
            return redirect_after_post(
                request, "roadmap:commitment-detail", org_slug=org.slug, pk=commitment.pk
            )
    status = 422 if request.method == "POST" else 200
    items = list(form.fields["item"].queryset)
    for item in items:
        item.csm_sentence = wording.csm_sentence(
            item.tier, item.target_quarter, item.delivery_status
        )
    return render(
        request,
        "roadmap/commitments/request.html",
        {
            "nav": "promises",
            "form": form,
            "account": account,
            "items": items,
            "nda": Visibility.NDA,
            "exploring": Tier.EXPLORING,
            "exploring_warning": wording.EXPLORING_WARNING,
        },
        status=status,
    )


# --- Lists -----------------------------------------------------------------------------------


@org_view()
def promise_list(request: HttpRequest) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    filters = PromiseFilterForm(request.GET or None, org=org)
    cleaned = filters.cleaned_data if filters.is_valid() else {}
    holder = cleaned.get("holder")
    commitments = selectors.commitment_list(
        org=org,
        holder=holder.pk if holder else None,
        status=cleaned.get("status", ""),
        at_risk=bool(cleaned.get("at_risk")),
    )
    page = Paginator(commitments, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "nav": "promises",
        "page": page,
        "filters": filters,
        "filtered": bool(holder or cleaned.get("status") or cleaned.get("at_risk")),
        "can_request": has_perm(request, Perm.COMMITMENT_REQUEST),
    }
    if _htmx(request):
        return render(request, "roadmap/commitments/partials/_promise_results.html", context)
    return render(request, "roadmap/commitments/list.html", context)


@org_view(Perm.COMMITMENT_DECIDE)
def approval_list(request: HttpRequest) -> HttpResponse:
    org, me = request.org, request.membership  # type: ignore[attr-defined]
    pending = list(selectors.commitment_pending_for(org=org, decider=me)[:100])
    cards = [_card(request, c) for c in pending]
    return render(
        request,
        "roadmap/commitments/approvals.html",
        {"nav": "approvals", "cards": cards},
    )


# --- One promise -----------------------------------------------------------------------------


def _card(
    request: HttpRequest,
    commitment: Commitment,
    *,
    approve_form: ApproveForm | None = None,
    decline_form: DeclineForm | None = None,
    error: str = "",
) -> dict[str, Any]:
    """What the decision card needs: the request, the item's current tier, the forms."""
    me = request.membership  # type: ignore[attr-defined]
    item = commitment.item
    suggested = commitment.proposed_wording or wording.csm_sentence(
        item.tier, item.target_quarter if commitment.include_quarter else "", item.delivery_status
    )
    return {
        "c": commitment,
        "can_decide": commitment.status == CommitmentStatus.REQUESTED
        and services.commitment_can_decide(actor=me, item=item),
        "approve_form": approve_form or ApproveForm(initial={"approved_wording": suggested}),
        "decline_form": decline_form or DeclineForm(),
        "error": error,
        "quarter_blocked": commitment.include_quarter and item.tier != Tier.COMMITTED,
    }


def _commitment(request: HttpRequest, pk: int) -> Commitment:
    return selectors.commitment_get(org=request.org, pk=pk)  # type: ignore[attr-defined]


def _detail(
    request: HttpRequest,
    commitment: Commitment,
    *,
    status: int = 200,
    informed_form: InformedForm | None = None,
    **card: Any,
) -> HttpResponse:
    org, me = request.org, request.membership  # type: ignore[attr-defined]
    today = timezone.localdate(timezone=org.tzinfo)
    return render(
        request,
        "roadmap/commitments/detail.html",
        {
            "nav": "promises",
            "card": _card(request, commitment, **card),
            "c": commitment,
            "can_manage": services.commitment_can_manage(actor=me, commitment=commitment),
            "can_withdraw": commitment.status == CommitmentStatus.REQUESTED
            and (me.pk == commitment.requested_by_id or me.role in services.ANY_ACCOUNT_ROLES),
            "informed_form": informed_form or InformedForm(initial={"informed_on": today}),
        },
        status=status,
    )


@org_view()
def commitment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, _commitment(request, pk))


def _decided(request: HttpRequest, commitment: Commitment, message: str) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    messages.success(request, message)
    if _htmx(request) and request.POST.get("from") == "approvals":
        commitment = _commitment(request, commitment.pk)
        return render(
            request,
            "roadmap/commitments/partials/_decision_card.html",
            {"card": _card(request, commitment), "from_list": True},
        )
    return redirect_after_post(
        request, "roadmap:commitment-detail", org_slug=org.slug, pk=commitment.pk
    )


def _decision_error(
    request: HttpRequest, commitment: Commitment, error: ApplicationError | None, **forms: Any
) -> HttpResponse:
    message = error.message if error else "Check the form."
    status = 403 if error and error.code == "permission_denied" else 422
    if _htmx(request):
        # htmx swaps 422 only: a refusal is shown in place like any other error.
        return render(
            request,
            "roadmap/commitments/partials/_decision_card.html",
            {
                "card": _card(request, commitment, error=message, **forms),
                "from_list": request.POST.get("from") == "approvals",
            },
            status=422,
        )
    return _detail(request, commitment, status=status, error=message, **forms)


@require_POST
@org_view(Perm.COMMITMENT_DECIDE)
def commitment_approve(request: HttpRequest, pk: int) -> HttpResponse:
    org, me = request.org, request.membership  # type: ignore[attr-defined]
    commitment = _commitment(request, pk)
    form = ApproveForm(request.POST)
    if not form.is_valid():
        return _decision_error(request, commitment, None, approve_form=form)
    try:
        commitment = services.commitment_approve(
            org=org,
            actor=me,
            commitment=commitment,
            approved_wording=form.cleaned_data["approved_wording"],
        )
    except ApplicationError as error:
        error.apply_to_form(form)
        return _decision_error(request, commitment, error, approve_form=form)
    return _decided(
        request,
        commitment,
        f"Approved. {commitment.requested_by.display_name if commitment.requested_by else 'The CSM'}"
        " was told the exact wording.",
    )


@require_POST
@org_view(Perm.COMMITMENT_DECIDE)
def commitment_decline(request: HttpRequest, pk: int) -> HttpResponse:
    org, me = request.org, request.membership  # type: ignore[attr-defined]
    commitment = _commitment(request, pk)
    form = DeclineForm(request.POST)
    if not form.is_valid():
        return _decision_error(request, commitment, None, decline_form=form)
    try:
        commitment = services.commitment_decline(
            org=org, actor=me, commitment=commitment, reason=form.cleaned_data["decline_reason"]
        )
    except ApplicationError as error:
        error.apply_to_form(form)
        return _decision_error(request, commitment, error, decline_form=form)
    return _decided(request, commitment, "Declined; the CSM was told why.")


@require_POST
@org_view(Perm.COMMITMENT_REQUEST)
def commitment_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    org, me = request.org, request.membership  # type: ignore[attr-defined]
    commitment = _commitment(request, pk)
    try:
        services.commitment_withdraw(org=org, actor=me, commitment=commitment)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Request withdrawn.")
    return redirect_after_post(request, "roadmap:commitment-detail", org_slug=org.slug, pk=pk)


@require_POST
@org_view(Perm.COMMITMENT_REQUEST)
def commitment_informed(request: HttpRequest, pk: int) -> HttpResponse:
    org, me = request.org, request.membership  # type: ignore[attr-defined]
    commitment = _commitment(request, pk)
    form = InformedForm(request.POST)
    if form.is_valid():
        try:
            services.commitment_record_customer_informed(
                org=org,
                actor=me,
                commitment=commitment,
                informed_on=form.cleaned_data["informed_on"],
                note=form.cleaned_data["note"],
            )
        except ApplicationError as error:
            error.apply_to_form(form)
            if error.code == "permission_denied":
                return _detail(request, commitment, status=403, informed_form=form)
        else:
            messages.success(
                request,
                f"Recorded; the promise to {commitment.account.name} is no longer at risk.",
            )
            return redirect_after_post(
                request, "roadmap:commitment-detail", org_slug=org.slug, pk=pk
            )
    return _detail(request, commitment, status=422, informed_form=form)


urlpatterns = [
    path("promises/", promise_list, name="promise-list"),
    path("promises/approvals/", approval_list, name="approval-list"),
    path("promises/new/", commitment_request, name="commitment-request"),
    path("promises/<int:pk>/", commitment_detail, name="commitment-detail"),
    path("promises/<int:pk>/approve/", commitment_approve, name="commitment-approve"),
    path("promises/<int:pk>/decline/", commitment_decline, name="commitment-decline"),
    path("promises/<int:pk>/withdraw/", commitment_withdraw, name="commitment-withdraw"),
    path("promises/<int:pk>/informed/", commitment_informed, name="commitment-informed"),
]
