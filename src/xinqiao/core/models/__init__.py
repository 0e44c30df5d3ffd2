"""Models of the platform foundation, one module per concept."""

from .audit import AuditAction, AuditChainHead, AuditEvent
from .idempotency import IdempotencyKey
from .notification import Notification
from .organisation import Organisation, OrgType
from .person import DocumentType, Person, Sex
from .region import InRegion, Region, RegionKind, RegionLevel
from .user import User

__all__ = [
    "AuditAction",
    "AuditChainHead",
    "AuditEvent",
    "DocumentType",
    "IdempotencyKey",
    "InRegion",
    "Notification",
    "OrgType",
    "Organisation",
    "Person",
    "Region",
    "RegionKind",
    "RegionLevel",
    "Sex",
    "User",
]
