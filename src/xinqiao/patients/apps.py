"""App config for the severe-mental-disorder register (规划 三(一); 意见 11)."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PatientsConfig(AppConfig):
    """Registration, the patient record, status lifecycle, transfers, de-duplication."""

    name = "xinqiao.patients"
    label = "patients"
    verbose_name = _("Severe mental disorders: register")
