"""Logging in and out, passwords, and accepting an invitation.

These pages live outside ``/o/<org_slug>/``: a person logging in, resetting a password or
accepting an invitation is not (yet) acting inside an organization.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse_lazy
from django.views.decorators.http import require_http_methods

from alignment import selectors
from alignment.decorators import client_ip
from alignment.errors import ApplicationError
from alignment.forms_people import AcceptInvitationForm, LoginForm
from alignment.models import Organization, User
from alignment.services import members as member_services
from alignment.services.audit import audit_source
from alignment.tenancy import tenant_context


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    """POST only (Django's default): a link or an image tag cannot log anybody out."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().post(request, *args, **kwargs)
        messages.info(request, "You have been logged out.")
        return response


class PasswordResetView(auth_views.PasswordResetView):
    # The link's host comes from the request (Django checks it against ALLOWED_HOSTS).
    template_name = "registration/password_reset_form.html"
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"
    success_url = reverse_lazy("password_reset_done")


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "registration/password_change_form.html"
    success_url = reverse_lazy("password_change_done")


# --- invitations -----------------------------------------------------------------------------


def _invalid_invitation(request: HttpRequest) -> HttpResponse:
    return render(request, "alignment/invite_accept.html", {"state": "invalid"}, status=404)


@require_http_methods(["GET", "POST"])
def invite_accept(request: HttpRequest, org_slug: str, token: str) -> HttpResponse:
    """Join an organization from an emailed link.

    Not under ``org_view``: the person is not a member yet. The organization comes from the
    slug, the invitation from the token's hash inside that organization. Every way a link
    can be bad (unknown organization or token, expired, revoked, used) gets the same page,
    so the link reveals nothing.
    """
    org = Organization.objects.filter(slug=org_slug).first()
    if org is None:
        return _invalid_invitation(request)
    user = request.user if request.user.is_authenticated else None
    joined_user: User | None = None
    with tenant_context(org), audit_source("web", ip_address=client_ip(request)):
        invitation = selectors.invitation_get_pending(org=org, token=token)
        if invitation is None:
            return _invalid_invitation(request)
        existing = User.objects.filter(email__iexact=invitation.email).first()
        context: dict[str, Any] = {"org": org, "invitation": invitation}
        if user is not None and user.email.lower() != invitation.email.lower():
            return render(
                request,
                "alignment/invite_accept.html",
                {**context, "state": "wrong_user"},
                status=403,
            )
        if existing is not None and user is None:
            return render(request, "alignment/invite_accept.html", {**context, "state": "login"})
        if existing is not None:
            if request.method == "POST":
                try:
                    member_services.invitation_accept(
                        org=org, token=token, user_or_new_user_data=existing
                    )
                except ApplicationError as exc:
                    messages.error(request, exc.message)
                    return redirect("root")
                joined_user = existing
            else:
                return render(request, "alignment/invite_accept.html", {**context, "state": "join"})
        else:
            form = AcceptInvitationForm(
                request.POST if request.method == "POST" else None, email=invitation.email
            )
            if request.method == "POST" and form.is_valid():
                data = member_services.NewUserData(
                    full_name=form.cleaned_data["full_name"],
                    password=form.cleaned_data["password"],
                )
                try:
                    membership = member_services.invitation_accept(
                        org=org, token=token, user_or_new_user_data=data
                    )
                except ApplicationError as exc:
                    exc.apply_to_form(form)
                else:
                    joined_user = membership.user
            if joined_user is None:
                return render(
                    request,
                    "alignment/invite_accept.html",
                    {**context, "state": "signup", "form": form},
                )
    # Outside the organization's transaction: the membership is committed before the login
    # and the redirect that relies on it.
    if user is None:
        login(request, joined_user, backend="django.contrib.auth.backends.ModelBackend")
    messages.success(request, f"Welcome to {org.name}.")
    return redirect("alignment:home", org_slug=org.slug)


urlpatterns = [
    path("login/", LoginView.as_view(), name="login"),
    path("logout/", LogoutView.as_view(), name="logout"),
    path("password/change/", PasswordChangeView.as_view(), name="password_change"),
    path(
        "password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(
            template_name="registration/password_change_done.html"
        ),
        name="password_change_done",
    ),
    path("password/reset/", PasswordResetView.as_view(), name="password_reset"),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(
            template_name="registration/password_reset_done.html"
        ),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="registration/password_reset_confirm.html"
        ),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="registration/password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
    path("invite/<slug:org_slug>/<str:token>/", invite_accept, name="invite-accept"),
]
