"""App config for two-way referral and emergency handling (双向转诊, 应急处置)."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReferralsConfig(AppConfig):
    """Referrals between community and psychiatric institutions; emergency handling records."""

    name = "xinqiao.referrals"
    label = "referrals"
    verbose_name = _("Referrals and emergencies")
