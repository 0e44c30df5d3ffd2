"""Region look-ups shared by the pages and the API: search by Chinese name, pinyin or initials."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from xinqiao.core.models import Region

MAX_RESULTS = 20


def search_regions(q: str, *, level: int | None = None, within: str = "", limit: int = MAX_RESULTS) -> list[Region]:
    """Regions whose name contains ``q``, or whose pinyin or initials start with it (lower-cased).

    Exact and prefix matches come first, then higher levels; codes are accepted too.
    """
    q = q.strip()
    if not q:
        return []
    qs: QuerySet[Region] = Region.objects.select_related("parent")
    if q.isdigit():
        cond = Q(code__startswith=q)
    elif q.isascii():
        low = q.lower().replace(" ", "").replace("'", "")
        cond = Q(pinyin__startswith=low) | Q(initials__startswith=low)
    else:
        cond = Q(name__contains=q)
    qs = qs.filter(cond)
    if level:
        qs = qs.filter(level=level)
    if within:
        qs = qs.filter(code__startswith=within)
    rows = list(qs.order_by("level", "code")[: limit * 5])
    rows.sort(key=lambda r: (r.name != q and not r.name.startswith(q), r.level, r.code))
    return rows[:limit]
