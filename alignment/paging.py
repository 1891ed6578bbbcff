"""Pagination for the hot lists: counting every row of a 200,000-item queue costs more than
fetching the page, so the count stops at a cap and the page says "10,000+"."""

from __future__ import annotations

from functools import cached_property

from django.core.paginator import Paginator

COUNT_CAP = 10_000


class CappedPaginator(Paginator):
    """A paginator whose count is exact up to ``cap`` rows and ``cap`` beyond it.

    Pages past the cap are not reachable by number; the lists that use it are sorted by
    importance, so nobody pages that far.
    """

    def __init__(self, *args: object, cap: int = COUNT_CAP, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.cap = cap

    @cached_property
    def count(self) -> int:  # type: ignore[override]
        # COUNT(*) over a LIMITed subquery: stops after cap + 1 rows of the index walk.
        return self.object_list[: self.cap + 1].count()  # type: ignore[union-attr]

    @property
    def capped(self) -> bool:
        return self.count > self.cap

    @property
    def count_label(self) -> str:
        return f"{self.cap:,}+" if self.capped else f"{self.count:,}"
