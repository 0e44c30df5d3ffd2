"""App config for follow-up of registered patients (随访服务记录表, 规划 三(一))."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FollowupsConfig(AppConfig):
    """The follow-up form, the classification rules, work lists, health checks and discharges."""

    name = "xinqiao.followups"
    label = "followups"
    verbose_name = _("Severe mental disorders: follow-up")
