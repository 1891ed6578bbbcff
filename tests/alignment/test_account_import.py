"""The account CSV import: upload checks, the worker, the progress page and the report."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from alignment.errors import ApplicationError
from alignment.models import (
    Account,
    AuditEvent,
    ImportJob,
    ImportStatus,
    LifecycleStage,
    Notification,
    RiskFactor,
    Role,
    Segment,
)
from alignment.services import imports
from alignment.services.imports import account_import_start, import_run
from alignment.tenancy import tenant_context
from tests.factories import AccountFactory

HEADER = "external_id,name,arr,segment,renewal_date,health_score,lifecycle_stage,csm_email,primary_risk\n"


def url(org, name, *args):
    return reverse(f"alignment:{name}", args=[org.slug, *args])


def upload(client, org, text, filename="accounts.csv", *, capture):
    """Post a file and run the enqueued import (Celery is eager; on_commit runs on exit)."""
    content = text.encode("utf-8") if isinstance(text, str) else text
    with capture(execute=True):
        return client.post(
            url(org, "account-import"),
            {"file": SimpleUploadedFile(filename, content, content_type="text/csv")},
        )


def accounts(org):
    with tenant_context(org):
        return {a.external_id: a for a in Account.objects.for_org(org).select_related("csm")}


def jobs(org):
    with tenant_context(org):
        return list(ImportJob.objects.for_org(org).order_by("pk"))


@pytest.fixture
def ops(org_a, cs_ops_a, csm_a, client_for):
    return client_for(cs_ops_a)


def start(org, actor, text):
    with tenant_context(org):
        return account_import_start(
            org=org, actor=actor, filename="accounts.csv", content=text.encode()
        )


# --- The whole journey through the pages -----------------------------------------------------


def test_good_rows_are_saved_and_bad_rows_are_listed_with_their_reasons(
    org_a, ops, csm_a, django_capture_on_commit_callbacks
):
    response = upload(
        ops,
        org_a,
        HEADER
        + 'A-1,Alpha,"$1,200,000.50",Enterprise,2026-01-31,80,Onboarded,csm@acme.test,\n'
        + "A-2,Beta,lots,SMB,,,,,\n"
        + "A-3,Gamma,5000,Mid-market,3/15/2026,40,At risk,,Budget\n"
        + "A-4,Delta,,galaxy,someday,120,,,\n",
        capture=django_capture_on_commit_callbacks,
    )
    job = jobs(org_a)[0]
    assert response.status_code == 302
    assert response["Location"] == url(org_a, "account-import-status", job.pk)
    saved = accounts(org_a)
    assert set(saved) == {"A-1", "A-3"}
    assert saved["A-1"].arr == Decimal("1200000.50")
    assert saved["A-1"].segment == Segment.ENTERPRISE
    assert saved["A-1"].csm_id == csm_a.pk
    assert saved["A-3"].renewal_date == datetime.date(2026, 3, 15)
    assert saved["A-3"].lifecycle_stage == LifecycleStage.AT_RISK
    assert saved["A-3"].primary_risk == RiskFactor.BUDGET
    assert (job.status, job.created_count, job.error_count) == (ImportStatus.DONE, 2, 2)
    assert [e["row"] for e in job.errors] == [3, 5]
    report = ops.get(response["Location"]).content.decode()
    assert "2 created" in report
    assert "arr “lots” is not an amount" in report
    assert "segment “galaxy” is not one of Enterprise, Mid-market, SMB" in report
    assert "renewal_date “someday” is not a date" in report
    assert "health_score “120” must be a whole number from 0 to 100" in report
    assert "hx-trigger" not in report


def test_re_importing_the_same_file_updates_instead_of_duplicating(
    org_a, ops, django_capture_on_commit_callbacks
):
    first = HEADER + "A-1,Alpha,100,SMB,,,,,\nA-2,Beta,200,SMB,,,,,\n"
    upload(ops, org_a, first, capture=django_capture_on_commit_callbacks)
    upload(
        ops,
        org_a,
        HEADER + "A-1,Alpha,100,SMB,,,,,\nA-2,Beta Renamed,250,SMB,,,,,\nA-3,Gamma,1,SMB,,,,,\n",
        capture=django_capture_on_commit_callbacks,
    )
    saved = accounts(org_a)
    assert len(saved) == 3
    assert (saved["A-2"].name, saved["A-2"].arr) == ("Beta Renamed", Decimal("250"))
    second = jobs(org_a)[1]
    assert (second.created_count, second.updated_count, second.error_count) == (1, 1, 0)
    report = ops.get(url(org_a, "account-import-status", second.pk)).content.decode()
    assert "1 created</strong>, 1 updated, 1 unchanged, 0 rejected" in report


def test_blank_optional_cells_keep_what_is_stored(org_a, cs_ops_a, csm_a):
    AccountFactory(organization=org_a, external_id="A-1", arr=Decimal("900"), csm=csm_a)
    job = start(org_a, cs_ops_a, HEADER + "A-1,Alpha,,,,,,,\n")
    import_run(org_id=org_a.pk, import_id=job.pk)
    saved = accounts(org_a)["A-1"]
    assert (saved.name, saved.arr, saved.csm_id) == ("Alpha", Decimal("900"), csm_a.pk)


def test_a_crm_id_repeated_in_the_file_is_an_error_on_the_later_row(org_a, cs_ops_a):
    job = start(org_a, cs_ops_a, HEADER + "A-1,First,1,,,,,,\nA-2,B,1,,,,,,\nA-1,Again,2,,,,,,\n")
    import_run(org_id=org_a.pk, import_id=job.pk)
    with tenant_context(org_a):
        job.refresh_from_db()
    assert accounts(org_a)["A-1"].name == "First"
    assert job.errors == [
        {
            "row": 4,
            "external_id": "A-1",
            "message": "external_id A-1 already appeared on row 2 of this file; "
            "each account may appear once",
        }
    ]


def test_a_utf8_bom_labels_and_money_formats_are_accepted(org_a, cs_ops_a, csm_a):
    text = (
        "\ufeffExternal ID,Name,ARR,Segment,Renewal Date,Health Score,Lifecycle Stage,CSM Email\n"
        'X-1,Zürich AG,"$1,200,000.50",mid market,12/31/2026,85,AT RISK,CSM@ACME.TEST\n'
        "X-2,Two,USD 90000,enterprise,2026-02-01,0,onboarding,\n"
    )
    with tenant_context(org_a):
        job = account_import_start(
            org=org_a, actor=cs_ops_a, filename="crm.csv", content=text.encode("utf-8")
        )
    import_run(org_id=org_a.pk, import_id=job.pk)
    saved = accounts(org_a)
    assert saved["X-1"].name == "Zürich AG"
    assert saved["X-1"].arr == Decimal("1200000.50")
    assert saved["X-1"].segment == Segment.MID_MARKET
    assert saved["X-1"].lifecycle_stage == LifecycleStage.AT_RISK
    assert saved["X-1"].renewal_date == datetime.date(2026, 12, 31)
    assert saved["X-1"].csm_id == csm_a.pk
    assert saved["X-2"].arr == Decimal("90000")
    assert saved["X-2"].health_score == 0


def test_semicolon_separated_excel_files_are_read(org_a, cs_ops_a):
    job = start(org_a, cs_ops_a, "external_id;name;arr\nS-1;Semi;1000\n")
    import_run(org_id=org_a.pk, import_id=job.pk)
    assert accounts(org_a)["S-1"].arr == Decimal("1000")


def test_an_unknown_or_non_csm_email_rejects_the_row(org_a, cs_ops_a, pm_a, make_member):
    departed = make_member(org_a, Role.CSM, user__email="gone@acme.test", is_active=False)
    assert departed.is_active is False
    job = start(
        org_a,
        cs_ops_a,
        HEADER
        + "A-1,One,1,,,,,stranger@example.test,\n"
        + "A-2,Two,1,,,,,gone@acme.test,\n"
        + "A-3,Three,1,,,,,pm@acme.test,\n",
    )
    import_run(org_id=org_a.pk, import_id=job.pk)
    with tenant_context(org_a):
        job.refresh_from_db()
    assert accounts(org_a) == {}
    assert [e["message"] for e in job.errors] == [
        "csm_email stranger@example.test is not an active member of this organization",
        "csm_email gone@acme.test is not an active member of this organization",
        "csm_email pm@acme.test belongs to a PM, not a CSM",
    ]


def test_a_risk_note_without_a_risk_rejects_the_row(org_a, cs_ops_a):
    job = start(org_a, cs_ops_a, "external_id,name,primary_risk_note\nR-1,Risky,Champion left\n")
    import_run(org_id=org_a.pk, import_id=job.pk)
    with tenant_context(org_a):
        job.refresh_from_db()
    assert job.errors[0]["message"] == "Choose the primary risk factor this note explains."


def test_csms_who_received_accounts_get_one_notification_each(org_a, cs_ops_a, csm_a):
    job = start(
        org_a,
        cs_ops_a,
        HEADER + "A-1,One,1,,,,,csm@acme.test,\nA-2,Two,1,,,,,csm@acme.test,\n",
    )
    import_run(org_id=org_a.pk, import_id=job.pk)
    with tenant_context(org_a):
        notes = list(Notification.objects.for_org(org_a).filter(recipient=csm_a))
    assert [n.title for n in notes] == ["2 accounts assigned to you by an import"]


# --- Files rejected at upload ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "content", "message"),
    [
        ("accounts.csv", b"", "The file is empty."),
        ("accounts.csv", b"   \n", "The file is empty."),
        ("accounts.xlsx", b"PK\x03\x04\x00\x00", "Upload a .csv file."),
        ("accounts.csv", b"PK\x03\x04\x00\x00binary", "This is not a CSV file"),
        ("accounts.csv", b"id,title\n1,x\n", "missing the required columns external_id and name"),
        ("accounts.csv", b"external_id,arr\n1,5\n", "missing the required column name."),
        ("accounts.csv", b"external_id,name\n", "no accounts below it"),
    ],
)
def test_a_file_that_is_not_an_account_list_is_rejected_and_no_job_is_created(
    org_a, ops, django_capture_on_commit_callbacks, filename, content, message
):
    response = upload(ops, org_a, content, filename, capture=django_capture_on_commit_callbacks)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert jobs(org_a) == []


def test_an_oversized_file_is_rejected_and_no_job_is_created(
    org_a, ops, settings, django_capture_on_commit_callbacks
):
    settings.SEAM_IMPORT_MAX_BYTES = 100
    response = upload(
        ops, org_a, HEADER + "A-1,Alpha,1,,,,,,\n" * 10, capture=django_capture_on_commit_callbacks
    )
    assert response.status_code == 200
    assert "the limit is" in response.content.decode()
    assert jobs(org_a) == []


def test_the_service_rejects_an_oversized_file_too(org_a, cs_ops_a, settings):
    settings.SEAM_IMPORT_MAX_BYTES = 10
    with tenant_context(org_a), pytest.raises(ApplicationError, match="the limit is"):
        account_import_start(
            org=org_a, actor=cs_ops_a, filename="a.csv", content=b"external_id,name\n1,x\n"
        )


def test_pm_cannot_import_but_cs_ops_can(org_a, pm_a, ops, client_for):
    assert client_for(pm_a).get(url(org_a, "account-import")).status_code == 403
    assert ops.get(url(org_a, "account-import")).status_code == 200


def test_the_import_page_offers_a_sample_and_lists_recent_imports(org_a, ops, cs_ops_a):
    start(org_a, cs_ops_a, HEADER + "A-1,Alpha,1,,,,,,\n")
    page = ops.get(url(org_a, "account-import")).content.decode()
    assert 'name="file"' in page
    assert "Download a sample CSV" in page
    assert "accounts.csv" in page
    sample = ops.get(url(org_a, "account-import-sample"))
    assert b"external_id,name,arr" in b"".join(sample.streaming_content)


def test_the_sample_csv_imports_cleanly(org_a, cs_ops_a):
    from alignment.views.accounts import SAMPLE_CSV

    job = start(org_a, cs_ops_a, SAMPLE_CSV.read_text())
    import_run(org_id=org_a.pk, import_id=job.pk)
    with tenant_context(org_a):
        job.refresh_from_db()
    assert job.errors == []
    assert job.created_count == job.total_rows == 5


# --- Progress, idempotency, crashes ---------------------------------------------------------------


def test_the_progress_partial_polls_while_the_job_is_pending_and_stops_when_done(
    org_a, ops, cs_ops_a
):
    job = start(org_a, cs_ops_a, HEADER + "A-1,A,1,,,,,,\nA-2,B,1,,,,,,\nA-3,C,1,,,,,,\n")
    status_url = url(org_a, "account-import-status", job.pk)
    running = ops.get(status_url, HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-trigger="every 1s"' in running
    assert '<progress max="3" value="0"' in running
    assert "0 of 3 rows" in running
    assert "<html" not in running
    import_run(org_id=org_a.pk, import_id=job.pk)
    finished = ops.get(status_url, HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in finished
    assert "3 created" in finished


def test_progress_is_stored_after_every_chunk(org_a, cs_ops_a, monkeypatch):
    monkeypatch.setattr(imports, "CHUNK_SIZE", 2)
    seen = []
    original = imports._import_chunk

    def spy(**kwargs):
        original(**kwargs)
        seen.append(kwargs["progress"].processed)

    monkeypatch.setattr(imports, "_import_chunk", spy)
    job = start(org_a, cs_ops_a, HEADER + "".join(f"A-{i},N{i},1,,,,,,\n" for i in range(5)))
    import_run(org_id=org_a.pk, import_id=job.pk)
    assert seen == [2, 4, 5]
    assert len(accounts(org_a)) == 5


def test_running_an_import_twice_does_nothing_the_second_time(org_a, cs_ops_a):
    job = start(org_a, cs_ops_a, HEADER + "A-1,Alpha,1,,,,,,\n")
    import_run(org_id=org_a.pk, import_id=job.pk)
    with tenant_context(org_a):
        Account.objects.for_org(org_a).update(name="Changed since")
    import_run(org_id=org_a.pk, import_id=job.pk)
    with tenant_context(org_a):
        job.refresh_from_db()
        events = AuditEvent.objects.for_org(org_a).filter(action="account.imported").count()
    assert accounts(org_a)["A-1"].name == "Changed since"
    assert (job.status, job.created_count, events) == (ImportStatus.DONE, 1, 1)


def test_one_audit_event_summarizes_the_import(org_a, cs_ops_a):
    AccountFactory(organization=org_a, external_id="A-1", name="Alpha", arr=Decimal("1"))
    job = start(org_a, cs_ops_a, HEADER + "A-1,Alpha,1,,,,,,\nA-2,B,2,,,,,,\nA-3,,x,,,,,,\n")
    import_run(org_id=org_a.pk, import_id=job.pk)
    with tenant_context(org_a):
        events = list(AuditEvent.objects.for_org(org_a))
    assert len(events) == 1
    assert events[0].source == "task"
    assert events[0].actor == cs_ops_a.user
    assert events[0].changes == {
        "filename": "accounts.csv",
        "rows": 3,
        "created": 1,
        "updated": 0,
        "unchanged": 1,
        "rejected": 1,
    }


def test_a_crash_marks_the_job_failed_with_a_message(org_a, cs_ops_a, ops, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(imports, "parse_row", explode)
    job = start(org_a, cs_ops_a, HEADER + "A-1,Alpha,1,,,,,,\n")
    import_run(org_id=org_a.pk, import_id=job.pk)
    with tenant_context(org_a):
        job.refresh_from_db()
    assert job.status == ImportStatus.FAILED
    assert "stopped unexpectedly (RuntimeError)" in job.failure_message
    page = ops.get(url(org_a, "account-import-status", job.pk)).content.decode()
    assert "The import did not finish" in page


def test_the_import_reads_existing_accounts_per_chunk_not_per_row(org_a, cs_ops_a):
    def run(count, prefix):
        rows = "".join(f"{prefix}-{i},N{i},1,,,,,csm@acme.test,\n" for i in range(count))
        job = start(org_a, cs_ops_a, HEADER + rows)
        with CaptureQueriesContext(connection) as queries:
            import_run(org_id=org_a.pk, import_id=job.pk)
        return len(queries)

    small, large = run(10, "S"), run(40, "L")
    # Each extra row costs its own savepoint, insert and release, and nothing else.
    assert large - small <= 30 * 3


def test_rejected_rows_download_as_csv_with_their_reasons(org_a, ops, cs_ops_a):
    job = start(org_a, cs_ops_a, HEADER + "A-1,Alpha,1,,,,,,\nA-2,Beta,lots,,,,,,\n")
    import_run(org_id=org_a.pk, import_id=job.pk)
    response = ops.get(url(org_a, "account-import-rejected", job.pk))
    body = response.content.decode("utf-8-sig")
    assert response["Content-Type"].startswith("text/csv")
    lines = body.strip().splitlines()
    assert lines[0].endswith(",error,row")
    assert lines[1].startswith("A-2,Beta,lots,")
    assert len(lines) == 2


def test_another_organizations_import_is_a_404(org_a, org_b, admin_b, ops):
    job = start(org_b, admin_b, HEADER + "B-1,Beta,1,,,,,,\n")
    assert ops.get(url(org_a, "account-import-status", job.pk)).status_code == 404
    assert ops.get(url(org_a, "account-import-rejected", job.pk)).status_code == 404
