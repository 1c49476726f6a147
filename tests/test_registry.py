"""The Registro de Números Excluidos (RNE): an administrator loads the national list, and
commercial campaigns leave its numbers out in the preview, at the launch and at the
moment each phone is claimed; informational campaigns call them."""

from datetime import date, timedelta
from io import BytesIO, StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone, translation

from campaigns import services
from campaigns.models import CallResult, Campaign, Contact, RegistryList, RegistryNumber
from tests.factories import DB_TASKS, make_campaign, make_contact, make_group, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    """Commands and services speak English here; pages are asked for in Spanish."""
    with translation.override("en"):
        yield


Reason = CallResult.ExclusionReason
IN_REGISTRY = "573001110001"
ALSO_IN_REGISTRY = "573001110002"
NOT_IN_REGISTRY = "573001110003"


def _load(text: str, list_date: date | None = None, **kwargs) -> services.RegistryLoad:
    return services.registry_load(
        file=BytesIO(text.encode("utf-8")),
        list_date=list_date or timezone.localdate(),
        **kwargs,
    )


def _registry_phones() -> set[str]:
    current = RegistryList.objects.get(is_current=True)
    return set(RegistryNumber.objects.filter(registry_list=current).values_list("phone", flat=True))


def _campaign(purpose: str, phones: list[str]) -> Campaign:
    group = make_group()
    for phone in phones:
        contact = Contact.objects.filter(phone=phone).first() or make_contact(phone=phone)
        contact.groups.add(group)
    campaign = make_campaign(name="Promo", purpose=purpose)
    campaign.groups.add(group)
    return campaign


# -- loading ---------------------------------------------------------------------------------


def test_load_rne_normalises_numbers_skips_what_is_not_a_phone_and_reports(tmp_path):
    path = tmp_path / "rne.csv"
    # A header, numbers typed every way, a duplicate, garbage, an empty line, a CSV cell.
    path.write_bytes(
        "\ufefftelefono;fecha\n"
        "300 111 0001;2026-11-30\n"
        "+57 300 111 0002\n"
        "573001110001\n"
        "no es un número\n"
        "\n"
        '"3001110004",x\n'.encode()
    )
    out = StringIO()
    call_command("load_rne", str(path), "--date", "2026-11-30", stdout=out)

    assert _registry_phones() == {IN_REGISTRY, ALSO_IN_REGISTRY, "573001110004"}
    current = services.registry_current()
    assert current.list_date == date(2026, 11, 30)
    assert (current.numbers, current.skipped) == (3, 2)
    assert current.file_name == "rne.csv"
    assert "3 numbers, 2 lines skipped" in out.getvalue()


def test_a_new_list_replaces_the_old_one_whole_and_keeps_the_record(tmp_path):
    first = _load(f"{IN_REGISTRY}\n{ALSO_IN_REGISTRY}\n", date(2026, 10, 1))
    second = _load(f"{NOT_IN_REGISTRY}\n", date(2026, 11, 1))

    assert second.replaced == first.registry_list
    assert _registry_phones() == {NOT_IN_REGISTRY}
    # The old list's numbers are gone; its record stays, no longer current.
    assert not RegistryNumber.objects.filter(registry_list=first.registry_list).exists()
    first.registry_list.refresh_from_db()
    assert first.registry_list.is_current is False and first.registry_list.numbers == 2


def test_a_file_without_phones_changes_nothing(tmp_path):
    _load(f"{IN_REGISTRY}\n", date(2026, 10, 1))
    path = tmp_path / "vacio.txt"
    path.write_text("telefono\nnada por aquí\n")
    with pytest.raises(CommandError, match="No phone number was found"):
        call_command("load_rne", str(path), "--date", "2026-11-01", stdout=StringIO())
    assert _registry_phones() == {IN_REGISTRY}
    assert RegistryList.objects.count() == 1


def test_a_list_dated_in_the_future_is_refused():
    with pytest.raises(ValidationError):
        _load(f"{IN_REGISTRY}\n", timezone.localdate() + timedelta(days=1))
    assert services.registry_current() is None


def test_load_rne_needs_a_readable_date(tmp_path):
    path = tmp_path / "rne.txt"
    path.write_text(f"{IN_REGISTRY}\n")
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("load_rne", str(path), "--date", "30/11/2026")


def test_a_load_bigger_than_a_chunk_is_complete(monkeypatch):
    monkeypatch.setattr("campaigns.services.registry.CHUNK", 7)
    phones = [f"5730011{n:05d}" for n in range(50)]
    load = _load("\n".join(phones + phones[:10]))  # duplicates across chunks
    assert load.numbers == 50 and _registry_phones() == set(phones)


# -- the page -------------------------------------------------------------------------------


