"""API routes of the referrals app, mounted under ``/api/v1/referrals/``. Every route is in the permission matrix."""

from ninja import Router

router = Router(tags=["referrals"])
