"""App config for the service-network registry (意见 12–19, 24; 规划 目标2, 3, 5, 6, 7)."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    """Institutions, service points, practitioners, credentials, evaluations and the service map."""

    name = "xinqiao.registry"
    label = "registry"
    verbose_name = _("Service network registry")
