"""The CSV import of historical feedback (from a spreadsheet), row by row through feedback_log.

It runs on the account import's machinery (``alignment/services/imports.py``): the same file
checks at upload, an ``ImportJob`` of kind ``feedback`` claimed once by a worker, chunks of
rows each committed with the progress counters, one savepoint per row so a bad row is
reported and the good ones are kept, and the rejected rows downloadable with their reasons.

Every row goes through ``feedback.services.feedback_log``, so the impact score, the triage
clock (started at ``logged_at``, in business days) and, with a theme, the triage itself are
exactly what logging it by hand would give. The member named in ``logged_by`` (default: the
person importing) is the one who logged it, as on the log form.

Re-importing a file must not duplicate: a row whose (account, verbatim, logged_at) is
already stored is skipped and reported as "already imported". Without a ``logged_at`` the
row is logged now, and the same words from the same account at any time count as a match.
"""

from __future__ import annotations

import datetime
import logging
from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError
from django.db.models import QuerySet
from django.db.models.functions import Lower
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone

from alignment.errors import ApplicationError
from alignment.models import Account, ImportJob, ImportStatus, Membership, Organization, ProductArea
from alignment.permissions import Perm, role_has_perm
from alignment.services import imports
from alignment.services.accounts import choice_lookup, parse_choice, parse_date
from alignment.services.audit import audit_record, audit_source
from alignment.services.imports import CsvColumns, ImportProgress, RowError
from alignment.services.notifications import notification_create
from alignment.tenancy import tenant_context
from feedback.models import Category, Feedback, Source, Theme, ThemeStatus, Urgency
from feedback.services import categories_ensure_defaults, feedback_log

logger = logging.getLogger(__name__)

IMPORT_KIND = "feedback"
MAX_VERBATIM = 10_000
# Older than this is a typo (a two-digit year read as 0025), not historical feedback.
EARLIEST_LOGGED_AT = datetime.date(2000, 1, 1)
# A date without a time is read as this local time in the organization's time zone.
DATE_ONLY_TIME = datetime.time(12, 0)

FEEDBACK_COLUMNS = CsvColumns(
    required=("account", "verbatim"),
    optional=(
        "job_to_be_done",
        "workaround",
        "source",
        "product_area",
        "category",
        "urgency",
        "answer_needed_by",
        "logged_at",
        "logged_by",
        "theme",
    ),
    aliases={
        "account_id": "account",
        "account_name": "account",
        "crm_id": "account",
        "external_id": "account",
        "customer": "account",
        "feedback": "verbatim",
        "quote": "verbatim",
        "customer_words": "verbatim",
        "customers_words": "verbatim",
        "jtbd": "job_to_be_done",
        "job": "job_to_be_done",
        "area": "product_area",
        "needed_by": "answer_needed_by",
        "answer_by": "answer_needed_by",
        "date": "logged_at",
        "logged_on": "logged_at",
        "created_at": "logged_at",
        "logged_by_email": "logged_by",
        "csm_email": "logged_by",
        "theme_title": "theme",
    },
    plural="feedback rows",
    singular="piece of feedback",
    example_header="account,verbatim,logged_at,...",
)

_SOURCES = choice_lookup(Source)
_URGENCIES = choice_lookup(Urgency)
DATETIME_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S")


def _labels(choices: Any) -> str:
    return ", ".join(str(label) for _, label in choices.choices)


# --- Starting an import ------------------------------------------------------------------------


def feedback_import_start(
    *, org: Organization, actor: Membership, filename: str, content: bytes
) -> ImportJob:
    """Check the file, store it as an ImportJob and enqueue the import after commit."""
    if actor.organization_id != org.pk or not role_has_perm(actor.role, Perm.FEEDBACK_IMPORT):
        raise ApplicationError("Your role cannot import feedback.", code="permission_denied")
    prepared = imports.import_prepare(filename=filename, content=content, columns=FEEDBACK_COLUMNS)
    from feedback.tasks import run_feedback_import_task

    return imports.import_job_create(
        org=org,
        actor=actor,
        kind=IMPORT_KIND,
        filename=filename,
        prepared=prepared,
        task=run_feedback_import_task,
    )


