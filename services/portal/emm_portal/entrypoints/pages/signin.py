"""Signing in with an emailed link, asking for one, signing out."""

from __future__ import annotations

from fastapi import APIRouter, Request

from emm_portal.adapters.apis import Apis
from emm_portal.domain import outcomes
from emm_portal.domain.visitor import Visitor
from emm_portal.domain.forms import CheckedForm
from emm_portal.entrypoints.deps import AsVisitor, CurrentVisitor, Form, Page
from emm_portal.entrypoints.pages.home import HOME_OF_ROLE
from emm_portal.entrypoints.rendering import Pages, redirect, safe_next
from emm_portal.service_layer import signin

router = APIRouter()


async def sign_in(request: Request, page: Pages, apis: Apis, visitor: Visitor, link: str, next_path: str | None):
    try:
        signed_in = await signin.exchange_link(apis, visitor, link)
    except outcomes.NotSignedIn:
        return page.render(request, "signin/link_refused.html", status=401)
    except outcomes.Unavailable:
        return page.render(request, "signin/confirm.html", status=503, link=link, next=next_path or "",
                           unavailable=True)
    request.state.visitor = signed_in
    return redirect(safe_next(next_path, HOME_OF_ROLE.get(signed_in.role or "", "/")))


@router.get("/signin")
async def signin_link(request: Request, page: Page, apis: AsVisitor, visitor: CurrentVisitor,
                      link: str | None = None, next: str | None = None):
    if not link:
        return redirect("/signin/email")
    if signin.is_staff_link(link):
        return page.render(request, "signin/confirm.html", link=link, next=next or "", unavailable=False)
    return await sign_in(request, page, apis, visitor, link, next)


@router.post("/signin")
async def signin_confirmed(request: Request, page: Page, apis: AsVisitor, visitor: CurrentVisitor, form: Form):
    return await sign_in(request, page, apis, visitor, str(form.get("link") or ""), form.get("next"))


@router.get("/signin/email")
async def ask_for_link(request: Request, page: Page, sent: bool = False):
    return page.render(request, "signin/email.html", form=CheckedForm(), sent=sent)


@router.post("/signin/email")
async def send_link(request: Request, page: Page, apis: AsVisitor, form: Form):
    checked = CheckedForm()
    email = checked.email(form)
    if email is None:
        return page.render(request, "signin/email.html", status=422, form=checked, sent=False)
    try:
        await signin.send_links(apis, email)
    except outcomes.Unavailable:
        return page.render(request, "signin/email.html", status=503, form=checked, sent=False, unavailable=True)
    except outcomes.Invalid as refused:
        checked.refused_by_api(refused.field_errors)
        return page.render(request, "signin/email.html", status=422, form=checked, sent=False)
    return redirect("/signin/email?sent=1")  # a reload does not ask for another link


@router.post("/signout")
async def sign_out(request: Request, visitor: CurrentVisitor, apis: AsVisitor):
    if visitor.token:
        await signin.sign_out(apis)
    request.state.visitor = visitor.signed_out()
    return redirect("/")
