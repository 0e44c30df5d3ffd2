"""API routes of the paperwork app, mounted under ``/api/v1/paperwork/``. Every route is in the permission matrix."""

from ninja import Router

router = Router(tags=["paperwork"])
