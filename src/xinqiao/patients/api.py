"""API routes of the patients app, mounted under ``/api/v1/patients/``. Every route is in the permission matrix."""

from ninja import Router

router = Router(tags=["patients"])
