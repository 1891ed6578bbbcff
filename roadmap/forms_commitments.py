"""Forms of the commitment pages. Choices come from the organization and the asker's reach
(a CSM picks among the accounts they own); the rules live in services_commitments.py."""

from __future__ import annotations

from django import forms

from alignment.models import Account, Membership, Organization, Role
from roadmap.models import CommitmentStatus, RoadmapItem
from roadmap.selectors_commitments import holder_choices
from roadmap.selectors_items import roadmap_item_choices
from roadmap.services_commitments import ANY_ACCOUNT_ROLES

# How many accounts a VP CS or an admin picks from on the form; any other account is asked
# for from its own page, where it is preset.
ACCOUNT_CHOICES_SHOWN = 500


class DateInput(forms.DateInput):
    input_type = "date"


class CommitmentRequestForm(forms.Form):
    account = forms.ModelChoiceField(
        queryset=Account.objects.none(),
        error_messages={
            "required": "Choose the account.",
            "invalid_choice": "Choose one of the accounts you may ask for.",
        },
    )
    item = forms.ModelChoiceField(
        label="Roadmap item",
        queryset=RoadmapItem.objects.none(),
        error_messages={
            "required": "Choose the roadmap item.",
            "invalid_choice": "Choose a live roadmap item you can see.",
        },
    )
    conversation_date = forms.DateField(
        label="Date of the conversation",
        widget=DateInput(),
        error_messages={"required": "Give the date of the conversation."},
    )
    context = forms.CharField(
        label="Conversation context",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="What the customer asked, why it matters to them, what rides on the answer.",
        error_messages={"required": "Say what the customer asked and why it matters to them."},
    )
    proposed_wording = forms.CharField(
        label="What you would like to say",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The PM approves the exact words; nothing is quotable before that.",
    )
    include_quarter = forms.BooleanField(
        label="Promise the target quarter",
        required=False,
        help_text="Only a committed item may be promised with a quarter.",
    )

    def __init__(  # type: ignore[no-untyped-def]
        self, *args, org: Organization, actor: Membership, account: Account | None = None, **kw
    ) -> None:
        super().__init__(*args, **kw)
        self.fields["item"].queryset = roadmap_item_choices(org=org)
        self.fields["item"].label_from_instance = lambda i: f"{i.title} ({i.get_tier_display()})"
        accounts = Account.objects.for_org(org)
        if actor.role not in ANY_ACCOUNT_ROLES:
            accounts = accounts.filter(csm=actor)
        field = self.fields["account"]
        field.queryset = accounts.order_by("name", "pk")
        self.preset_account = account
        if account is not None:
            field.widget = forms.HiddenInput()
            field.initial = account.pk
        elif actor.role in ANY_ACCOUNT_ROLES:
            # Validation accepts any account; the list shows the biggest ones only.
            shown = accounts.order_by("-arr", "pk")[:ACCOUNT_CHOICES_SHOWN]
            field.widget.choices = [("", "---------")] + [(a.pk, a.name) for a in shown]
            field.help_text = (
                f"The {ACCOUNT_CHOICES_SHOWN} largest accounts by ARR; for another account, "
                "start from its account page."
            )


class ApproveForm(forms.Form):
    approved_wording = forms.CharField(
        label="Approved wording",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The exact words the CSM may use with this customer.",
        error_messages={"required": "Write the approved wording."},
    )


class DeclineForm(forms.Form):
    decline_reason = forms.CharField(
        label="Why not",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="The CSM sees this and decides what to tell the customer instead.",
        error_messages={"required": "A reason is required."},
    )


class InformedForm(forms.Form):
    informed_on = forms.DateField(
        label="Told the customer on",
        widget=DateInput(),
        error_messages={"required": "Give the date the customer was told."},
    )
    note = forms.CharField(
        label="How they were told",
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Say how the customer was told and how they took it."},
    )


class PromiseFilterForm(forms.Form):
    holder = forms.ModelChoiceField(
        label="CSM", queryset=Membership.objects.none(), required=False, empty_label="Everyone"
    )
    status = forms.ChoiceField(
        choices=[("", "Any state"), *CommitmentStatus.choices], required=False
    )
    at_risk = forms.BooleanField(label="At risk only", required=False)

    def __init__(  # type: ignore[no-untyped-def]
        self, *args, org: Organization, **kwargs
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["holder"].queryset = holder_choices(org=org)
        self.fields["holder"].label_from_instance = lambda m: (
            m.display_name if m.role == Role.CSM else f"{m.display_name} ({m.get_role_display()})"
        )
