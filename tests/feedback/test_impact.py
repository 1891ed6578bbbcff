from decimal import Decimal

from alignment.services import accounts as account_services
from alignment.services import imports as import_services
from alignment.tenancy import tenant_context
from feedback import services
from tests.factories import AccountFactory


def _theme_with_feedback(org, csm, pm, account):
    with tenant_context(org):
        theme = services.theme_create(
            org=org, actor=pm, data=services.NewTheme(title="Audit log export")
        )
        services.feedback_log(
            org=org, actor=csm, account=account, verbatim="Need exports", theme=theme
        )
    return theme


def test_an_arr_change_on_the_account_form_rescores_its_themes(org_a, csm_a, pm_a, cs_ops_a):
    account = AccountFactory(csm=csm_a, arr=Decimal("50000"), external_id="ACME-1")
    theme = _theme_with_feedback(org_a, csm_a, pm_a, account)
    with tenant_context(org_a):
        account_services.account_update(
            org=org_a, actor=cs_ops_a, account=account, arr=Decimal("400000")
        )
        theme.refresh_from_db()
    assert theme.arr_at_risk == Decimal("400000.00")


def test_a_csv_import_that_moves_arr_rescores_themes(
    org_a, csm_a, pm_a, cs_ops_a, django_capture_on_commit_callbacks
):
    account = AccountFactory(csm=csm_a, arr=Decimal("50000"), external_id="ACME-1", name="Globex")
    theme = _theme_with_feedback(org_a, csm_a, pm_a, account)
    with django_capture_on_commit_callbacks(execute=True), tenant_context(org_a):
        import_services.account_import_start(
            org=org_a,
            actor=cs_ops_a,
            filename="crm.csv",
            content=b"external_id,name,arr\nACME-1,Globex,250000\n",
        )
    with tenant_context(org_a):
        theme.refresh_from_db()
    assert theme.arr_at_risk == Decimal("250000.00")


def _impact_url(org):
    from django.urls import reverse

    return reverse("alignment:org-impact-settings", kwargs={"org_slug": org.slug})


WEIGHTS = {
    "impact_per_account_weight": "1000",
    "impact_renewal_multiplier": "1.5",
    "impact_renewal_window_days": "90",
    "impact_at_risk_multiplier": "3",
}


def test_changing_weights_rescores_existing_themes(
    org_a, admin_a, csm_a, pm_a, client_for, django_capture_on_commit_callbacks
):
    account = AccountFactory(csm=csm_a, arr=Decimal("100000"), lifecycle_stage="at_risk")
    theme = _theme_with_feedback(org_a, csm_a, pm_a, account)
    with tenant_context(org_a):
        theme.refresh_from_db()
    assert theme.impact_score == Decimal("205000.00")  # 100K x 2 + 5,000
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(admin_a).post(_impact_url(org_a), WEIGHTS)
    assert response.status_code == 302
    with tenant_context(org_a):
        theme.refresh_from_db()
    assert theme.impact_score == Decimal("301000.00")  # 100K x 3 + 1,000


def test_a_weight_that_would_let_count_beat_arr_is_refused(org_a, admin_a, client_for):
    response = client_for(admin_a).post(
        _impact_url(org_a), {**WEIGHTS, "impact_per_account_weight": "30000"}
    )
    assert response.status_code == 422
    assert "outrank five $40K accounts" in response.content.decode()
    org_a.refresh_from_db()
    assert org_a.impact_per_account_weight == Decimal("5000")


def test_only_admins_change_weights(org_a, cs_ops_a, client_for):
    assert client_for(cs_ops_a).post(_impact_url(org_a), WEIGHTS).status_code == 403
