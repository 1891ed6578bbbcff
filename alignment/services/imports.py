"""The account CSV import: check the file at upload, then upsert rows in a worker.

At upload (``account_import_start``) the file is rejected as a whole when it cannot be an
account list at all (not text, empty, too large, required columns missing); otherwise an
``ImportJob`` holds the decoded text and a task is enqueued after commit.

The worker (``import_run``) claims the job with a conditional UPDATE from pending to running,
so a job runs once however often the task is delivered. It reads rows in chunks; each chunk
is one transaction that ends by storing the progress counters, so the status page sees
progress while the import runs. Each row is saved on its own savepoint: a bad row is
recorded in the report and the good ones are kept. Rows are keyed on the CRM id, so
importing the same file twice updates instead of duplicating; a row identical to what is
stored is left alone and counted as unchanged (processed - created - updated - rejected).

The file checks (``import_prepare`` with a ``CsvColumns``), the claim (``import_claim``),
chunking, the progress counters and the rejected-rows download are shared with the other
CSV imports (``feedback/services_import.py``); only the row handling differs by kind.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.db import DatabaseError, transaction
from django.urls import reverse
from django.utils import timezone

from alignment.errors import ApplicationError
from alignment.models import (
    Account,
    ImportJob,
    ImportStatus,
    LifecycleStage,
    Membership,
    Organization,
    RiskFactor,
    Role,
    Segment,
)
from alignment.permissions import Perm, role_has_perm
from alignment.services.accounts import (
    ACCOUNT_FIELDS,
    MAX_ARR,
    account_check_values,
    choice_lookup,
    parse_choice,
    parse_date,
    parse_money,
)
from alignment.services.audit import audit_record, audit_source, snapshot
from alignment.services.notifications import notification_create
from alignment.tenancy import tenant_context
from feedback.impact import IMPACT_FIELDS, account_refresh_impact

logger = logging.getLogger(__name__)

IMPORT_KIND = "accounts"
CHUNK_SIZE = 500
# The report keeps this many rejected rows; the counts are always complete.
MAX_STORED_ERRORS = 2000

REQUIRED_COLUMNS = ("external_id", "name")
OPTIONAL_COLUMNS = (
    "arr",
    "segment",
    "renewal_date",
    "health_score",
    "lifecycle_stage",
    "csm_email",
    "primary_risk",
    "primary_risk_note",
)
# Headings people commonly use for the same columns (after normalization).
COLUMN_ALIASES = {
    "crm_id": "external_id",
    "externalid": "external_id",
    "account_name": "name",
    "csm": "csm_email",
    "owner_email": "csm_email",
    "health": "health_score",
    "stage": "lifecycle_stage",
    "lifecycle": "lifecycle_stage",
    "renewal": "renewal_date",
    "risk": "primary_risk",
    "risk_note": "primary_risk_note",
}
ALLOWED_EXTENSIONS = (".csv", ".txt", ".tsv")


@dataclass(frozen=True)
class CsvColumns:
    """What one kind of import reads: its columns, the headings accepted for them, and the
    words its messages use ("no accounts below it. Add one row per account")."""

    required: tuple[str, ...]
    optional: tuple[str, ...]
    aliases: dict[str, str]
    plural: str
    singular: str
    example_header: str

    @property
    def known(self) -> frozenset[str]:
        return frozenset(self.required) | frozenset(self.optional)


ACCOUNT_COLUMNS = CsvColumns(
    required=REQUIRED_COLUMNS,
    optional=OPTIONAL_COLUMNS,
    aliases=COLUMN_ALIASES,
    plural="accounts",
    singular="account",
    example_header="external_id,name,arr,...",
)

_SEGMENTS = choice_lookup(Segment)
_STAGES = choice_lookup(LifecycleStage)
_RISKS = choice_lookup(RiskFactor)


def _labels(choices: Any) -> str:
    return ", ".join(str(label) for _, label in choices.choices)


# --- Reading the file ----------------------------------------------------------------------------


def _normalize_heading(text: str, aliases: dict[str, str]) -> str:
    key = re.sub(r"[^a-z0-9]+", "_", text.strip().lower()).strip("_")
    return aliases.get(key, key)


@dataclass
class CsvTable:
    """The decoded text with its column mapping: ``columns[i]`` names the i-th cell."""

    text: str
    delimiter: str
    headings: list[str]
    columns: list[str | None]

    @property
    def ignored(self) -> list[str]:
        return [h for h, c in zip(self.headings, self.columns, strict=False) if c is None and h]

    def records(self) -> Iterator[tuple[int, dict[str, str]]]:
        """Data rows as (row number as a spreadsheet shows it, {column: cell}); blank rows skipped."""
        reader = csv.reader(io.StringIO(self.text, newline=""), delimiter=self.delimiter)
        next(reader, None)
        for index, cells in enumerate(reader, start=2):
            if not any(cell.strip() for cell in cells):
                continue
            values = {
                column: cell.strip()
                for column, cell in zip(self.columns, cells, strict=False)
                if column is not None
            }
            yield index, values

    def rows_by_number(self) -> Iterator[tuple[int, list[str]]]:
        reader = csv.reader(io.StringIO(self.text, newline=""), delimiter=self.delimiter)
        yield from enumerate(reader, start=1)


def _decode(content: bytes) -> str:
    if b"\x00" in content[:65536]:
        raise ApplicationError(
            "This is not a CSV file (it looks like a spreadsheet or other binary file). "
            "In Excel or Google Sheets, save or download it as CSV first."
        )
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        # Excel on Windows saves "CSV" in this encoding unless told "CSV UTF-8".
        return content.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise ApplicationError(
            "The file could not be read as text. Save it as “CSV UTF-8” and upload it again."
        ) from exc


def _sniff_delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def csv_table(text: str, columns_spec: CsvColumns = ACCOUNT_COLUMNS) -> CsvTable:
    """Parse the header of a decoded CSV; raise ApplicationError if it lacks required columns."""
    first_line = text.split("\n", 1)[0]
    delimiter = _sniff_delimiter(first_line)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        headings = [h.strip() for h in next(reader, [])]
    except csv.Error as exc:
        raise ApplicationError(f"The first row could not be read as CSV: {exc}.") from exc
    known = columns_spec.known
    columns: list[str | None] = []
    seen: set[str] = set()
    for heading in headings:
        column = _normalize_heading(heading, columns_spec.aliases)
        if column in seen:
            raise ApplicationError(f"The column “{heading}” appears twice in the first row.")
        if column in known:
            seen.add(column)
            columns.append(column)
        else:
            columns.append(None)
    missing = [c for c in columns_spec.required if c not in seen]
    if missing:
        found = ", ".join(h for h in headings if h) or "nothing"
        raise ApplicationError(
            f"The file is missing the required column{'s' if len(missing) > 1 else ''} "
            f"{' and '.join(missing)}. The first row must name the columns "
            f"(e.g. {columns_spec.example_header}); it has: {found[:300]}."
        )
    return CsvTable(text=text, delimiter=delimiter, headings=headings, columns=columns)


@dataclass(frozen=True)
class PreparedImport:
    table: CsvTable
    total_rows: int


def import_prepare(
    *, filename: str, content: bytes, columns: CsvColumns = ACCOUNT_COLUMNS
) -> PreparedImport:
    """Reject a file that cannot be this kind of list, with a message that says what to do."""
    limit = settings.SEAM_IMPORT_MAX_BYTES
    if len(content) > limit:
        raise ApplicationError(
            f"The file is {_size(len(content))}; the limit is {_size(limit)}. "
            "Split it into smaller files and import them one after another."
        )
    if PurePath(filename or "").suffix.lower() not in ALLOWED_EXTENSIONS:
        raise ApplicationError(
            "Upload a .csv file. In Excel or Google Sheets, choose File → Save as (or "
            "Download) → CSV."
        )
    if not content.strip():
        raise ApplicationError("The file is empty.")
    table = csv_table(_decode(content), columns)
    try:
        total = sum(1 for _ in table.records())
    except csv.Error as exc:
        raise ApplicationError(f"The file is not valid CSV: {exc}.") from exc
    if total == 0:
        raise ApplicationError(
            f"The file has a header row but no {columns.plural} below it. "
            f"Add one row per {columns.singular}."
        )
    return PreparedImport(table=table, total_rows=total)


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MB"
    return f"{max(1, round(n / 1024))} KB"


# --- Starting an import ------------------------------------------------------------------------


def account_import_start(
    *, org: Organization, actor: Membership, filename: str, content: bytes
) -> ImportJob:
    """Check the file, store it as an ImportJob and enqueue the import after commit."""
    if actor.organization_id != org.pk or not role_has_perm(actor.role, Perm.ACCOUNT_IMPORT):
        raise ApplicationError("Your role cannot import accounts.", code="permission_denied")
    prepared = import_prepare(filename=filename, content=content)
    from alignment.tasks import run_import_task

    return import_job_create(
        org=org,
        actor=actor,
        kind=IMPORT_KIND,
        filename=filename,
        prepared=prepared,
        task=run_import_task,
    )


def import_job_create(
    *,
    org: Organization,
    actor: Membership,
    kind: str,
    filename: str,
    prepared: PreparedImport,
    task: Any,
) -> ImportJob:
    """Store a checked file as an ImportJob of ``kind`` and run ``task`` on it after commit
    (the worker never sees a job whose row is not committed yet)."""
    with transaction.atomic():
        job = ImportJob.objects.for_org(org).create(
            organization=org,
            kind=kind,
            created_by=actor,
            filename=PurePath(filename).name[:255],
            content=prepared.table.text,
            total_rows=prepared.total_rows,
        )
        org_id, import_id = org.pk, job.pk
        transaction.on_commit(lambda: task.delay(org_id=org_id, import_id=import_id))
    return job


# --- Parsing one row -----------------------------------------------------------------------------


class RowError(Exception):
    pass


def parse_row(values: dict[str, str], members_by_email: dict[str, Membership]) -> dict[str, Any]:
    """One CSV row to account fields. Blank optional cells are left out (kept as stored).

    Raises RowError listing every problem of the row, so one upload shows them all.
    """
    problems: list[str] = []
    fields: dict[str, Any] = {}

    external_id = values.get("external_id", "")
    if not external_id:
        problems.append("external_id is empty: every row needs the account's CRM id")
    elif len(external_id) > 128:
        problems.append("external_id is longer than 128 characters")
    else:
        fields["external_id"] = external_id
    name = values.get("name", "")
    if not name:
        problems.append("name is empty")
    elif len(name) > 200:
        problems.append("name is longer than 200 characters")
    else:
        fields["name"] = name

    if raw := values.get("arr"):
        try:
            arr = parse_money(raw)
        except ValueError:
            problems.append(f"arr “{raw}” is not an amount (write e.g. 1200000 or $1,200,000.50)")
        else:
            if arr < 0:
                problems.append(f"arr {raw} is negative")
            elif arr > MAX_ARR:
                problems.append(f"arr {raw} is too large")
            else:
                fields["arr"] = arr
    if raw := values.get("segment"):
        try:
            fields["segment"] = parse_choice(raw, _SEGMENTS)
        except ValueError:
            problems.append(f"segment “{raw}” is not one of {_labels(Segment)}")
    if raw := values.get("renewal_date"):
        try:
            fields["renewal_date"] = parse_date(raw)
        except ValueError:
            problems.append(f"renewal_date “{raw}” is not a date (write YYYY-MM-DD or M/D/YYYY)")
    if raw := values.get("health_score"):
        try:
            score = Decimal(raw.rstrip("%").strip())
            if score != score.to_integral_value() or not 0 <= score <= 100:
                raise ValueError(raw)
            fields["health_score"] = int(score)
        except (ValueError, ArithmeticError):
            problems.append(f"health_score “{raw}” must be a whole number from 0 to 100")
    if raw := values.get("lifecycle_stage"):
        try:
            fields["lifecycle_stage"] = parse_choice(raw, _STAGES)
        except ValueError:
            problems.append(f"lifecycle_stage “{raw}” is not one of {_labels(LifecycleStage)}")
    if raw := values.get("csm_email"):
        member = members_by_email.get(raw.lower())
        if member is None:
            problems.append(f"csm_email {raw} is not an active member of this organization")
        elif member.role != Role.CSM:
            problems.append(f"csm_email {raw} belongs to a {member.get_role_display()}, not a CSM")
        else:
            fields["csm"] = member
    if raw := values.get("primary_risk"):
        try:
            fields["primary_risk"] = parse_choice(raw, _RISKS)
        except ValueError:
            problems.append(f"primary_risk “{raw}” is not one of {_labels(RiskFactor)}")
    if raw := values.get("primary_risk_note"):
        if len(raw) > 500:
            problems.append("primary_risk_note is longer than 500 characters")
        else:
            fields["primary_risk_note"] = raw
    if problems:
        raise RowError("; ".join(problems))
    return fields


# --- Running an import ---------------------------------------------------------------------------


@dataclass
class ImportProgress:
    """The counters and the per-row report of a running import, stored after every chunk."""

    processed: int = 0
    created: int = 0
    updated: int = 0
    rejected: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    assigned: Counter[int] = field(default_factory=Counter)
    impact_changed: set[int] = field(default_factory=set)

    def reject(self, row: int, external_id: str, message: str) -> None:
        self.rejected += 1
        if len(self.errors) < MAX_STORED_ERRORS:
            self.errors.append({"row": row, "external_id": external_id, "message": message})

    def skip(self, row: int, external_id: str, message: str) -> None:
        """A row left alone on purpose (already imported): reported, but not an error.

        Counted as neither created, updated nor rejected; kept in ``errors`` with
        ``skipped`` so the report can list it apart from the rejected rows.
        """
        if len(self.errors) < MAX_STORED_ERRORS:
            self.errors.append(
                {"row": row, "external_id": external_id, "message": message, "skipped": True}
            )

    def counters(self) -> dict[str, Any]:
        return {
            "processed_rows": self.processed,
            "created_count": self.created,
            "updated_count": self.updated,
            "error_count": self.rejected,
            "errors": self.errors,
        }


def import_chunks(
    rows: Iterator[tuple[int, dict[str, str]]], size: int | None = None
) -> Iterator[list[tuple[int, dict[str, str]]]]:
    size = size or CHUNK_SIZE
    chunk: list[tuple[int, dict[str, str]]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def import_error_text(exc: ApplicationError) -> str:
    """A service's error as one line of the report: its field messages, else its message."""
    messages = [m for ms in exc.field_errors.values() for m in ms]
    return "; ".join(messages) or exc.message


