"""The Content Security Policy in a real browser: no page trips it, and htmx still works."""

import re

import pytest
from playwright.sync_api import expect

from tests.factories import make_campaign, make_contact

pytestmark = pytest.mark.django_db(transaction=True)

VIOLATION = re.compile(r"Content Security Policy|Refused to", re.IGNORECASE)


@pytest.fixture
def console(page):
    """Every console message and uncaught error of the page, as text."""
    messages: list[str] = []
    page.on("console", lambda message: messages.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: messages.append(f"pageerror: {error}"))
    return messages


def _violations(messages: list[str]) -> list[str]:
    return [message for message in messages if VIOLATION.search(message)]


def test_app_and_admin_pages_trip_no_policy_and_htmx_works(
    onurix_sandbox_settings, console, user, signed_in_page, live_server
):
    # Staff too, to open the admin in the same session.
    user.is_staff = user.is_superuser = True
    user.save()
    contact = make_contact(first_name="Ana", last_name="Rojas", phone="573001234567")
    make_contact(first_name="Luis", phone="573109876543")
    campaign = make_campaign(name="Recordatorio")
    page = signed_in_page
    page.get_by_role("button", name="English").click()

    # The dashboard's Onurix panel is loaded by htmx after the page.
    page.goto(live_server.url + "/")
    expect(page.locator("#onurix-status")).to_contain_text("Onurix answers")
    expect(page.locator("#onurix-status")).not_to_contain_text("Checking")

    # The contacts search swaps the table through htmx as one types.
    page.goto(live_server.url + "/contacts/")
    expect(page.locator("#results")).to_contain_text("Luis")
    page.get_by_placeholder("Name, phone or email").fill("Rojas")
    expect(page.locator("#results")).not_to_contain_text("Luis")
    expect(page.locator("#results")).to_contain_text("Ana")
    expect(page).to_have_url(re.compile(r"q=Rojas"))

    # The campaign form's script (static/js/campaign_form.js) runs: the counter follows.
    page.goto(live_server.url + "/campaigns/new/")
    page.get_by_label("Message", exact=True).fill("Hola Ana")
    expect(page.locator("#message-meter")).to_contain_text("8 of 1000 characters")
    page.goto(live_server.url + f"/campaigns/{campaign.pk}/")
    expect(page.get_by_role("heading", name="Recordatorio", level=1)).to_be_visible()

    # The admin: index, a changelist and a change form, with its scripts.
    page.goto(live_server.url + "/admin/")
    expect(page.locator("#site-name")).to_be_visible()
    page.goto(live_server.url + "/admin/campaigns/contact/")
    expect(page.locator("#result_list")).to_contain_text("573001234567")
    page.goto(live_server.url + f"/admin/campaigns/contact/{contact.pk}/change/")
    expect(page.locator("input[name=first_name]")).to_have_value("Ana")
    page.goto(live_server.url + f"/admin/campaigns/campaign/{campaign.pk}/change/")
    expect(page.locator("input[name=name]")).to_have_value("Recordatorio")
    page.wait_for_load_state("networkidle")

    assert _violations(console) == [], console


def test_the_policy_is_enforced_and_its_violations_are_seen(page, console, live_server):
    # The check above would be blind if the browser did not enforce the policy or said
    # nothing: an inline script and an inline style are refused, and reported.
    page.goto(live_server.url + "/login/")
    page.evaluate(
        """() => {
            const script = document.createElement("script");
            script.textContent = "document.body.dataset.ran = 'yes'";
            document.body.appendChild(script);
            document.head.insertAdjacentHTML("beforeend", "<style>body{color:red}</style>");
        }"""
    )
    expect(page.locator("body")).not_to_have_attribute("data-ran", "yes")
    page.wait_for_timeout(200)
    assert len(_violations(console)) >= 2, console
