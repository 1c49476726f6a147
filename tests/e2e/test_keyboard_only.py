"""A campaign written and launched with the keyboard alone, the focus visible at each step."""

import pytest
from playwright.sync_api import expect

from campaigns.models import Campaign
from tests.factories import make_contact, make_group

pytestmark = pytest.mark.django_db(transaction=True)

# Where the focus is, and whether a sighted keyboard user can see it.
FOCUS = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  return {
    id: el.id, tag: el.tagName.toLowerCase(), text: (el.innerText || el.value || "").trim(),
    page: location.pathname,
    visible: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2,
  };
}"""


def _tab_to(page, matches, *, limit=80):
    """Press Tab until `matches(focus)` holds; every stop on the way shows its focus."""
    # Until the stylesheet has loaded, the focus ring is the browser's thin default.
    page.wait_for_load_state("load")
    for _ in range(limit):
        page.keyboard.press("Tab")
        focus = page.evaluate(FOCUS)
        assert focus["visible"], f"focus is not visible on {focus}"
        if matches(focus):
            return focus
    raise AssertionError(f"Tab never reached the element after {limit} presses")


def test_a_campaign_is_written_and_launched_with_the_keyboard_alone(
    onurix_sandbox_settings, signed_in_page, live_server
):
    group = make_group(name="Pacientes Chapinero")
    for name, phone in [("Ana", "573001234567"), ("Luis", "573109876543")]:
        make_contact(first_name=name, phone=phone).groups.add(group)
    page = signed_in_page

    # From the menu to the form.
    _tab_to(page, lambda f: f["tag"] == "a" and f["text"] == "Campañas")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Campañas", level=1)).to_be_visible()
    _tab_to(page, lambda f: f["tag"] == "a" and f["text"] == "Nueva campaña")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Nueva campaña", level=1)).to_be_visible()

    _tab_to(page, lambda f: f["id"] == "id_name")
    page.keyboard.type("Recordatorio por teclado")
    _tab_to(page, lambda f: f["id"] == "id_message")
    page.keyboard.type("Hola {nombre}, le recordamos su cita de mañana")
    _tab_to(page, lambda f: f["id"].startswith("id_groups"))
    page.keyboard.press("Space")
    expect(page.get_by_label("Pacientes Chapinero (2 contactos)")).to_be_checked()
    _tab_to(page, lambda f: f["tag"] == "button" and f["text"] == "Guardar borrador")
    page.keyboard.press("Enter")

    # The preview, then the launch button; its confirmation is the browser's own dialog.
    expect(page.get_by_test_id("preview-phones")).to_have_text("2")
    page.once("dialog", lambda dialog: dialog.accept())
    _tab_to(page, lambda f: f["tag"] == "button" and f["text"].startswith("Lanzar"), limit=120)
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Campaña lanzada")

    campaign = Campaign.objects.get(name="Recordatorio por teclado")
    assert campaign.state != Campaign.State.DRAFT
    assert sorted(campaign.results.values_list("phone", flat=True)) == [
        "573001234567",
        "573109876543",
    ]
