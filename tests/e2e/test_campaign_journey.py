"""Laura's campaign, in a real browser: write it, preview it, test it, launch it, watch it."""

import pytest
from playwright.sync_api import expect

from campaigns.models import CallResult, Campaign, TestCall
from tests.factories import DB_TASKS, make_contact, make_group
from tests.workers import running_workers, worker_environment

pytestmark = pytest.mark.django_db(transaction=True)

MESSAGE = "Hola {nombre}, le recordamos su cita de mañana"


@pytest.fixture
def worker(onurix_sandbox_settings, settings):
    """The real background worker, as `make run` starts it, sharing the test database."""
    settings.TASKS = DB_TASKS
    with running_workers(worker_environment(onurix_url=onurix_sandbox_settings.url)) as procs:
        yield procs[0]


@pytest.fixture
def patients():
    group = make_group(name="Pacientes Chapinero")
    for first_name, phone in [("Ana", "573001234567"), ("Luis", "573109876543")]:
        make_contact(first_name=first_name, phone=phone).groups.add(group)
    make_contact(first_name="José", phone="573209998877").groups.add(group)
    make_contact(first_name="Pedro", phone="573154443322", do_not_call=True).groups.add(group)
    return group


def test_write_preview_test_call_launch_and_watch_progress(
    onurix_sandbox_settings, worker, patients, signed_in_page, live_server
):
    sandbox = onurix_sandbox_settings
    page = signed_in_page
    # The Spanish catalogue is written apart; this journey reads the English interface.
    page.get_by_role("button", name="English").click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Campaigns").click()
    page.get_by_role("link", name="New campaign").click()
    expect(page.get_by_role("heading", name="New campaign", level=1)).to_be_visible()

    page.get_by_label("Name", exact=True).fill("Recordatorio de citas")
    page.get_by_label("Voice", exact=True).select_option("Mariana")
    page.get_by_label("Message", exact=True).fill(MESSAGE)
    # The counter follows the typing: 46 characters, 8 words read in about 4 seconds.
    expect(page.locator("#message-meter")).to_have_text(
        f"{len(MESSAGE)} of 1000 characters · about 4 s spoken"
    )
    page.get_by_label("Attempts per call").select_option("2")
    expect(page.get_by_label("Leave the message in the voicemail")).to_be_checked()
    page.get_by_label("Pacientes Chapinero (4 contacts)").check()
    page.screenshot(path="test-artifacts/campaign-form.png", full_page=True)
    page.get_by_role("button", name="Save draft").click()

    # The preview: three phones, Pedro left out, the cost against the balance.
    expect(page.get_by_role("heading", name="Preview")).to_be_visible()
    expect(page.get_by_test_id("preview-phones")).to_have_text("3")
    expect(page.get_by_test_id("preview-excluded")).to_have_text("1")
    expect(page.get_by_test_id("preview-credits")).to_have_text("3")
    expect(page.get_by_test_id("preview-balance")).to_have_text("8,000")
    expect(page.get_by_text("Marked do-not-call: 1")).to_be_visible()
    expect(page.get_by_text("Hola Ana, le recordamos su cita de mañana")).to_be_visible()
    page.screenshot(path="test-artifacts/campaign-preview.png", full_page=True)

    # A test call to Laura's own phone, typed her way.
    page.get_by_label("Phone for the test call").fill("300 555 1234")
    page.get_by_role("button", name="Call this phone now").click()
    expect(page.get_by_role("status")).to_contain_text("Test call sent to 573005551234")
    test_calls = page.get_by_test_id("test-calls")
    expect(test_calls).to_contain_text("573005551234")
    expect(test_calls).to_contain_text("Enviado")
    assert [call.phone for call in sandbox.state.calls()] == ["573005551234"]

    # Launch: the button says what it will do and asks first.
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Launch: call 3 phones (about 3 credits)").click()
    expect(page.get_by_role("status")).to_contain_text("Campaign launched")
    expect(page.get_by_role("heading", name="Progress")).to_be_visible()
    # The worker process sends; the page's progress polling shows it reach 100%.
    expect(page.get_by_test_id("progress-percent")).to_have_text("100%", timeout=20_000)
    assert worker.poll() is None
    expect(page.get_by_test_id("count-excluded")).to_have_text("1")
    page.screenshot(path="test-artifacts/campaign-progress.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    expect(page.get_by_test_id("progress-percent")).to_be_visible()
    page.screenshot(path="test-artifacts/campaign-progress-phone.png", full_page=True)

    campaign = Campaign.objects.get()
    assert campaign.retries == 2 and campaign.leave_voicemail and campaign.voice == "Mariana"
    called = sorted(call.phone for call in sandbox.state.calls())
    assert called == ["573001234567", "573005551234", "573109876543", "573209998877"]
    assert not CallResult.objects.filter(state__in=["queued", "sending"]).exists()
    assert TestCall.objects.filter(campaign=campaign).count() == 1
