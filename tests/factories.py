"""Small helpers that create valid objects for tests."""

from itertools import count

from django.contrib.auth import get_user_model

from campaigns.models import AudioCode, CallResult, Campaign, Contact, ContactGroup

_sequence = count(1)


def make_user(*, username=None, password="a-long-test-password", **fields):
    username = username or f"user{next(_sequence)}"
    return get_user_model().objects.create_user(username=username, password=password, **fields)


def make_contact(*, phone=None, **fields):
    phone = phone or f"57300{next(_sequence):07d}"
    return Contact.objects.create(phone=phone, **fields)


def make_group(*, name=None, **fields):
    return ContactGroup.objects.create(name=name or f"Group {next(_sequence)}", **fields)


def make_audio_code(*, code=None, **fields):
    fields.setdefault("name", "Audio")
    code = code or f"3f2b8c1e-0000-4000-8000-{next(_sequence):012d}"
    return AudioCode.objects.create(code=code, **fields)


def make_campaign(**fields):
    fields.setdefault("name", f"Campaign {next(_sequence)}")
    if "audio_code" not in fields:
        fields.setdefault("voice", "Mariana")
        fields.setdefault("message", "Hola {nombre}, le recordamos su cita de mañana.")
    return Campaign.objects.create(**fields)


def make_result(*, campaign, phone=None, **fields):
    phone = phone or f"57310{next(_sequence):07d}"
    return CallResult.objects.create(campaign=campaign, phone=phone, **fields)


# The real task backend, for tests that run the worker (in process or as processes).
DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


def make_audience(size: int, *, name: str = "Pacientes", prefix: str = "57300") -> ContactGroup:
    """A group of `size` contacts with phones `prefix` + a 7-digit number, in bulk."""
    group = ContactGroup.objects.create(name=name)
    contacts = Contact.objects.bulk_create(
        [Contact(phone=f"{prefix}{n:07d}", first_name=f"N{n}") for n in range(size)],
        batch_size=2000,
    )
    Contact.groups.through.objects.bulk_create(
        [Contact.groups.through(contact_id=c.pk, contactgroup_id=group.pk) for c in contacts],
        batch_size=2000,
    )
    return group
