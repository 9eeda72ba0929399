"""Typed dependencies of the portal's routes: who is asking, the APIs as that person, the page
renderer and the posted form."""

from __future__ import annotations

from typing import Annotated, Callable

from fastapi import Depends, Request
from starlette.datastructures import FormData

from emm_portal.adapters.apis import Apis
from emm_portal.domain import outcomes
from emm_portal.domain.visitor import Role, Visitor
from emm_portal.entrypoints.rendering import Pages
from emm_portal.entrypoints.security import visitor_of


def pages(request: Request) -> Pages:
    return request.app.state.pages


def current_visitor(request: Request) -> Visitor:
    return visitor_of(request)


def apis(request: Request) -> Apis:
    """The three APIs called with this visitor's token (none if nobody is signed in)."""
    return request.app.state.apis.as_(visitor_of(request).token, request.client.host if request.client else None)


async def form(request: Request) -> FormData:
    return await request.form()


def signed_in(*roles: Role) -> Callable[[Request], Visitor]:
    """Dependency factory: a visitor signed in with one of `roles`, else NotSignedIn (the page
    asks them to sign in). The APIs still decide what that person may do."""

    def dependency(request: Request) -> Visitor:
        visitor = visitor_of(request)
        if not visitor.signed_in or visitor.role not in roles:
            raise outcomes.NotSignedIn("portal", "sign in")
        return visitor

    return dependency


Page = Annotated[Pages, Depends(pages)]
CurrentVisitor = Annotated[Visitor, Depends(current_visitor)]
AsVisitor = Annotated[Apis, Depends(apis)]
Form = Annotated[FormData, Depends(form)]
Participant = Annotated[Visitor, Depends(signed_in("participant"))]
Organizer = Annotated[Visitor, Depends(signed_in("organizer"))]
Facilitator = Annotated[Visitor, Depends(signed_in("facilitator", "organizer"))]
