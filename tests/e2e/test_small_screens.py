"""Every page on a phone and for axe-core: no sideways scrolling at 390 px, and no serious
or critical accessibility violation, in Spanish and in English, on a phone and a desktop."""

from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from campaigns.models import CallResult, Campaign
from tests.e2e.conftest import ARTIFACTS
from tests.factories import (
    make_audio_code,
    make_campaign,
    make_contact,
    make_group,
    make_result,
)

pytestmark = pytest.mark.django_db(transaction=True)

State = CallResult.State
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
BLOCKING_IMPACTS = {"serious", "critical"}
LONG_ERROR = (
    "La red del operador rechazó la llamada porque el número de destino no está "
    "disponible en este momento o se encuentra fuera del área de cobertura"
)
# The deepest elements that reach past the right edge, to say what to fix.
WIDEST_ELEMENTS = """
[...document.body.querySelectorAll("*")]
  .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 0.5)
  .filter((el) => ![...el.children].some(
      (child) => child.getBoundingClientRect().right > window.innerWidth + 0.5))
  .slice(0, 3)
  .map((el) => el.tagName.toLowerCase() + (el.className ? "." + el.className : "")
      + " " + Math.round(el.getBoundingClientRect().right) + "px")
"""

SCROLLING_CARD_TABLES = """
[...document.querySelectorAll(".table-wrap")]
  .some((wrap) => wrap.querySelector(".stack-table") && wrap.scrollWidth > wrap.clientWidth)
"""


@pytest.fixture
def pages(onurix_sandbox_settings) -> dict[str, str]:
    """Every page of the app, by name, over realistic data: the long names, long errors and
    many states that stretch pages."""
    group = make_group(
        name="Pacientes de control prenatal sede Chapinero Alto", description="Citas de marzo"
    )
    long_named = make_contact(
        phone="573001234567",
        first_name="María Fernanda de los Ángeles",
        last_name="Rodríguez-Villavicencio Castañeda",
        email="maria.fernanda.rodriguez.villavicencio@hospital-universitario-chapinero.example.co",
    )
    long_named.groups.add(group)
    for n, name in enumerate(["Ana", "Luis", "José", "Marta"]):
        make_contact(phone=f"57310000000{n}", first_name=name, last_name="Pérez").groups.add(group)
    make_contact(
        phone="573209998877", first_name="Pedro", do_not_call=True, do_not_call_reason="Lo pidió"
    )
    audio = make_audio_code(name="Mensaje grabado de bienvenida para la sede Chapinero Alto")

    draft = make_campaign(name="Recordatorio de citas de control prenatal de marzo")
    draft.groups.add(group)

    now = timezone.now()
    launched = make_campaign(
        name="Recordatorio de vacunación para todos los pacientes de la sede Chapinero Alto",
        state=Campaign.State.FINISHED,
        started_at=now - timedelta(hours=2),
        finished_at=now - timedelta(hours=1),
        balance_before=8010,
        balance_after=8000,
    )
    sent = {"campaign": launched, "sent_at": now - timedelta(hours=2), "credits": 1}
    make_result(
        phone=long_named.phone,
        contact=long_named,
        state=State.ANSWERED,
        onurix_state="Entregado",
        call_id="b3f1c2d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
        **sent,
    )
    make_result(
        phone="573002000002",
        state=State.FAILED,
        error_code=1081,
        onurix_state=f"Error:1081 msg: {LONG_ERROR}",
        error_message=LONG_ERROR,
        credits_refunded=1,
        **sent,
    )
    make_result(phone="573003000001", state=State.UNKNOWN, **sent)
    make_result(phone="573004000001", state=State.SENT, onurix_state="Enviado", **sent)
    make_result(
        campaign=launched,
        phone="573209998877",
        state=State.EXCLUDED,
        exclusion_reason=CallResult.ExclusionReason.DO_NOT_CALL,
    )

    return {
        "dashboard": reverse("dashboard"),
        "onurix status": reverse("onurix_status"),
        "contacts": reverse("contact_list"),
        "contact detail": long_named.get_absolute_url(),
        "new contact": reverse("contact_create"),
        "edit contact": reverse("contact_update", args=[long_named.pk]),
        "delete contact": reverse("contact_delete", args=[long_named.pk]),
        "import contacts": reverse("contact_import"),
        "groups": reverse("group_list"),
        "group detail": reverse("group_detail", args=[group.pk]),
        "new group": reverse("group_create"),
        "edit group": reverse("group_update", args=[group.pk]),
        "audios": reverse("audio_code_list"),
        "new audio": reverse("audio_code_create"),
        "edit audio": reverse("audio_code_update", args=[audio.pk]),
        "campaigns": reverse("campaign_list"),
        "new campaign": reverse("campaign_create"),
        "edit campaign": reverse("campaign_update", args=[draft.pk]),
        "draft campaign with preview": draft.get_absolute_url(),
        "launched campaign with results": launched.get_absolute_url(),
        "re-send confirmation": reverse("campaign_resend_unknown", args=[launched.pk]),
    }