# --- Parsing one row ---------------------------------------------------------------------------


def parse_logged_at(raw: str, tz: datetime.tzinfo) -> datetime.datetime:
    """A date (noon, local) or a date and time (local unless it carries an offset)."""
    text = raw.strip()
    moment: datetime.datetime | None = None
    if len(text) > 10 or ":" in text:
        try:
            moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            for fmt in DATETIME_FORMATS:
                try:
                    moment = datetime.datetime.strptime(text, fmt)  # noqa: DTZ007 - made aware below
                    break
                except ValueError:
                    continue
        if moment is None:
            raise ValueError(raw)
    else:
        moment = datetime.datetime.combine(parse_date(text), DATE_ONLY_TIME)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.replace(microsecond=0).astimezone(datetime.UTC)


@dataclass
class Lookups:
    """What rows refer to by name, read once per import (or once per chunk for the big ones)."""

    org: Organization
    importer: Membership
    members_by_email: dict[str, Membership]
    areas: dict[str, ProductArea]
    categories: dict[str, Category]
    accounts_by_id: dict[str, Account]
    accounts_by_name: dict[str, list[Account]]
    themes: dict[str, list[Theme]]


@dataclass
class ParsedRow:
    account: Account
    logged_by: Membership
    logged_at: datetime.datetime | None
    fields: dict[str, Any]


def _names(table: dict[str, Any], limit: int = 8) -> str:
    names = sorted(str(obj) for obj in table.values())
    if not names:
        return "none exist yet"
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def parse_row(values: dict[str, str], lookups: Lookups, now: datetime.datetime) -> ParsedRow:
    """One CSV row to feedback_log arguments. Raises RowError listing every problem of the row."""
    problems: list[str] = []
    fields: dict[str, Any] = {}

    account: Account | None = None
    ref = values.get("account", "")
    if not ref:
        problems.append("account is empty: give the account's CRM id or its name")
    elif ref in lookups.accounts_by_id:
        account = lookups.accounts_by_id[ref]
    else:
        matches = lookups.accounts_by_name.get(ref.lower(), [])
        if len(matches) == 1:
            account = matches[0]
        elif matches:
            problems.append(
                f"account “{ref}” matches {len(matches)} accounts by name; use the CRM id instead"
            )
        else:
            problems.append(f"no account with CRM id or name “{ref}”")

    verbatim = values.get("verbatim", "")
    if not verbatim:
        problems.append("verbatim is empty: every row needs the customer's words")
    elif len(verbatim) > MAX_VERBATIM:
        problems.append(f"verbatim is longer than {MAX_VERBATIM:,} characters")
    else:
        fields["verbatim"] = verbatim
    for name in ("job_to_be_done", "workaround"):
        if raw := values.get(name):
            if len(raw) > MAX_VERBATIM:
                problems.append(f"{name} is longer than {MAX_VERBATIM:,} characters")
            else:
                fields[name] = raw

    if raw := values.get("source"):
        try:
            fields["source"] = parse_choice(raw, _SOURCES)
        except ValueError:
            problems.append(f"source “{raw}” is not one of {_labels(Source)}")
    if raw := values.get("urgency"):
        try:
            fields["urgency"] = parse_choice(raw, _URGENCIES)
        except ValueError:
            problems.append(f"urgency “{raw}” is not one of {_labels(Urgency)}")
    if raw := values.get("product_area"):
        area = lookups.areas.get(raw.lower())
        if area is None:
            problems.append(
                f"product_area “{raw}” is not a product area here ({_names(lookups.areas)})"
            )
        else:
            fields["product_area"] = area
    if raw := values.get("category"):
        category = lookups.categories.get(raw.lower())
        if category is None:
            problems.append(
                f"category “{raw}” is not a category here ({_names(lookups.categories)})"
            )
        else:
            fields["category"] = category
    if raw := values.get("answer_needed_by"):
        try:
            fields["answer_needed_by"] = parse_date(raw)
        except ValueError:
            problems.append(
                f"answer_needed_by “{raw}” is not a date (write YYYY-MM-DD or M/D/YYYY)"
            )

    logged_at: datetime.datetime | None = None
    if raw := values.get("logged_at"):
        try:
            logged_at = parse_logged_at(raw, lookups.org.tzinfo)
        except ValueError:
            problems.append(
                f"logged_at “{raw}” is not a date or date and time "
                "(write YYYY-MM-DD, M/D/YYYY or YYYY-MM-DD HH:MM)"
            )
        else:
            if logged_at > now:
                problems.append(f"logged_at {raw} is in the future")
            elif logged_at.date() < EARLIEST_LOGGED_AT:
                problems.append(f"logged_at {raw} is before {EARLIEST_LOGGED_AT.year}")

    logged_by = lookups.importer
    if raw := values.get("logged_by"):
        member = lookups.members_by_email.get(raw.lower())
        if member is None:
            problems.append(f"logged_by {raw} is not a member of this organization")
        else:
            logged_by = member

    theme_title = " ".join(values.get("theme", "").split())
    if theme_title:
        themes = lookups.themes.get(theme_title.lower(), [])
        if len(themes) == 1:
            fields["theme"] = themes[0]
        elif themes:
            problems.append(
                f"theme “{theme_title}” matches {len(themes)} open themes; "
                "merge them or leave theme blank"
            )
        else:
            problems.append(
                f"no open theme titled “{theme_title}” (create it first, or leave theme blank "
                "to put the feedback in the triage queue)"
            )

    if problems:
        raise RowError("; ".join(problems))
    assert account is not None
    return ParsedRow(account=account, logged_by=logged_by, logged_at=logged_at, fields=fields)