def test_an_administrator_uploads_the_list_and_the_worker_loads_it(staff_client, settings):
    settings.TASKS = DB_TASKS  # the task waits for the worker, as in production
    upload = SimpleUploadedFile("rne.txt", f"{IN_REGISTRY}\n{ALSO_IN_REGISTRY}\n".encode())
    response = staff_client.post(
        reverse("registry"),
        {"file": upload, "list_date": "2026-11-30"},
        HTTP_ACCEPT_LANGUAGE="es",
    )
    assert response.status_code == 302
    waiting = staff_client.get(reverse("registry"), HTTP_ACCEPT_LANGUAGE="es")
    assert "La lista se está cargando" in waiting.text
    assert "Cargando" in waiting.text and waiting.context["current"] is None

    kept = RegistryList.objects.get()
    assert services.registry_load_uploaded(list_id=kept.pk).numbers == 2
    kept.refresh_from_db()
    assert (kept.state, kept.is_current, kept.file_name) == ("loaded", True, "rne.txt")
    assert not kept.upload  # the uploaded file is not kept once read
    page = staff_client.get(reverse("registry"), HTTP_ACCEPT_LANGUAGE="es")
    assert page.context["current"].list_date == date(2026, 11, 30)
    assert "30/11/2026" in page.text
    assert _registry_phones() == {IN_REGISTRY, ALSO_IN_REGISTRY}


def test_an_upload_without_phones_fails_with_its_reason_and_keeps_the_old_list(
    staff_client, django_capture_on_commit_callbacks
):
    _load(f"{IN_REGISTRY}\n", date(2026, 10, 1))
    upload = SimpleUploadedFile("rne.csv", b"telefono\nnada\n")
    with django_capture_on_commit_callbacks(execute=True):  # the worker, at once
        staff_client.post(reverse("registry"), {"file": upload, "list_date": "2026-11-30"})
    page = staff_client.get(reverse("registry"), HTTP_ACCEPT_LANGUAGE="es")
    assert "No se encontró ningún número de teléfono en el archivo" in page.text
    assert page.context["current"].list_date == date(2026, 10, 1)
    assert _registry_phones() == {IN_REGISTRY}