def _signed_in_context_cookies(live_server, user) -> list[dict]:
    client = Client()
    client.force_login(user)
    session = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    return [{"name": django_settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]


def _signed_in_context(browser, live_server, user, *, locale, viewport, javascript=True):
    context = browser.new_context(locale=locale, viewport=viewport, java_script_enabled=javascript)
    context.set_default_timeout(10_000)
    context.add_cookies(_signed_in_context_cookies(live_server, user))
    return context


def _serious_violations(axe: Axe, page, name: str) -> list[str]:
    results = axe.run(page)
    found = []
    for violation in results.response["violations"]:
        if violation["impact"] not in BLOCKING_IMPACTS:
            continue
        targets = [", ".join(node["target"]) for node in violation["nodes"]]
        found.append(f"{name}: {violation['id']} ({violation['impact']}) on {targets}")
    return found


@pytest.mark.parametrize(
    ("locale", "viewport"),
    [("es-CO", PHONE), ("en-US", PHONE), ("es-CO", DESKTOP), ("en-US", DESKTOP)],
    ids=["es-phone", "en-phone", "es-desktop", "en-desktop"],
)
def test_every_page_fits_a_phone_and_passes_axe(
    pages, browser, live_server, user, locale, viewport
):
    context = _signed_in_context(browser, live_server, user, locale=locale, viewport=viewport)
    page = context.new_page()
    axe = Axe()
    too_wide: list[str] = []
    violations: list[str] = []
    try:
        for name, path in pages.items():
            response = page.goto(live_server.url + path)
            assert response is not None and response.ok, f"{name}: {path} answered {response}"
            # The dashboard loads its Onurix panel after the page: check it as people see it.
            page.wait_for_load_state("networkidle" if name == "dashboard" else "load")
            if viewport is PHONE:
                widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
                if widths[0] > widths[1]:
                    culprits = page.evaluate(WIDEST_ELEMENTS)
                    too_wide.append(
                        f"{name} ({path}): {widths[0]} px wide in {widths[1]}; widest: {culprits}"
                    )
                # The results and contacts tables become cards: they must not scroll inside.
                if page.evaluate(SCROLLING_CARD_TABLES):
                    too_wide.append(f"{name} ({path}): a card table scrolls sideways")
            violations += _serious_violations(axe, page, name)
            if name == "launched campaign with results" and viewport is PHONE:
                ARTIFACTS.mkdir(exist_ok=True)
                page.screenshot(
                    path=str(ARTIFACTS / f"campaign-results-phone-{locale}.png"), full_page=True
                )
    finally:
        context.close()
    problems = []
    if too_wide:
        problems.append("Pages scroll sideways at 390 px:\n" + "\n".join(too_wide))
    if violations:
        problems.append("axe-core found:\n" + "\n".join(violations))
    assert not problems, "\n".join(problems)


def test_the_menu_folds_behind_a_button_on_a_phone_and_wraps_without_javascript(
    browser, live_server, user
):
    for javascript in (True, False):
        context = _signed_in_context(
            browser, live_server, user, locale="es-CO", viewport=PHONE, javascript=javascript
        )
        page = context.new_page()
        page.goto(live_server.url + reverse("dashboard"))
        nav = page.get_by_role("navigation", name="Principal")
        toggle = page.locator("button[aria-controls=mainnav]")
        if javascript:
            expect(toggle).to_have_attribute("aria-expanded", "false")
            expect(nav).to_be_hidden()
            toggle.click()
            expect(toggle).to_have_attribute("aria-expanded", "true")
        else:
            expect(toggle).to_be_hidden()
        for link in ["Inicio", "Contactos", "Grupos", "Audios", "Campañas"]:
            expect(nav.get_by_role("link", name=link, exact=True)).to_be_in_viewport()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        if javascript:
            page.keyboard.press("Escape")
            expect(toggle).to_have_attribute("aria-expanded", "false")
            expect(toggle).to_be_focused()
            expect(nav).to_be_hidden()
            # A desktop has room for the whole menu: no button.
            page.set_viewport_size(DESKTOP)
            expect(toggle).to_be_hidden()
            expect(nav.get_by_role("link", name="Campañas", exact=True)).to_be_visible()
        context.close()
