"""The feedback CSV import's pages in the cross-organization sweep."""

from __future__ import annotations

from typing import Any

from feedback.services_import import feedback_import_run, feedback_import_start

KWARGS_FROM = {
    "feedback:feedback-import-status": lambda o: {"pk": o.extra["feedback_import_job"].pk},
    "feedback:feedback-import-rejected": lambda o: {"pk": o.extra["feedback_import_job"].pk},
}


def populate(o: Any) -> dict[str, Any]:
    job = feedback_import_start(
        org=o.org,
        actor=o.admin,
        filename="feedback.csv",
        content=f"account,verbatim\n{o.account.external_id},Isolation\nNO-SUCH-ID,x\n".encode(),
    )
    # Run it, so the report has a rejected row to download.
    feedback_import_run(org_id=o.org.pk, import_id=job.pk)
    job.refresh_from_db()
    return {"feedback_import_job": job}
