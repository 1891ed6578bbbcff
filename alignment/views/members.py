"""The members page: who is in the organization, pending invitations, and admin actions.

Everyone sees the list; only ``Perm.MEMBER_MANAGE`` (admins) may act. The invite form and
the role selects submit with htmx and swap their own fragment; every action also works as
a plain form post that redirects back with a message.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from alignment import selectors
from alignment.decorators import has_perm, org_view
from alignment.errors import ApplicationError
from alignment.forms_people import InviteForm, RoleForm
from alignment.models import Invitation, Membership, Role
from alignment.permissions import Perm
from alignment.services import members as member_services


def _list_params(request: HttpRequest) -> dict[str, str]:
    sort = request.GET.get("sort", "name")
    status = request.GET.get("status", "all")
    return {
        "sort": sort if sort in selectors.MEMBER_SORTS else "name",
        "status": status if status in selectors.MEMBER_STATUSES else "all",
        "q": request.GET.get("q", "").strip()[:100],
    }


def _panel_context(request: HttpRequest, form: InviteForm | None = None) -> dict[str, Any]:
    org = request.org  # type: ignore[attr-defined]
    return {
        "invitations": list(selectors.invitation_list_open(org=org)),
        "invite_form": form or InviteForm(),
        "can_manage": has_perm(request, Perm.MEMBER_MANAGE),
    }


def _page_context(request: HttpRequest, form: InviteForm | None = None) -> dict[str, Any]:
    org = request.org  # type: ignore[attr-defined]
    params = _list_params(request)
    members = list(
        selectors.membership_list(
            org=org, sort=params["sort"], status=params["status"], query=params["q"]
        )
    )
    return {
        **_panel_context(request, form),
        "members": members,
        "params": params,
        "filtered": params["status"] != "all" or bool(params["q"]),
        "role_choices": Role.choices,
        "nav": "members",
    }


@org_view(Perm.MEMBER_VIEW)
def member_list(request: HttpRequest) -> HttpResponse:
    context = _page_context(request)
    if request.htmx:
        return render(request, "alignment/members/partials/_member_table.html", context)
    return render(request, "alignment/members/member_list.html", context)


@org_view(Perm.MEMBER_MANAGE)
def member_invite(request: HttpRequest) -> HttpResponse:
    org, actor = request.org, request.membership  # type: ignore[attr-defined]
    form = InviteForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            invitation = member_services.member_invite(
                org=org,
                actor=actor,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
            )
        except ApplicationError as exc:
            exc.apply_to_form(form)
        else:
            messages.success(
                request,
                f"Invitation sent to {invitation.email} as {invitation.get_role_display()}.",
            )
            if request.htmx:
                return render(
                    request,
                    "alignment/members/partials/_invite_panel.html",
                    {**_panel_context(request), "show_messages": True},
                )
            return redirect("alignment:member-list", org_slug=org.slug)
    if request.htmx:
        return render(
            request, "alignment/members/partials/_invite_panel.html", _panel_context(request, form)
        )
    return render(
        request,
        "alignment/members/member_invite.html",
        {"invite_form": form, "nav": "members"},
    )


def _member_row(
    request: HttpRequest, membership: Membership, *, note: str = "", error: str = ""
) -> HttpResponse:
    return render(
        request,
        "alignment/members/partials/_member_row.html",
        {
            "m": membership,
            "can_manage": True,
            "role_choices": Role.choices,
            "row_note": note,
            "row_error": error,
        },
    )


@org_view(Perm.MEMBER_MANAGE)
@require_POST
def member_role(request: HttpRequest, pk: int) -> HttpResponse:
    org, actor = request.org, request.membership  # type: ignore[attr-defined]
    membership = get_object_or_404(Membership.objects.for_org(org).select_related("user"), pk=pk)
    form = RoleForm(request.POST)
    error = note = ""
    if not form.is_valid():
        error = "Choose a valid role."
    else:
        try:
            old_role = membership.get_role_display()
            membership = member_services.member_change_role(
                org=org, actor=actor, membership=membership, role=form.cleaned_data["role"]
            )
        except ApplicationError as exc:
            error = exc.message
            membership.refresh_from_db()
        else:
            new_role = membership.get_role_display()
            note = (
                f"Role changed to {new_role}."
                if new_role != old_role
                else f"Role is already {new_role}."
            )
    if request.htmx:
        return _member_row(request, membership, note=note, error=error)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, f"{membership.display_name}: {note}")
    return redirect("alignment:member-list", org_slug=org.slug)


def _member_action(request: HttpRequest, pk: int, service: Any, done: str) -> HttpResponse:
    org, actor = request.org, request.membership  # type: ignore[attr-defined]
    membership = get_object_or_404(Membership.objects.for_org(org).select_related("user"), pk=pk)
    try:
        service(org=org, actor=actor, membership=membership)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{membership.display_name} {done}")
    return redirect("alignment:member-list", org_slug=org.slug)


@org_view(Perm.MEMBER_MANAGE)
@require_POST
def member_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    return _member_action(
        request,
        pk,
        member_services.member_deactivate,
        "was deactivated and logged out. Their history stays in Seam.",
    )


@org_view(Perm.MEMBER_MANAGE)
@require_POST
def member_reactivate(request: HttpRequest, pk: int) -> HttpResponse:
    return _member_action(
        request, pk, member_services.member_reactivate, "was reactivated and can log in again."
    )


def _invitation_action(request: HttpRequest, pk: int, service: Any, done: str) -> HttpResponse:
    org, actor = request.org, request.membership  # type: ignore[attr-defined]
    invitation = get_object_or_404(Invitation.objects.for_org(org), pk=pk)
    try:
        service(org=org, actor=actor, invitation=invitation)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done.format(email=invitation.email))
    return redirect("alignment:member-list", org_slug=org.slug)


@org_view(Perm.MEMBER_MANAGE)
@require_POST
def invitation_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    return _invitation_action(
        request,
        pk,
        member_services.invitation_revoke,
        "The invitation to {email} was revoked; its link no longer works.",
    )


@org_view(Perm.MEMBER_MANAGE)
@require_POST
def invitation_resend(request: HttpRequest, pk: int) -> HttpResponse:
    return _invitation_action(
        request,
        pk,
        member_services.invitation_resend,
        "A new invitation link was sent to {email}; the previous link no longer works.",
    )


urlpatterns = [
    path("members/", member_list, name="member-list"),
    path("members/invite/", member_invite, name="member-invite"),
    path("members/<int:pk>/role/", member_role, name="member-role"),
    path("members/<int:pk>/deactivate/", member_deactivate, name="member-deactivate"),
    path("members/<int:pk>/reactivate/", member_reactivate, name="member-reactivate"),
    path("invitations/<int:pk>/revoke/", invitation_revoke, name="invitation-revoke"),
    path("invitations/<int:pk>/resend/", invitation_resend, name="invitation-resend"),
]
