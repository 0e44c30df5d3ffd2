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

        post_migrate.connect(_sync_roles_after_migrate)


def _sync_roles_after_migrate(sender: AppConfig, **kwargs: object) -> None:
    """Roles need the permissions Django creates after migrating every app, so sync them after the last.

    ``post_migrate`` is sent once per app that has models, in INSTALLED_APPS order; permissions of
    an app exist only after its own signal, so a role naming a later app's permission must wait.
    """
    from django.apps import apps

    from .roles import sync_roles

    last = [a for a in apps.get_app_configs() if a.models_module is not None][-1]
    if sender.label == last.label:
        sync_roles()
