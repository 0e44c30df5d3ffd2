"""API routes of the caregroups app, mounted under ``/api/v1/caregroups/``. Every route is in the permission matrix."""

from ninja import Router

router = Router(tags=["caregroups"])
