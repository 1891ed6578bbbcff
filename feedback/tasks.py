"""Celery tasks of the VoC pipeline: thin, idempotent."""

from celery import shared_task

from feedback.sla_sweep import triage_sla_sweep


@shared_task(ignore_result=True, expires=240, acks_late=True, reject_on_worker_lost=True)
def sweep_triage_sla_task() -> dict[str, int]:
    result = triage_sla_sweep()
    return {"reminders": result.reminders, "breaches": result.breaches}


@shared_task(ignore_result=True, acks_late=True, reject_on_worker_lost=True, time_limit=3600)
def rescore_organization_task(*, org_id: int) -> int:
    from feedback.impact import organization_rescore

    return organization_rescore(org_id=org_id)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_feedback_import_task(self, *, org_id: int, import_id: int) -> None:  # type: ignore[no-untyped-def]
    from feedback.services_import import feedback_import_run

    feedback_import_run(org_id=org_id, import_id=import_id)


@shared_task(ignore_result=True, acks_late=True, reject_on_worker_lost=True, time_limit=3600)
def purge_backlog_task() -> dict[str, int]:
    from feedback.purge import backlog_purge_all_organizations

    return backlog_purge_all_organizations()
