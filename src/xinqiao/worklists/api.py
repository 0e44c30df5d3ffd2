"""API routes of the worklists app, mounted under ``/api/v1/worklists/``. Every route is in the permission matrix."""

from ninja import Router

router = Router(tags=["worklists"])
