"""App config for community doctors' work lists and the overdue/late-report job (DOMAIN.md §3, §5)."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorklistsConfig(AppConfig):
    """Work lists by risk, and the periodic job that flags overdue follow-ups and late reports."""

    name = "xinqiao.worklists"
    label = "worklists"
    verbose_name = _("Work lists")
