"""App config for the indicator engine, dashboards and supervision reports (DOMAIN.md §6)."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IndicatorsConfig(AppConfig):
    """National indicators computed per region and period, against their targets."""

    name = "xinqiao.indicators"
    label = "indicators"
    verbose_name = _("Indicators")
