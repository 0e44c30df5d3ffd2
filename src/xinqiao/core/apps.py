"""App config for ``xinqiao.core``: regions, organisations, accounts, scope, audit, PII crypto."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """The platform foundation every domain app builds on."""

    name = "xinqiao.core"
    label = "core"
    verbose_name = _("Platform")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from . import signals  # noqa: F401  (login/logout/lockout audit receivers)

        post_migrate.connect(_sync_roles_after_migrate, sender=self)


def _sync_roles_after_migrate(sender: AppConfig, **kwargs: object) -> None:
    """Roles need the permissions Django creates after migrating, so sync them then."""
    from .roles import sync_roles

    sync_roles()
