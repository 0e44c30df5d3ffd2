"""App config for screening (意见 4, 5, 7, 8, 9, 15)."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScreeningConfig(AppConfig):
    """Scales, scoring, campaigns and self-screening."""

    name = "xinqiao.screening"
    label = "screening"
    verbose_name = _("Screening")