# --- Running an import -------------------------------------------------------------------------


def feedback_import_run(*, org_id: int, import_id: int) -> None:
    """Run one pending feedback import to the end. Safe to call twice: only the first runs it."""
    with audit_source("task", label="feedback import"):
        if not imports.import_claim(org_id=org_id, import_id=import_id, kind=IMPORT_KIND):
            return
        try:
            _run(org_id=org_id, import_id=import_id)
        except Exception as exc:
            # Whatever broke, the job must not stay "running" forever. Chunks committed
            # before the crash stay imported, and re-importing the file skips them.
            logger.exception("feedback import %s of org %s crashed", import_id, org_id)
            imports.import_fail(
                org_id=org_id, import_id=import_id, exc=exc, action="feedback.import_failed"
            )


def _run(*, org_id: int, import_id: int) -> None:
    with tenant_context(org_id):
        org = Organization.objects.get(pk=org_id)
        job = ImportJob.objects.for_org(org).select_related("created_by__user").get(pk=import_id)
        if job.created_by is None:
            raise RuntimeError("the member who uploaded the file no longer exists")
        categories_ensure_defaults(org=org)
        members = list(Membership.objects.for_org(org).select_related("user"))
        lookups = Lookups(
            org=org,
            importer=job.created_by,
            members_by_email={m.user.email.lower(): m for m in members},
            areas={a.name.lower(): a for a in ProductArea.objects.for_org(org)},
            categories={c.name.lower(): c for c in Category.objects.for_org(org)},
            accounts_by_id={},
            accounts_by_name={},
            themes={},
        )
    table = imports.csv_table(job.content, FEEDBACK_COLUMNS)
    progress = ImportProgress()
    seen: dict[tuple[int, str, datetime.datetime | None], int] = {}
    logged_by: Counter[int] = Counter()
    now = timezone.now()
    for chunk in imports.import_chunks(table.records()):
        with tenant_context(org_id):
            _import_chunk(
                org=org,
                chunk=chunk,
                lookups=lookups,
                seen=seen,
                logged_by=logged_by,
                progress=progress,
                now=now,
            )
            ImportJob.objects.for_org(org).filter(pk=import_id).update(**progress.counters())
    with tenant_context(org_id):
        ImportJob.objects.for_org(org).filter(pk=import_id).update(
            status=ImportStatus.DONE, finished_at=timezone.now(), **progress.counters()
        )
        already = progress.processed - progress.created - progress.rejected
        audit_record(
            org=org,
            actor=job.created_by.user,
            action="feedback.imported",
            target=job,
            changes={
                "filename": job.filename,
                "rows": progress.processed,
                "imported": progress.created,
                "already_imported": already,
                "rejected": progress.rejected,
            },
        )
        _notify_logged_by(org=org, job=job, logged_by=logged_by, members=members)


