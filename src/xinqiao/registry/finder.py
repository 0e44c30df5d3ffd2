"""The public service finder: services near a place or a region, filtered, nearest first.

Issue 5, "Service map and finder"; 意见 5, 12-16. Only active institutions' public service points
are listed (kinds.json ``public``). With coordinates (the phone's location), the database keeps
the points inside a bounding box (two indexed range conditions), computes the exact haversine
distance for those rows only, orders by it and returns the first ``limit``: no row is looked at in
Python that is not shown. With a region instead, the points in the region come first, then the
ones registered at its city and province (which serve the whole area). "Urgent" puts the 24-hour
points first, nearest first among them.

Open now: 24-hour points, or an ``OpeningHours`` row covering this weekday and minute (an
``EXISTS`` subquery). Public holidays are not modelled: points say so in their hours note.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Case, Exists, F, FloatField, IntegerField, OuterRef, Q, Value, When
from django.db.models.functions import ASin, Cos, Least, Power, Radians, Sin, Sqrt
from django.utils import timezone

from xinqiao.core.models import Region, RegionKind, RegionLevel
from xinqiao.core.models.region import SCOPE_COLUMN
from xinqiao.core.regions_data import level_of
from xinqiao.registry import rules
from xinqiao.registry.models import InstitutionStatus, OpeningHours, PointService, ServicePoint


@dataclass
class Query:
    """What the public asked for."""

    region_code: str = ""
    latitude: float | None = None
    longitude: float | None = None
    filters: list[str] = field(default_factory=list)  # keys of rules.finder_filters()
    open_now: bool = False
    urgent: bool = False
    text: str = ""
    limit: int = 0  # 0: public.json finder_limit
    radius_km: float = 0  # 0: public.json finder_radius_km

    @property
    def located(self) -> bool:
        return rules.valid_coordinates(self.latitude, self.longitude)

    @property
    def asked(self) -> bool:
        return self.located or bool(self.region_code)


def valid_region(code: str) -> Region | None:
    """A province, city, county or township the public may choose (not a placeholder)."""
    if not code or not code.isdigit() or len(code) not in (2, 4, 6, 9):
        return None
    return Region.objects.filter(code=code).exclude(kind=RegionKind.PLACEHOLDER).first()


def distance_expression(lat: float, lon: float) -> Any:
    """Haversine distance in km from (lat, lon) to each row's coordinates, as SQL."""
    lat1 = Radians(Value(lat, output_field=FloatField()))
    lat2 = Radians(F("latitude"))
    dlat = Radians(F("latitude") - Value(lat, output_field=FloatField()))
    dlon = Radians(F("longitude") - Value(lon, output_field=FloatField()))
    a = Power(Sin(dlat / 2), 2) + Cos(lat1) * Cos(lat2) * Power(Sin(dlon / 2), 2)
    return Value(2 * rules.EARTH_RADIUS_KM, output_field=FloatField()) * ASin(
        Least(Value(1.0, output_field=FloatField()), Sqrt(a)))


def base_queryset(q: Query, *, now: datetime | None = None) -> Any:
    """Public, active points of active institutions, with the filters applied (no ordering)."""
    # ``public`` is kept true only for points of active institutions of a public kind
    # (services.apply_details, services.set_institution_status), so the filter stays on this table
    # and the planner drives the query from the coordinates' index rather than from institutions.
    qs = ServicePoint.objects.filter(public=True, is_active=True)
    if "hotline" not in q.filters:  # hotlines have their own list above the results
        qs = qs.exclude(institution__kind="hotline")
    codes: set[str] = set()
    for key in q.filters:
        codes |= rules.finder_filters().get(key, frozenset())
    if codes:
        qs = qs.filter(Exists(PointService.objects.filter(point=OuterRef("pk"), code__in=codes)))
    if q.open_now:
        moment = timezone.localtime(now)
        minute = moment.hour * 60 + moment.minute
        open_rows = OpeningHours.objects.filter(point=OuterRef("pk"), weekday=moment.isoweekday(),
                                                opens__lte=minute, closes__gt=minute)
        qs = qs.filter(Q(open_24h=True) | Exists(open_rows))
    text = q.text.strip()[:40]
    if text:
        qs = qs.filter(Q(name__icontains=text) | Q(address__icontains=text))
    return qs


