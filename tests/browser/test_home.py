"""The portal's front page in a real browser, against the real services: a French phone gets it in
French, accessible, within the weight budget, with JavaScript on and off."""

from __future__ import annotations

import pytest

from deploy.bench.page_weight import BUDGET_BYTES

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("script", ["on", "off"])
def test_the_home_page_speaks_french_to_a_french_phone(stack, phone, phone_without_script, tour, script):
    page = tour.watch((phone if script == "on" else phone_without_script).new_page())
    page.goto(stack.url + "/")
    view = tour.check(page, f"home-script-{script}")
    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.get_by_role("heading", level=1).inner_text() == "Formations EMM2.0"
    assert page.get_by_role("link", name="Renvoyez-moi mon lien").is_visible()
    assert page.locator("body").bounding_box()["width"] <= 360  # nothing wider than the phone
    assert view.transfer.bytes <= BUDGET_BYTES, f"the home page weighs {view.transfer.bytes:,} bytes"


def test_the_language_switch_at_the_foot_of_the_page_changes_it_and_keeps_it(stack, phone_without_script, tour):
    page = tour.watch(phone_without_script.new_page())
    page.goto(stack.url + "/signin/email")
    page.click("footer button[name=lang][value=pt]")
    page.wait_for_url("**/signin/email")
    tour.check(page, "signin-email-in-portuguese")
    assert page.locator("html").get_attribute("lang") == "pt"
    page.goto(stack.url + "/")
    assert page.get_by_role("heading", level=1).inner_text() == "Formações EMM2.0"