def import_claim(*, org_id: int, import_id: int, kind: str) -> bool:
    """Move a pending job of this kind to running; True only for the caller that did it.

    Only the caller whose UPDATE moves the row out of "pending" runs the import; a second
    delivery of the task (or a job already finished, or a job of another kind) finds
    nothing to do.
    """
    with tenant_context(org_id):
        claimed = (
            ImportJob.objects.for_org(org_id)
            .filter(pk=import_id, kind=kind, status=ImportStatus.PENDING)
            .update(status=ImportStatus.RUNNING, started_at=timezone.now())
        )
    if not claimed:
        logger.info("%s import %s of org %s is not pending; nothing to do", kind, import_id, org_id)
    return bool(claimed)


def import_run(*, org_id: int, import_id: int) -> None:
    """Run one pending import to the end. Safe to call twice: only the first call runs it."""
    with audit_source("task"):
        if not import_claim(org_id=org_id, import_id=import_id, kind=IMPORT_KIND):
            return
        try:
            _run(org_id=org_id, import_id=import_id)
        except Exception as exc:
            # Whatever broke, the job must not stay "running" forever: mark it failed with
            # a message. Chunks committed before the crash stay imported.
            logger.exception("import %s of org %s crashed", import_id, org_id)
            import_fail(org_id=org_id, import_id=import_id, exc=exc, action="account.import_failed")


