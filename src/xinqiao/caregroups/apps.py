"""App config for the township comprehensive management group (综合管理小组 / 关爱帮扶小组)."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CaregroupsConfig(AppConfig):
    """Management groups, their members, meetings and joint visits."""

    name = "xinqiao.caregroups"
    label = "caregroups"
    verbose_name = _("Township management groups")
