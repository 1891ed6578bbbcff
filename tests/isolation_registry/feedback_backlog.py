"""The Backlog hygiene page's restore URLs in the cross-organization sweep."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone

from feedback import purge, services
from feedback.models import Feedback, Theme
from tests.factories import AccountFactory

KWARGS_FROM = {
    "feedback:backlog-theme-restore": lambda o: {"pk": o.extra["archived_theme"].pk},
    "feedback:backlog-feedback-restore": lambda o: {"pk": o.extra["archived_feedback"].pk},
}


def populate(o: Any) -> dict[str, Any]:
    """A stale theme and a stale feedback, archived by a real purge run."""
    long_ago = timezone.now() - datetime.timedelta(days=800)
    account = AccountFactory(organization=o.org, arr=Decimal("0"))
    theme = services.theme_create(
        org=o.org, actor=o.admin, data=services.NewTheme(title="Stale isolation theme")
    )
    Theme.objects.for_org(o.org).filter(pk=theme.pk).update(
        created_at=long_ago, status_changed_at=long_ago
    )
    theme.events.update(created_at=long_ago)
    item = services.feedback_log(
        org=o.org, actor=o.admin, account=account, verbatim="Stale ask", logged_at=long_ago
    )
    Feedback.objects.for_org(o.org).filter(pk=item.pk).update(updated_at=long_ago)
    result = purge.backlog_purge_run(org=o.org, actor=None)
    assert theme.pk in result.theme_ids and item.pk in result.feedback_ids
    return {"archived_theme": theme, "archived_feedback": item}