def _load_chunk_lookups(
    org: Organization, chunk: list[tuple[int, dict[str, str]]], lookups: Lookups
) -> None:
    """Accounts and themes the chunk names: a few queries per chunk, none per row."""
    refs = {values.get("account", "") for _, values in chunk} - {""}
    by_id: dict[str, Account] = {}
    by_name: dict[str, list[Account]] = {}
    if refs:
        by_id = {
            a.external_id: a for a in Account.objects.for_org(org).filter(external_id__in=refs)
        }
        # Names compare without case; the ones that are not CRM ids are looked up by name.
        names = {ref.lower() for ref in refs if ref not in by_id}
        if names:
            for account in (
                Account.objects.for_org(org)
                .annotate(name_key=Lower("name"))
                .filter(name_key__in=names)
                .order_by("pk")
            ):
                by_name.setdefault(account.name_key, []).append(account)
    titles = {" ".join(values.get("theme", "").split()).lower() for _, values in chunk} - {""}
    themes: dict[str, list[Theme]] = {}
    if titles:
        for theme in (
            Theme.objects.for_org(org)
            .annotate(title_key=Lower("title"))
            .filter(title_key__in=titles, merged_into__isnull=True)
            .exclude(status=ThemeStatus.ARCHIVED)
            .order_by("pk")
        ):
            themes.setdefault(theme.title_key, []).append(theme)
    lookups.accounts_by_id, lookups.accounts_by_name, lookups.themes = by_id, by_name, themes


def _dedupe_key(
    account_id: int, verbatim: str, logged_at: datetime.datetime | None
) -> tuple[int, str, datetime.datetime | None]:
    return (account_id, verbatim.strip(), logged_at)


def _stored_keys(
    org: Organization, parsed: list[ParsedRow]
) -> tuple[set[tuple[int, str, datetime.datetime | None]], set[tuple[int, str]]]:
    """What is already stored for the chunk's accounts and words: (account, words, when)."""
    accounts = {row.account.pk for row in parsed}
    verbatims = {row.fields.get("verbatim", "").strip() for row in parsed}
    timed: set[tuple[int, str, datetime.datetime | None]] = set()
    undated: set[tuple[int, str]] = set()
    if not accounts:
        return timed, undated
    for account_id, verbatim, created_at in (
        Feedback.objects.for_org(org)
        .filter(account_id__in=accounts, verbatim__in=verbatims)
        .values_list("account_id", "verbatim", "created_at")
    ):
        timed.add(_dedupe_key(account_id, verbatim, created_at))
        undated.add((account_id, verbatim.strip()))
    return timed, undated


def _import_chunk(
    *,
    org: Organization,
    chunk: list[tuple[int, dict[str, str]]],
    lookups: Lookups,
    seen: dict[tuple[int, str, datetime.datetime | None], int],
    logged_by: Counter[int],
    progress: ImportProgress,
    now: datetime.datetime,
) -> None:
    _load_chunk_lookups(org, chunk, lookups)
    parsed: dict[int, ParsedRow] = {}
    for row, values in chunk:
        progress.processed += 1
        try:
            parsed[row] = parse_row(values, lookups, now)
        except RowError as exc:
            progress.reject(row, values.get("account", ""), str(exc))
    timed, undated = _stored_keys(org, list(parsed.values()))
    created: list[int] = []
    for row, values in chunk:
        if row not in parsed:
            continue
        item = parsed[row]
        ref = values.get("account", "")
        verbatim = item.fields["verbatim"]
        key = _dedupe_key(item.account.pk, verbatim, item.logged_at)
        if key in seen:
            progress.skip(row, ref, f"same account, words and date as row {seen[key]}: skipped")
            continue
        seen[key] = row
        if key in timed or (item.logged_at is None and key[:2] in undated):
            progress.skip(row, ref, "already imported")
            continue
        try:
            feedback = feedback_log(
                org=org,
                actor=item.logged_by,
                account=item.account,
                logged_at=item.logged_at,
                **item.fields,
            )
        except ApplicationError as exc:
            progress.reject(row, ref, imports.import_error_text(exc))
        except DatabaseError as exc:
            logger.warning("feedback import row %s could not be saved: %s", row, exc)
            progress.reject(row, ref, "the row could not be saved (it breaks a rule)")
        else:
            progress.created += 1
            created.append(feedback.pk)
            logged_by[item.logged_by.pk] += 1
    _quiet_past_clocks(org=org, feedback_ids=created, now=now)


