"""API routes of the registry app, mounted under ``/api/v1/registry/``. Every route is in the permission matrix."""

from ninja import Router

router = Router(tags=["registry"])

#: Anonymous routes (credential look-up, service finder) under ``/api/v1/services/``.
public_router = Router(tags=["services"])
