"""API routes of the followups app, mounted under ``/api/v1/followups/``. Every route is in the permission matrix."""

from ninja import Router

router = Router(tags=["followups"])