def _quiet_past_clocks(
    *, org: Organization, feedback_ids: list[int], now: datetime.datetime
) -> None:
    """Historical rows whose clock ran out before Seam knew of them are simply overdue.

    They sit at the top of the triage queue marked overdue; the SLA sweep's reminder and
    breach notices (one per item) are marked as already past, so a spreadsheet of old
    feedback does not turn into hundreds of notices about deadlines nobody could have met.
    A clock still running at import time is left to the sweep as usual.
    """
    if not feedback_ids:
        return
    untriaged = Feedback.objects.for_org(org).filter(pk__in=feedback_ids, triaged_at__isnull=True)
    untriaged.filter(due_at__lte=now).update(reminder_sent_at=now, breach_notified_at=now)
    untriaged.filter(remind_at__lte=now, reminder_sent_at__isnull=True).update(reminder_sent_at=now)


def _notify_logged_by(
    *, org: Organization, job: ImportJob, logged_by: Counter[int], members: list[Membership]
) -> None:
    """One notification per member the import logged feedback for, not one per row."""
    by_pk = {m.pk: m for m in members}
    for member_pk, count in logged_by.items():
        member = by_pk.get(member_pk)
        if member is None or member.pk == job.created_by_id:
            continue
        plural = "s" if count != 1 else ""
        notification_create(
            org=org,
            recipient=member,
            kind="feedback.imported",
            title=f"{count} feedback item{plural} imported in your name",
            body=f"The import of {job.filename} recorded {count} piece{plural} of historical "
            "feedback as logged by you. They are listed under My feedback.",
            url=reverse("feedback:my-feedback", kwargs={"org_slug": org.slug}),
            dedupe_key=f"import:{job.pk}:feedback:{member.pk}",
        )


# --- Reads for the pages -----------------------------------------------------------------------


def feedback_import_list(*, org: Organization, limit: int = 10) -> list[ImportJob]:
    """The latest feedback imports, without their (possibly large) file content."""
    return list(
        ImportJob.objects.for_org(org)
        .filter(kind=IMPORT_KIND)
        .defer("content", "errors")
        .select_related("created_by__user")
        .order_by("-created_at", "-id")[:limit]
    )


def feedback_import_get(*, org: Organization, pk: int, with_content: bool = False) -> ImportJob:
    jobs: QuerySet[ImportJob] = (
        ImportJob.objects.for_org(org).filter(kind=IMPORT_KIND).select_related("created_by__user")
    )
    if not with_content:
        jobs = jobs.defer("content")
    return get_object_or_404(jobs, pk=pk)


def feedback_import_summary(job: ImportJob) -> dict[str, Any]:
    """Imported, already imported and rejected rows, and the report's two lists."""
    rejected = [e for e in job.errors if not e.get("skipped")]
    skipped = [e for e in job.errors if e.get("skipped")]
    return {
        "imported": job.created_count,
        "already": max(0, job.processed_rows - job.created_count - job.error_count),
        "rejected": job.error_count,
        "rejected_rows": rejected,
        "skipped_rows": skipped,
        "shown_errors": len(rejected),
    }


def feedback_import_rejected_csv(*, job: ImportJob) -> str:
    return imports.import_rejected_rows_csv(job=job, columns=FEEDBACK_COLUMNS)


def feedback_import_ignored_columns(*, job: ImportJob) -> list[str]:
    return imports.import_ignored_columns(job=job, columns=FEEDBACK_COLUMNS)
