"""Region browser (tree with counts) and the typeahead search by name or pinyin.

Division codes and names are public data; the counts shown are of sub-regions and organisations,
never of persons, so the browser needs no sign-in.
"""

from __future__ import annotations

from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from xinqiao.core.models import Organisation, Region
from xinqiao.core.regions import search_regions


def _children_with_counts(parent: Region | None) -> list[Region]:
    children = Region.objects.filter(parent=parent).annotate(n_children=Count("children")).order_by("code")
    rows: list[Region] = list(children)
    if rows:
        # One GROUP BY on the denormalised column of the children's level.
        column = rows[0].scope_column
        org_counts = dict(
            Organisation.objects.filter(**{f"{column}__in": [r.code for r in rows]})
            .values_list(column).annotate(n=Count("id")).values_list(column, "n")
        )
        for r in rows:
            r.n_orgs = org_counts.get(r.code, 0)  # type: ignore[attr-defined]
    return rows


def region_browser(request: HttpRequest) -> HttpResponse:
    """The provinces, expandable down to townships."""
    return render(request, "core/region_browser.html", {"children": _children_with_counts(None)})


def region_children(request: HttpRequest, code: str) -> HttpResponse:
    """The children of one region (an htmx fragment, or a full page without htmx)."""
    region = get_object_or_404(Region, code=code)
    template = "core/_region_children.html" if getattr(request, "htmx", False) else "core/region_detail.html"
    return render(request, template, {"region": region, "children": _children_with_counts(region), "path": region.path()})


def region_search(request: HttpRequest) -> HttpResponse:
    """Typeahead results for ``q`` (Chinese name, full pinyin, or initials)."""
    q = request.GET.get("q", "").strip()
    level = request.GET.get("level", "")
    results = search_regions(q, level=int(level) if level.isdigit() else None) if q else []
    return render(request, "core/_region_search_results.html", {"results": results, "q": q})