def search(q: Query, *, now: datetime | None = None) -> list[ServicePoint]:
    """The points to show, each with ``distance_km`` (or ``None``), services and hours prefetched."""
    settings = rules.public_settings()
    limit = q.limit or int(settings["finder_limit"])
    qs = base_queryset(q, now=now)
    order: list[Any] = []
    if q.urgent:
        order.append(F("open_24h").desc())
    if q.located:
        assert q.latitude is not None and q.longitude is not None
        radius = q.radius_km or float(settings["finder_radius_km"])
        box = rules.bounding_box(q.latitude, q.longitude, radius)
        qs = qs.filter(latitude__range=(box.min_lat, box.max_lat), longitude__range=(box.min_lon, box.max_lon))
        qs = qs.annotate(distance_km=distance_expression(q.latitude, q.longitude))
        qs = qs.filter(distance_km__lte=radius)
        order += ["distance_km", "id"]
    elif q.region_code:
        try:
            level = level_of(q.region_code)
        except ValueError:
            return []
        inside = Q(**{SCOPE_COLUMN[level]: q.region_code})
        ancestors = [q.region_code[:n] for n in (2, 4, 6) if n < len(q.region_code)]
        qs = qs.filter(inside | Q(region_id__in=ancestors)).annotate(
            rank=Case(When(inside, then=Value(0)), default=Value(1), output_field=IntegerField()),
            depth=Case(*[When(region_id=code, then=Value(-len(code))) for code in ancestors],
                       default=Value(0), output_field=IntegerField()),
            distance_km=Value(None, output_field=FloatField()))
        order += ["rank", "depth", "region_id", "name", "id"]
    else:
        return []
    rows = list(qs.select_related("institution__organisation", "region").prefetch_related("services", "hours")
                .order_by(*order)[:limit])
    return rows


def hotlines_for(region_code: str) -> list[ServicePoint]:
    """Hotline points serving a region: registered in it or at its city or province (one query)."""
    if not region_code:
        return []
    try:
        inside = Q(**{SCOPE_COLUMN[level_of(region_code)]: region_code})
    except ValueError:
        return []
    ancestors = [region_code[:n] for n in (2, 4, 6) if n < len(region_code)]
    qs = (ServicePoint.objects.filter(public=True, is_active=True, institution__status=InstitutionStatus.ACTIVE,
                                      services__code="hotline")
          .filter(Q(region_id__in=ancestors) | inside)
          .select_related("institution__organisation").prefetch_related("hours").order_by("region_id", "name"))
    return list(qs.distinct()[:10])


def region_of_hits(rows: list[ServicePoint]) -> str:
    """When only coordinates were given, the city of the nearest point (for its hotlines)."""
    for row in rows:
        if row.region_id:
            return row.region_id[:4]
    return ""


def is_open_now(point: ServicePoint, *, now: datetime | None = None) -> bool:
    """From the prefetched hours (no query)."""
    if point.open_24h:
        return True
    moment = timezone.localtime(now)
    intervals = [rules.Interval(h.weekday, h.opens, h.closes) for h in point.hours.all()]
    return rules.is_open(intervals, moment.isoweekday(), moment.hour * 60 + moment.minute)


def choosable_regions(province_code: str) -> list[Region]:
    """Cities and counties of a province for the picker (placeholders left out)."""
    if not province_code.isdigit() or len(province_code) != 2:
        return []
    return list(Region.objects.filter(province_code=province_code,
                                      level__in=(RegionLevel.PREFECTURE, RegionLevel.COUNTY))
                .exclude(kind=RegionKind.PLACEHOLDER).order_by("code"))
