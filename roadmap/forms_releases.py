"""Forms of releases and beta programs. Choices come from the organization only; the business
rules (the brief, the 14-day notice, the retrospective) live in the services."""

from __future__ import annotations

from django import forms

from alignment.models import Account, Membership, Organization
from roadmap import selectors_releases as selectors
from roadmap.models import RoadmapItem, SelectionReason
from roadmap.services_betas import CS_OWNER_ROLES, PM_ROLES

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class MemberChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Membership) -> str:  # type: ignore[override]
        return f"{obj.user.display_name} · {obj.get_role_display()}"


class ReleaseForm(forms.Form):
    name = forms.CharField(max_length=200)
    release_date = forms.DateField(
        widget=DATE,
        help_text="Customer-facing releases reach CS at least 14 days before this date.",
    )
    customer_facing = forms.BooleanField(
        label="Customer-facing impact",
        required=False,
        initial=True,
        help_text="Customers will notice it: CS needs the brief and two weeks' notice.",
    )
    items = forms.ModelMultipleChoiceField(
        label="Roadmap items it ships",
        queryset=RoadmapItem.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Choose roadmap items of this organization."},
    )
    messaging = forms.CharField(
        label="Approved messaging",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The words CSMs may use with customers. Required to announce.",
    )
    talking_points = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One per line: the value, who benefits, how to turn it on.",
    )
    do_not_say = forms.CharField(
        label="What not to say",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Claims, dates or comparisons CSMs must avoid.",
    )

    def __init__(
        self, *args, org: Organization, include: list[int] | None = None, **kwargs
    ) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        queryset = selectors.release_item_choices(org=org)
        if include:
            # Items already in the release stay choosable even once shipped elsewhere.
            queryset = (
                queryset | RoadmapItem.objects.for_org(org).filter(pk__in=include)
            ).order_by("title")
        self.fields["items"].queryset = queryset


class AnnounceForm(forms.Form):
    late_notice_reason = forms.CharField(
        label="Why is the notice late?",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Required when a customer-facing release reaches CS less than 14 days ahead.",
    )


class ShipForm(forms.Form):
    confirm = forms.BooleanField(
        label="Yes, this release is live for customers",
        error_messages={"required": "Tick the box to confirm it has shipped."},
    )


class BetaForm(forms.Form):
    item = forms.ModelChoiceField(
        label="Roadmap item",
        queryset=RoadmapItem.objects.none(),
        error_messages={"invalid_choice": "Choose a roadmap item of this organization."},
    )
    name = forms.CharField(max_length=200)
    cs_owner = MemberChoiceField(
        label="CS owner",
        queryset=Membership.objects.none(),
        error_messages={"invalid_choice": "Choose an active CS member."},
    )
    pm = MemberChoiceField(
        label="PM attending feedback sessions",
        queryset=Membership.objects.none(),
        error_messages={"invalid_choice": "Choose an active PM."},
    )
    starts_on = forms.DateField(required=False, widget=DATE)
    ends_on = forms.DateField(required=False, widget=DATE)

    def __init__(self, *args, org: Organization, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["item"].queryset = selectors.beta_item_choices(org=org)
        self.fields["cs_owner"].queryset = selectors.members_with_roles(
            org=org, roles=CS_OWNER_ROLES
        )
        self.fields["pm"].queryset = selectors.members_with_roles(org=org, roles=PM_ROLES)


class AccountChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Account) -> str:  # type: ignore[override]
        return obj.name


class ParticipantForm(forms.Form):
    account = AccountChoiceField(
        queryset=Account.objects.none(),
        error_messages={
            "invalid_choice": "Choose an account of this organization that is not in the beta.",
            "required": "Choose the account.",
        },
    )
    reason = forms.ChoiceField(label="Why selected", choices=[("", "—"), *SelectionReason.choices])
    note = forms.CharField(
        max_length=300, required=False, help_text="e.g. health 92, champion spoke at our event."
    )

    def __init__(self, *args, org: Organization, beta, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = selectors.beta_account_choices(org=org, beta=beta)


class RetroForm(forms.Form):
    retro_actioned = forms.CharField(
        label="What was actioned",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    retro_not_actioned = forms.CharField(
        label="What was not actioned",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    retro_why = forms.CharField(
        label="Why",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Participants' CSMs receive all three and pass them on.",
    )