def _run(*, org_id: int, import_id: int) -> None:
    with tenant_context(org_id):
        org = Organization.objects.get(pk=org_id)
        job = ImportJob.objects.for_org(org_id).select_related("created_by__user").get(pk=import_id)
        members_by_email = {
            m.user.email.lower(): m
            for m in Membership.objects.for_org(org_id)
            .filter(is_active=True)
            .select_related("user")
        }
    table = csv_table(job.content)
    organization = Organization.objects.get(pk=org_id)
    progress = ImportProgress()
    first_seen: dict[str, int] = {}
    for chunk in import_chunks(table.records()):
        with tenant_context(org_id):
            _import_chunk(
                org_id=org_id,
                chunk=chunk,
                members_by_email=members_by_email,
                first_seen=first_seen,
                progress=progress,
            )
            # Scores of feedback and themes follow the new ARR, renewal dates and stages.
            account_refresh_impact(org=organization, account_ids=progress.impact_changed)
            progress.impact_changed.clear()
            ImportJob.objects.for_org(org_id).filter(pk=import_id).update(**progress.counters())
    with tenant_context(org_id):
        ImportJob.objects.for_org(org_id).filter(pk=import_id).update(
            status=ImportStatus.DONE, finished_at=timezone.now(), **progress.counters()
        )
        actor = job.created_by
        audit_record(
            org=org,
            actor=actor.user if actor else None,
            action="account.imported",
            target=job,
            changes={
                "filename": job.filename,
                "rows": progress.processed,
                "created": progress.created,
                "updated": progress.updated,
                "unchanged": progress.processed
                - progress.created
                - progress.updated
                - progress.rejected,
                "rejected": progress.rejected,
            },
        )
        _notify_assigned(org=org, job=job, progress=progress, members_by_email=members_by_email)


