"""API routes of the indicators app, mounted under ``/api/v1/indicators/``. Every route is in the permission matrix."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["indicators"])
