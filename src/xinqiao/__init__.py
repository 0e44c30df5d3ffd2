"""xinqiao 心桥: a regional mental-health service platform (社会心理服务体系 / 精神卫生信息系统)."""

from .celery import app as celery_app

__all__ = ["celery_app"]
__version__ = "0.1.0"
