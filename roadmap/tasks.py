"""Celery tasks of the roadmap: thin, idempotent, ids in and one service call out."""

from celery import shared_task


@shared_task(
    ignore_result=True, expires=3600, acks_late=True, reject_on_worker_lost=True, time_limit=1800
)
def send_monthly_briefings_task() -> dict[str, int]:
    from roadmap.briefing import monthly_briefings_send

    result = monthly_briefings_send()
    return {"organizations": result.organizations, "sent": result.sent}


@shared_task(ignore_result=True, expires=240, acks_late=True, reject_on_worker_lost=True)
def sweep_escalation_breaches_task() -> dict[str, int]:
    from roadmap.escalation_sweep import escalation_breach_sweep

    return {"breaches": escalation_breach_sweep().breaches}
