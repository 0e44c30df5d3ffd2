"""App config for paper and spreadsheets: the national forms as PDF, Excel import of patients."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaperworkConfig(AppConfig):
    """PDFs of the 个人信息补充表 and 随访服务记录表; Excel templates, validation and import."""

    name = "xinqiao.paperwork"
    label = "paperwork"
    verbose_name = _("Forms and spreadsheets")