def _import_chunk(
    *,
    org_id: int,
    chunk: list[tuple[int, dict[str, str]]],
    members_by_email: dict[str, Membership],
    first_seen: dict[str, int],
    progress: ImportProgress,
) -> None:
    wanted = {values.get("external_id", "") for _, values in chunk} - {""}
    existing = {
        account.external_id: account
        for account in Account.objects.for_org(org_id)
        .filter(external_id__in=wanted)
        .select_related("csm__user")
    }
    for row, values in chunk:
        progress.processed += 1
        external_id = values.get("external_id", "")
        try:
            if external_id in first_seen:
                raise RowError(
                    f"external_id {external_id} already appeared on row "
                    f"{first_seen[external_id]} of this file; each account may appear once"
                )
            if external_id:
                first_seen[external_id] = row
            fields = parse_row(values, members_by_email)
            account = existing.get(external_id)
            if account is None:
                _create(org_id=org_id, fields=fields, progress=progress)
            else:
                _update(account=account, fields=fields, progress=progress)
        except RowError as exc:
            progress.reject(row, external_id, str(exc))
        except ApplicationError as exc:
            progress.reject(row, external_id, import_error_text(exc))
        except DatabaseError as exc:
            logger.warning("import row %s could not be saved: %s", row, exc)
            progress.reject(row, external_id, "the row could not be saved (it breaks a rule)")


