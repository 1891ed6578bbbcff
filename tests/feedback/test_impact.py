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
