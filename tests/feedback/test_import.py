"""The CSV import of historical feedback: upload checks, rows through feedback_log, dedupe,
themes, the report pages and the rejected-rows download."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from alignment.errors import ApplicationError
from alignment.models import AuditEvent, ImportJob, ImportStatus, Notification, Role
from alignment.services.imports import account_import_start, import_run
from alignment.tenancy import tenant_context
from feedback import services
from feedback.models import Feedback, ThemeStatus
from feedback.services_import import feedback_import_run, feedback_import_start
from feedback.sla_sweep import triage_sla_sweep
from tests.factories import AccountFactory, ProductAreaFactory

HEADER = "account,verbatim,source,product_area,category,urgency,logged_at,logged_by,theme\n"
NOW = datetime.datetime(2025, 3, 12, 15, 0, tzinfo=datetime.UTC)

pytestmark = pytest.mark.usefixtures("frozen")


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def url(org, name, *args):
    return reverse(f"feedback:{name}", args=[org.slug, *args])


@pytest.fixture
def acme(org_a):
    return AccountFactory(organization=org_a, external_id="ACME-1", name="Acme Corp")


@pytest.fixture
def globex(org_a):
    return AccountFactory(
        organization=org_a, external_id="GLX-1", name="Globex", arr=Decimal("300000")
    )


@pytest.fixture
def ops(org_a, cs_ops_a, client_for):
    return client_for(cs_ops_a)


def start(org, actor, text, filename="feedback.csv"):
    with tenant_context(org):
        return feedback_import_start(org=org, actor=actor, filename=filename, content=text.encode())


def run(org, actor, text):
    job = start(org, actor, text)
    feedback_import_run(org_id=org.pk, import_id=job.pk)
    with tenant_context(org):
        job.refresh_from_db()
    return job


def feedback_of(org):
    with tenant_context(org):
        return list(
            Feedback.objects.for_org(org)
            .select_related("account", "logged_by__user", "theme", "category", "product_area")
            .order_by("pk")
        )


def reasons(job):
    return {e["row"]: e["message"] for e in job.errors if not e.get("skipped")}


def skipped(job):
    return {e["row"]: e["message"] for e in job.errors if e.get("skipped")}


def upload(client, org, text, capture, filename="feedback.csv"):
    content = text.encode("utf-8") if isinstance(text, str) else text
    with capture(execute=True):
        return client.post(
            url(org, "feedback-import"),
            {"file": SimpleUploadedFile(filename, content, content_type="text/csv")},
        )


# --- The whole flow through the pages -----------------------------------------------------------


def test_a_spreadsheet_is_imported_through_the_pages_and_a_second_upload_duplicates_nothing(
    org_a, ops, acme, globex, csm_a, django_capture_on_commit_callbacks
):
    text = (
        HEADER
        + "ACME-1,Needs SSO,Call,,Feature request,High,2024-02-01,csm@acme.test,\n"
        + "Globex,Reports are slow,QBR,,,,2024-03-05 10:30,,\n"
        + "ACME-9,Whatever,,,,,2024-02-01,,\n"
        + "GLX-1,,,,,,,,\n"
    )
    response = upload(ops, org_a, text, django_capture_on_commit_callbacks)
    with tenant_context(org_a):
        job = ImportJob.objects.for_org(org_a).get()
    assert response.status_code == 302
    assert response["Location"] == url(org_a, "feedback-import-status", job.pk)

    report = ops.get(response["Location"]).content.decode()
    assert "2 imported" in report
    assert "Row 4" in report
    assert "no account with CRM id or name “ACME-9”" in report
    assert "verbatim is empty" in report
    assert "hx-trigger" not in report
    saved = feedback_of(org_a)
    assert [(f.account.name, f.verbatim) for f in saved] == [
        ("Acme Corp", "Needs SSO"),
        ("Globex", "Reports are slow"),
    ]
    assert saved[0].logged_by == csm_a
    assert saved[1].logged_by.user.email == "ops@acme.test"

    rejected = ops.get(url(org_a, "feedback-import-rejected", job.pk))
    lines = rejected.content.decode("utf-8-sig").strip().splitlines()
    assert rejected["Content-Type"].startswith("text/csv")
    assert lines[0].endswith(",error,row")
    assert [line.split(",")[0] for line in lines[1:]] == ["ACME-9", "GLX-1"]

    again = upload(ops, org_a, text, django_capture_on_commit_callbacks)
    second = ops.get(again["Location"]).content.decode()
    assert "0 imported</strong>, 2 already imported, 2 rejected" in second
    assert "Already imported" in second
    assert len(feedback_of(org_a)) == 2


def test_the_import_page_offers_the_template_and_lists_recent_imports(org_a, ops, cs_ops_a, acme):
    run(org_a, cs_ops_a, HEADER + "ACME-1,Needs SSO,,,,,2024-02-01,,\n")
    page = ops.get(url(org_a, "feedback-import")).content.decode()
    assert 'name="file"' in page
    assert url(org_a, "feedback-import-sample") in page
    assert "feedback.csv" in page
    sample = ops.get(url(org_a, "feedback-import-sample"))
    assert b"account,verbatim,job_to_be_done" in b"".join(sample.streaming_content)


def test_the_sidebar_shows_import_feedback_only_to_roles_that_may_import(
    org_a, ops, csm_a, client_for
):
    assert "Import feedback" in ops.get(url(org_a, "triage-queue")).content.decode()
    assert (
        "Import feedback" not in client_for(csm_a).get(url(org_a, "triage-queue")).content.decode()
    )


def test_a_csm_cannot_import_feedback_but_cs_ops_can(org_a, csm_a, ops, client_for):
    assert client_for(csm_a).get(url(org_a, "feedback-import")).status_code == 403
    assert ops.get(url(org_a, "feedback-import")).status_code == 200
    with tenant_context(org_a), pytest.raises(ApplicationError, match="cannot import feedback"):
        feedback_import_start(
            org=org_a, actor=csm_a, filename="f.csv", content=b"account,verbatim\n"
        )


def test_the_progress_partial_polls_until_the_job_is_done(org_a, ops, cs_ops_a, acme):
    job = start(org_a, cs_ops_a, HEADER + "ACME-1,One,,,,,2024-01-02,,\nACME-1,Two,,,,,,,\n")
    status_url = url(org_a, "feedback-import-status", job.pk)
    running = ops.get(status_url, HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-trigger="every 1s"' in running
    assert "0 of 2 rows" in running
    assert "<html" not in running
    feedback_import_run(org_id=org_a.pk, import_id=job.pk)
    finished = ops.get(status_url, HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in finished
    assert "2 imported" in finished


def test_another_organizations_feedback_import_is_a_404(org_a, org_b, admin_b, ops):
    AccountFactory(organization=org_b, external_id="B-1")
    job = run(org_b, admin_b, HEADER + "B-1,Hi,,,,,,,\nB-2,x,,,,,,,\n")
    assert ops.get(url(org_a, "feedback-import-status", job.pk)).status_code == 404
    assert ops.get(url(org_a, "feedback-import-rejected", job.pk)).status_code == 404


def test_an_account_import_is_not_shown_as_a_feedback_import(org_a, ops, cs_ops_a):
    with tenant_context(org_a):
        job = account_import_start(
            org=org_a, actor=cs_ops_a, filename="a.csv", content=b"external_id,name\nA-1,Alpha\n"
        )
    assert ops.get(url(org_a, "feedback-import-status", job.pk)).status_code == 404
    # Nor can the feedback worker run it: the claim is by kind.
    feedback_import_run(org_id=org_a.pk, import_id=job.pk)
    with tenant_context(org_a):
        job.refresh_from_db()
    assert job.status == ImportStatus.PENDING
    import_run(org_id=org_a.pk, import_id=job.pk)
    with tenant_context(org_a):
        job.refresh_from_db()
    assert (job.status, job.created_count) == (ImportStatus.DONE, 1)


# --- Rows through feedback_log -----------------------------------------------------------------


def test_each_row_gets_its_impact_and_a_triage_clock_started_when_it_was_logged(
    org_a, cs_ops_a, globex
):
    run(org_a, cs_ops_a, HEADER + "GLX-1,Reports are slow,,,,,2025-03-10,,\n")
    (item,) = feedback_of(org_a)
    with tenant_context(org_a):
        calendar = services.calendar_for(org_a)
    # A date alone is noon in the organization's time zone (New York).
    assert item.created_at == datetime.datetime(2025, 3, 10, 16, 0, tzinfo=datetime.UTC)
    assert item.due_at == calendar.due_at(item.created_at, org_a.triage_sla_days)
    assert item.impact_score > Decimal("300000")
    assert item.theme is None


def test_a_row_logged_long_ago_is_overdue_in_the_queue_without_a_flood_of_sla_notices(
    org_a, cs_ops_a, acme, make_member
):
    make_member(org_a, Role.HEAD_OF_PRODUCT)
    run(
        org_a,
        cs_ops_a,
        HEADER + "ACME-1,Old ask,,,,,2023-06-01,,\nACME-1,Fresh ask,,,,,2025-03-12 09:00,,\n",
    )
    old, fresh = feedback_of(org_a)
    with tenant_context(org_a):
        calendar = services.calendar_for(org_a)
    assert calendar.describe(old.due_at, NOW).overdue
    assert old.breach_notified_at is not None
    assert fresh.reminder_sent_at is None and fresh.breach_notified_at is None
    with tenant_context(org_a):
        triage_sla_sweep(now=NOW)
        kinds = list(Notification.objects.for_org(org_a).values_list("kind", flat=True))
    assert kinds == []
    later = NOW + datetime.timedelta(days=10)
    triage_sla_sweep(now=later)
    with tenant_context(org_a):
        kinds = sorted(Notification.objects.for_org(org_a).values_list("kind", flat=True))
    assert kinds == ["sla.breach", "sla.reminder"]


def test_choices_and_taxonomy_are_read_by_label_or_name_ignoring_case(org_a, cs_ops_a, acme):
    area = ProductAreaFactory(organization=org_a, name="Reporting")
    run(
        org_a,
        cs_ops_a,
        HEADER + "acme corp,Slow exports,support ticket,REPORTING,performance,blocker,,,\n",
    )
    (item,) = feedback_of(org_a)
    assert item.account == acme
    assert (item.source, item.urgency) == ("ticket", "blocker")
    assert item.product_area == area
    assert item.category.name == "Performance"


def test_bad_rows_are_rejected_with_specific_reasons_and_good_rows_are_kept(org_a, cs_ops_a, acme):
    AccountFactory(organization=org_a, external_id="T-1", name="Twin")
    AccountFactory(organization=org_a, external_id="T-2", name="twin")
    job = run(
        org_a,
        cs_ops_a,
        HEADER
        + "ACME-1,Fine,,,,,,,\n"
        + "ACME-9,Lost,,,,,,,\n"
        + "Twin,Which one,,,,,,,\n"
        + ",No account,,,,,,,\n"
        + "ACME-1,Bad choices,fax,Billing,Gossip,whenever,,,\n",
    )
    assert (job.status, job.created_count, job.error_count) == (ImportStatus.DONE, 1, 4)
    found = reasons(job)
    assert found[3] == "no account with CRM id or name “ACME-9”"
    assert found[4] == "account “Twin” matches 2 accounts by name; use the CRM id instead"
    assert found[5] == "account is empty: give the account's CRM id or its name"
    assert "source “fax” is not one of Call, QBR" in found[6]
    assert "product_area “Billing” is not a product area here (none exist yet)" in found[6]
    assert "category “Gossip” is not a category here (Bug, Feature request" in found[6]
    assert "urgency “whenever” is not one of Low, Medium" in found[6]
    assert [f.verbatim for f in feedback_of(org_a)] == ["Fine"]


def test_an_unknown_member_in_logged_by_rejects_the_row(org_a, cs_ops_a, csm_b, acme):
    job = run(
        org_a,
        cs_ops_a,
        HEADER + "ACME-1,One,,,,,,nobody@acme.test,\nACME-1,Two,,,,,,csm@borealis.test,\n",
    )
    assert reasons(job) == {
        2: "logged_by nobody@acme.test is not a member of this organization",
        3: "logged_by csm@borealis.test is not a member of this organization",
    }
    assert feedback_of(org_a) == []


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("yesterday", "logged_at “yesterday” is not a date or date and time"),
        ("2024-13-45", "logged_at “2024-13-45” is not a date or date and time"),
        ("2025-04-01", "logged_at 2025-04-01 is in the future"),
        ("0024-03-01", "logged_at 0024-03-01 is before 2000"),
    ],
)
def test_bad_dates_reject_the_row(org_a, cs_ops_a, acme, cell, message):
    job = run(org_a, cs_ops_a, HEADER + f"ACME-1,Words,,,,,{cell},,\n")
    assert reasons(job)[2].startswith(message)


def test_an_unreadable_answer_needed_by_rejects_the_row(org_a, cs_ops_a, acme):
    job = run(org_a, cs_ops_a, "account,verbatim,answer_needed_by\nACME-1,Words,soon\n")
    assert reasons(job)[2].startswith("answer_needed_by “soon” is not a date")


def test_dates_with_times_and_offsets_are_understood(org_a, cs_ops_a, acme):
    run(
        org_a,
        cs_ops_a,
        HEADER
        + "ACME-1,A,,,,,2024-05-01 09:15,,\n"
        + "ACME-1,B,,,,,2024-05-01T09:15:00Z,,\n"
        + "ACME-1,C,,,,,5/1/2024 09:15,,\n",
    )
    a, b, c = feedback_of(org_a)
    assert a.created_at == datetime.datetime(2024, 5, 1, 13, 15, tzinfo=datetime.UTC)
    assert b.created_at == datetime.datetime(2024, 5, 1, 9, 15, tzinfo=datetime.UTC)
    assert c.created_at == a.created_at


# --- Dedupe -------------------------------------------------------------------------------------


def test_reimporting_the_same_file_reports_already_imported_rows_and_adds_nothing(
    org_a, cs_ops_a, acme, globex
):
    text = HEADER + "ACME-1,Needs SSO,,,,,2024-02-01,,\nGLX-1,Slow,,,,,2024-02-02 08:00,,\n"
    run(org_a, cs_ops_a, text)
    again = run(org_a, cs_ops_a, text + "GLX-1,Slow,,,,,2024-02-03,,\n")
    assert skipped(again) == {2: "already imported", 3: "already imported"}
    assert (again.created_count, again.error_count) == (1, 0)
    assert len(feedback_of(org_a)) == 3


def test_a_row_repeated_in_the_same_file_is_imported_once(org_a, cs_ops_a, acme):
    job = run(org_a, cs_ops_a, HEADER + "ACME-1,Same,,,,,2024-02-01,,\n" * 2)
    assert job.created_count == 1
    assert skipped(job) == {3: "same account, words and date as row 2: skipped"}


def test_undated_rows_match_the_same_words_from_the_same_account(org_a, cs_ops_a, acme, globex):
    run(org_a, cs_ops_a, HEADER + "ACME-1,No date given,,,,,,,\n")
    again = run(
        org_a, cs_ops_a, HEADER + "ACME-1,No date given,,,,,,,\nGLX-1,No date given,,,,,,,\n"
    )
    assert skipped(again) == {2: "already imported"}
    assert again.created_count == 1


def test_feedback_logged_by_hand_is_also_recognized(org_a, cs_ops_a, csm_a, acme):
    when = datetime.datetime(2024, 2, 1, 17, 0, tzinfo=datetime.UTC)
    with tenant_context(org_a):
        services.feedback_log(
            org=org_a, actor=csm_a, account=acme, verbatim="Typed", logged_at=when
        )
    job = run(org_a, cs_ops_a, HEADER + "ACME-1,Typed,,,,,2024-02-01 12:00,,\n")
    assert skipped(job) == {2: "already imported"}


# --- Themes -------------------------------------------------------------------------------------


def test_a_theme_title_attaches_to_the_open_theme_and_the_feedback_counts_as_triaged(
    org_a, cs_ops_a, pm_a, csm_a, acme
):
    with tenant_context(org_a):
        theme = services.theme_create(
            org=org_a, actor=pm_a, data=services.NewTheme(title="Single sign-on")
        )
    job = run(
        org_a, cs_ops_a, HEADER + "ACME-1,SSO please,,,,,2023-01-10,csm@acme.test,single SIGN-ON\n"
    )
    (item,) = feedback_of(org_a)
    assert job.error_count == 0
    assert item.theme == theme
    assert item.triaged_at is not None
    with tenant_context(org_a):
        theme.refresh_from_db()
        loop = Notification.objects.for_org(org_a).filter(kind="theme.status").count()
    assert theme.feedback_count == 1
    # The loop notification is not sent row by row; the CSM hears once about the import.
    assert loop == 0


def test_an_archived_or_missing_theme_rejects_the_row(org_a, cs_ops_a, pm_a, acme):
    with tenant_context(org_a):
        theme = services.theme_create(org=org_a, actor=pm_a, data=services.NewTheme(title="Old"))
        services.theme_set_status(org=org_a, actor=pm_a, theme=theme, status=ThemeStatus.ARCHIVED)
    job = run(org_a, cs_ops_a, HEADER + "ACME-1,Words,,,,,,,Old\nACME-1,More,,,,,,,Nope\n")
    assert reasons(job)[2].startswith("no open theme titled “Old”")
    assert reasons(job)[3].startswith("no open theme titled “Nope”")


# --- Files that are not feedback lists ---------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "content", "message"),
    [
        ("feedback.csv", b"", "The file is empty."),
        ("feedback.csv", b"   \n", "The file is empty."),
        ("feedback.csv", b"account,verbatim\n", "no feedback rows below it"),
        ("feedback.csv", b"customer,notes\nA,B\n", "missing the required column verbatim."),
        ("feedback.csv", b"id,title\n1,x\n", "missing the required columns account and verbatim"),
        ("feedback.xlsx", b"PK\x03\x04", "Upload a .csv file."),
    ],
)
def test_a_file_that_is_not_a_feedback_list_is_rejected_and_no_job_is_created(
    org_a, ops, filename, content, message, django_capture_on_commit_callbacks
):
    response = upload(ops, org_a, content, django_capture_on_commit_callbacks, filename=filename)
    assert response.status_code == 200
    assert message in response.content.decode()
    with tenant_context(org_a):
        assert not ImportJob.objects.for_org(org_a).exists()


def test_unknown_columns_are_ignored_with_a_warning(
    org_a, ops, acme, django_capture_on_commit_callbacks
):
    response = upload(
        ops, org_a, "account,verbatim,mood\nACME-1,Hi,happy\n", django_capture_on_commit_callbacks
    )
    page = ops.get(response["Location"]).content.decode()
    assert "were ignored: mood" in page
    assert len(feedback_of(org_a)) == 1


# --- Notifications, audit, the sample ------------------------------------------------------------


def test_each_member_named_in_logged_by_hears_once_and_one_audit_event_sums_it_up(
    org_a, cs_ops_a, csm_a, acme
):
    job = run(
        org_a,
        cs_ops_a,
        HEADER
        + "".join(f"ACME-1,Ask {i},,,,,2024-01-0{i},csm@acme.test,\n" for i in range(1, 4))
        + "ACME-1,Mine,,,,,,,\nACME-1,,,,,,,,\n",
    )
    with tenant_context(org_a):
        notes = list(
            Notification.objects.for_org(org_a)
            .filter(kind="feedback.imported")
            .select_related("recipient")
        )
        summary = AuditEvent.objects.for_org(org_a).get(action="feedback.imported")
    assert [(n.recipient, n.title) for n in notes] == [
        (csm_a, "3 feedback items imported in your name")
    ]
    assert summary.actor == cs_ops_a.user
    assert summary.changes == {
        "filename": "feedback.csv",
        "rows": 5,
        "imported": 4,
        "already_imported": 0,
        "rejected": 1,
    }
    # Running the job again (a second task delivery) does nothing.
    feedback_import_run(org_id=org_a.pk, import_id=job.pk)
    assert len(feedback_of(org_a)) == 4


def test_a_crash_marks_the_job_failed_and_keeps_earlier_chunks(org_a, cs_ops_a, acme, monkeypatch):
    from alignment.services import imports as shared
    from feedback import services_import

    monkeypatch.setattr(shared, "CHUNK_SIZE", 1)
    calls = {"n": 0}
    original = services_import.feedback_log

    def flaky(**kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk on fire")
        return original(**kwargs)

    monkeypatch.setattr(services_import, "feedback_log", flaky)
    job = run(org_a, cs_ops_a, HEADER + "ACME-1,One,,,,,,,\nACME-1,Two,,,,,,,\n")
    assert job.status == ImportStatus.FAILED
    assert "stopped unexpectedly (RuntimeError)" in job.failure_message
    assert [f.verbatim for f in feedback_of(org_a)] == ["One"]


def test_the_sample_files_import_cleanly_into_a_fresh_organization(org_a, cs_ops_a):
    from alignment.views.accounts import SAMPLE_CSV as ACCOUNTS
    from feedback.views_import import SAMPLE_CSV

    with tenant_context(org_a):
        accounts = account_import_start(
            org=org_a, actor=cs_ops_a, filename="a.csv", content=ACCOUNTS.read_bytes()
        )
    import_run(org_id=org_a.pk, import_id=accounts.pk)
    job = run(org_a, cs_ops_a, SAMPLE_CSV.read_text())
    assert job.errors == []
    assert job.created_count == job.total_rows == 5