def _create(*, org_id: int, fields: dict[str, Any], progress: ImportProgress) -> None:
    account = Account(organization_id=org_id, **fields)
    account_check_values(account)
    with transaction.atomic():
        account.save()
    progress.created += 1
    if account.csm_id:
        progress.assigned[account.csm_id] += 1


def _update(*, account: Account, fields: dict[str, Any], progress: ImportProgress) -> None:
    before = snapshot(account, ACCOUNT_FIELDS)
    old_csm = account.csm_id
    for name, value in fields.items():
        setattr(account, name, value)
    account_check_values(account)
    after = snapshot(account, ACCOUNT_FIELDS)
    if after == before:
        return  # unchanged: processed, neither created nor updated
    with transaction.atomic():
        account.save()
    progress.updated += 1
    if any(before.get(name) != after.get(name) for name in IMPACT_FIELDS):
        progress.impact_changed.add(account.pk)
    if account.csm_id and account.csm_id != old_csm:
        progress.assigned[account.csm_id] += 1


def _notify_assigned(
    *,
    org: Organization,
    job: ImportJob,
    progress: ImportProgress,
    members_by_email: dict[str, Membership],
) -> None:
    """One notification per CSM who received accounts, not one per account."""
    members = {m.pk: m for m in members_by_email.values()}
    for csm_id, count in progress.assigned.items():
        member = members.get(csm_id)
        if member is None or member.pk == job.created_by_id:
            continue
        notification_create(
            org=org,
            recipient=member,
            kind="account.assigned",
            title=f"{count} account{'s' if count != 1 else ''} assigned to you by an import",
            body=f"The import of {job.filename} made you the owning CSM of {count} "
            f"account{'s' if count != 1 else ''}.",
            url=reverse("alignment:account-list", kwargs={"org_slug": org.slug})
            + f"?csm={member.pk}",
            dedupe_key=f"import:{job.pk}:assigned:{member.pk}",
        )


def import_fail(*, org_id: int, import_id: int, exc: Exception, action: str) -> None:
    """Mark a crashed import failed with a message people can act on, and audit it."""
    message = (
        f"The import stopped unexpectedly ({type(exc).__name__}). Rows imported before "
        "that point were kept; import the file again to finish the rest."
    )
    with tenant_context(org_id):
        ImportJob.objects.for_org(org_id).filter(pk=import_id).update(
            status=ImportStatus.FAILED, failure_message=message, finished_at=timezone.now()
        )
        job = ImportJob.objects.for_org(org_id).select_related("created_by__user").get(pk=import_id)
        audit_record(
            org=Organization.objects.get(pk=org_id),
            actor=job.created_by.user if job.created_by else None,
            action=action,
            target=job,
            changes={"filename": job.filename, "error": type(exc).__name__},
        )


# --- The report -----------------------------------------------------------------------------------


def import_rejected_rows_csv(*, job: ImportJob, columns: CsvColumns = ACCOUNT_COLUMNS) -> str:
    """The rejected rows as they were uploaded, with the reason in an extra column.

    Fix them in a spreadsheet and upload this file again: the extra column is ignored.
    Rows skipped on purpose (already imported) are not rejected and are left out.
    """
    reasons = {entry["row"]: entry["message"] for entry in job.errors if not entry.get("skipped")}
    table = csv_table(job.content, columns)
    out = io.StringIO()
    writer = csv.writer(out)
    for number, cells in table.rows_by_number():
        if number == 1:
            writer.writerow([*cells, "error", "row"])
        elif number in reasons:
            writer.writerow([*cells, reasons[number], number])
    return out.getvalue()


def import_ignored_columns(*, job: ImportJob, columns: CsvColumns = ACCOUNT_COLUMNS) -> list[str]:
    return csv_table(job.content, columns).ignored
