"""The current request's actor and origin, for audit events written deep inside services."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RequestInfo:
    """Who is acting and from where; empty outside a request (commands, jobs)."""

    user: Any = None
    remote_addr: str = ""
    user_agent: str = ""


_current: ContextVar[RequestInfo] = ContextVar("xinqiao_request_info", default=RequestInfo())  # noqa: B039


def current_request_info() -> RequestInfo:
    """The info set by the middleware for this request, or an empty one."""
    return _current.get()


def set_request_info(info: RequestInfo) -> Any:
    """Set the info; returns a token for ``reset_request_info``."""
    return _current.set(info)


def reset_request_info(token: Any) -> None:
    """Restore the previous info."""
    _current.reset(token)


def client_address(meta: dict[str, Any], proxy_count: int) -> str:
    """The client address: REMOTE_ADDR, or the address ``proxy_count`` hops back in X-Forwarded-For."""
    if proxy_count > 0:
        forwarded = [p.strip() for p in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if p.strip()]
        if len(forwarded) >= proxy_count:
            return forwarded[-proxy_count]
    return str(meta.get("REMOTE_ADDR", ""))