def test_a_future_date_on_the_page_is_shown_next_to_the_field(staff_client):
    upload = SimpleUploadedFile("rne.txt", f"{IN_REGISTRY}\n".encode())
    tomorrow = timezone.localdate() + timedelta(days=1)
    response = staff_client.post(
        reverse("registry"),
        {"file": upload, "list_date": tomorrow.isoformat()},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    assert response.context["form"].errors["list_date"] == [
        "The list's date cannot be in the future."
    ]
    assert services.registry_current() is None


def test_only_administrators_may_load_the_list(client, user, editor_user):
    for person in (user, editor_user):
        client.force_login(person)
        assert client.get(reverse("registry")).status_code == 403
        upload = SimpleUploadedFile("rne.txt", f"{IN_REGISTRY}\n".encode())
        response = client.post(reverse("registry"), {"file": upload, "list_date": "2026-11-30"})
        assert response.status_code == 403
    assert services.registry_current() is None


# -- the campaign's purpose -----------------------------------------------------------------


def test_the_campaign_form_saves_its_purpose_and_defaults_to_informational(auth_client):
    group = make_group()
    make_contact(phone=NOT_IN_REGISTRY).groups.add(group)
    data = {"name": "Promo", "voice": "Mariana", "message": "Hola", "retries": "1"}
    data["groups"] = [group.pk]
    auth_client.post(reverse("campaign_create"), {**data, "purpose": "commercial"})
    auth_client.post(reverse("campaign_create"), {**data, "name": "Aviso"})
    assert dict(Campaign.objects.values_list("name", "purpose")) == {
        "Promo": Campaign.Purpose.COMMERCIAL,
        "Aviso": Campaign.Purpose.INFORMATIONAL,
    }
    page = auth_client.get(reverse("campaign_create"), HTTP_ACCEPT_LANGUAGE="es")
    assert "Ley 2300" in page.content.decode()


def test_a_commercial_preview_leaves_registry_numbers_out_with_the_list_date(auth_client, onurix):
    onurix()
    _load(f"{IN_REGISTRY}\n", timezone.localdate())
    commercial = _campaign(Campaign.Purpose.COMMERCIAL, [IN_REGISTRY, NOT_IN_REGISTRY])
    informational = _campaign(Campaign.Purpose.INFORMATIONAL, [IN_REGISTRY, ALSO_IN_REGISTRY])

    page = auth_client.get(commercial.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="es")
    preview = page.context["preview"]
    assert preview.phones == 1
    assert [(item.phone, item.reason) for item in preview.excluded] == [
        (IN_REGISTRY, Reason.REGISTRY)
    ]
    today = timezone.localdate().strftime("%d/%m/%Y")
    assert f"Registro de Números Excluidos (lista del {today})" in page.content.decode()
    assert not preview.registry_warning

    other = services.campaign_preview(campaign=informational)
    assert other.phones == 2 and not other.excluded and not other.registry_warning


def test_typed_phones_are_checked_against_the_registry_too():
    _load(f"{IN_REGISTRY}\n")
    campaign = make_campaign(
        purpose=Campaign.Purpose.COMMERCIAL, extra_phones="300 111 0001\n300 111 0003"
    )
    audience = services.campaign_audience(campaign=campaign)
    assert [entry.phone for entry in audience.to_call] == [NOT_IN_REGISTRY]
    assert [(item.phone, item.reason) for item in audience.excluded] == [
        (IN_REGISTRY, Reason.REGISTRY)
    ]


def test_the_preview_warns_when_the_list_is_stale_or_missing(auth_client, onurix, settings):
    onurix()
    settings.RNE_MAX_AGE_DAYS = 30
    campaign = _campaign(Campaign.Purpose.COMMERCIAL, [NOT_IN_REGISTRY])

    missing = auth_client.get(campaign.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")
    assert "no list of the Registro de Números Excluidos is loaded" in (
        missing.context["preview"].registry_warning
    )

    old = timezone.localdate() - timedelta(days=31)
    _load(f"{IN_REGISTRY}\n", old)
    stale = auth_client.get(campaign.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="es")
    text = stale.content.decode()
    assert 'data-testid="registry-warning"' in text
    assert f"es del {old.strftime('%d/%m/%Y')}, hace más de 30 días" in text

    _load(f"{IN_REGISTRY}\n", old + timedelta(days=1))  # exactly 30 days old: fresh
    fresh = auth_client.get(campaign.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="es")
    assert 'data-testid="registry-warning"' not in fresh.content.decode()


def test_an_informational_preview_never_warns_about_the_registry(onurix):
    onurix()
    campaign = _campaign(Campaign.Purpose.INFORMATIONAL, [NOT_IN_REGISTRY])
    assert services.campaign_preview(campaign=campaign).registry_warning == ""


# -- launch and dispatch ----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_launch_freezes_the_exclusion_and_claim_time_catches_numbers_added_later(onurix):
    sandbox = onurix()
    _load(f"{IN_REGISTRY}\n", timezone.localdate() - timedelta(days=2))
    phones = [IN_REGISTRY, ALSO_IN_REGISTRY, NOT_IN_REGISTRY]
    commercial = _campaign(Campaign.Purpose.COMMERCIAL, phones)
    informational = make_campaign(name="Citas", purpose=Campaign.Purpose.INFORMATIONAL)
    informational.groups.add(*commercial.groups.all())
    launcher = make_user()
    assert services.campaign_launch(campaign=commercial, user=launcher)
    assert services.campaign_launch(campaign=informational, user=launcher)

    # At launch: the number in the list is left out of the commercial campaign only.
    frozen = dict(commercial.results.values_list("phone", "exclusion_reason"))
    assert frozen == {IN_REGISTRY: Reason.REGISTRY, ALSO_IN_REGISTRY: "", NOT_IN_REGISTRY: ""}
    assert not informational.results.filter(state=CallResult.State.EXCLUDED).exists()

    # The registry publishes a new list with one more number before the worker runs.
    _load(f"{IN_REGISTRY}\n{ALSO_IN_REGISTRY}\n")
    assert services.campaign_dispatch(campaign_id=commercial.pk) == "finished"
    assert services.campaign_dispatch(campaign_id=informational.pk) == "finished"

    states = dict(commercial.results.values_list("phone", "exclusion_reason"))
    assert states[ALSO_IN_REGISTRY] == Reason.REGISTRY
    assert commercial.results.get(phone=NOT_IN_REGISTRY).state == CallResult.State.SENT
    called = [call.phone for call in sandbox.state.calls()]
    # The commercial campaign called one phone; the informational one called all three.
    assert sorted(called) == sorted([NOT_IN_REGISTRY, *phones])


@pytest.mark.django_db
def test_a_load_whose_worker_stopped_is_marked_failed_and_the_current_list_stays():
    from campaigns.services.registry import registry_loads_sweep

    _load("3001112233\n", list_date=timezone.localdate() - timedelta(days=2))
    current = RegistryList.objects.get(is_current=True)
    stopped = RegistryList.objects.create(list_date=timezone.localdate())
    RegistryNumber.objects.create(registry_list=stopped, phone="573009998877")
    RegistryList.objects.filter(pk=stopped.pk).update(
        created_at=timezone.now() - timedelta(hours=1)
    )
    recent = RegistryList.objects.create(list_date=timezone.localdate())  # still loading

    assert registry_loads_sweep() == 1

    stopped.refresh_from_db()
    assert stopped.state == RegistryList.State.FAILED and stopped.error
    assert not RegistryNumber.objects.filter(registry_list=stopped).exists()
    assert RegistryList.objects.get(pk=recent.pk).state == RegistryList.State.LOADING
    assert RegistryList.objects.get(is_current=True) == current
    assert _registry_phones() == {"573001112233"}
