"""Who may reach a route, decided before anything else about the request is read.

`authenticate_first` runs on every route (the app's guard): where the route needs a
token it checks it, so an anonymous request gets its 401 whatever body or query it sent.
`admin_only` is the guard of every staff controller: any role but `admin` gets a 403
there. Access is a property of the controller, not of the path it happens to live under.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler, HTTPRouteHandler

from api.accounts.security import authenticate, require_admin
from api.accounts.users import User
from api.context import Api

__all__ = ["admin_only", "authenticate_first"]


async def authenticate_first(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """On a route that needs a token, check it; the user found is kept in the
    connection's state for the `user` dependency and for `admin_only`."""
    if not isinstance(handler, HTTPRouteHandler) or not handler.resolve_security():
        return
    api: Api = connection.app.state["api"]
    connection.state["user"] = await authenticate(connection, api.tokens, api.users)


async def admin_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """The signed-in user must be an admin (403 otherwise). Runs after
    `authenticate_first`, which has found the user (or answered 401)."""
    user = connection.state.get("user")
    if not isinstance(user, User):
        api: Api = connection.app.state["api"]
        user = await authenticate(connection, api.tokens, api.users)
        connection.state["user"] = user
    require_admin(user)
