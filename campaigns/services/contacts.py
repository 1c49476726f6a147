"""Writes on contacts and groups, and the contacts export."""

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from ..contact_import import csv_safe
from ..models import Contact, ContactGroup


def contacts_mark_do_not_call(*, contacts: QuerySet[Contact], reason: str = "") -> int:
    """Mark contacts do-not-call; returns how many changed.

    Contacts already marked keep their original reason and date.
    """
    return contacts.filter(do_not_call=False).update(
        do_not_call=True,
        do_not_call_reason=reason,
        do_not_call_at=timezone.now(),
        updated_at=timezone.now(),
    )


def contacts_add_to_group(*, contact_ids: Iterable[int], group: ContactGroup) -> int:
    """Add contacts to a group; returns how many were not in it yet."""
    through = Contact.groups.through
    contact_ids = set(contact_ids)
    with transaction.atomic():
        already = set(
            through.objects.filter(contactgroup=group, contact_id__in=contact_ids).values_list(
                "contact_id", flat=True
            )
        )
        new_rows = [
            through(contact_id=contact_id, contactgroup=group)
            for contact_id in sorted(contact_ids - already)
        ]
        through.objects.bulk_create(new_rows, batch_size=1000)
    return len(new_rows)


def contact_save(
    *, contact: Contact | None = None, groups: Iterable[ContactGroup] = (), **fields
) -> Contact:
    """Create a contact, or update `contact`, from already validated fields.

    Marking do-not-call records when; clearing it forgets the reason and date.
    """
    contact = contact or Contact()
    # Read from the database: a bound ModelForm has already changed the instance.
    was_do_not_call = (
        contact.pk is not None and Contact.objects.filter(pk=contact.pk, do_not_call=True).exists()
    )
    for name, value in fields.items():
        setattr(contact, name, value)
    if contact.do_not_call and not was_do_not_call:
        contact.do_not_call_at = timezone.now()
    elif not contact.do_not_call:
        contact.do_not_call_reason = ""
        contact.do_not_call_at = None
    with transaction.atomic():
        contact.save()
        contact.groups.set(groups)
    return contact


def contacts_delete(*, contacts: QuerySet[Contact]) -> int:
    """Delete contacts; their past call results stay, without the link. Returns how many."""
    _total, by_model = contacts.delete()
    return by_model.get(Contact._meta.label, 0)


def contacts_remove_from_group(*, contact_ids: Iterable[int], group: ContactGroup) -> int:
    """Take contacts out of a group (the contacts stay); returns how many were in it."""
    through = Contact.groups.through
    deleted, _by_model = through.objects.filter(
        contactgroup=group, contact_id__in=list(contact_ids)
    ).delete()
    return deleted


def group_save(*, group: ContactGroup | None = None, name: str, description: str) -> ContactGroup:
    group = group or ContactGroup()
    group.name = name
    group.description = description
    group.save()
    return group


def group_delete(*, group: ContactGroup) -> None:
    """Delete a group; its members stay as contacts."""
    group.delete()


@dataclass(frozen=True)
class AddPhonesResult:
    added: int
    created: int
    already_members: int


def group_add_phones(*, group: ContactGroup, phones: list[str]) -> AddPhonesResult:
    """Add normalised phones to a group, creating a contact for each phone not known yet."""
    with transaction.atomic():
        existing = dict(Contact.objects.filter(phone__in=phones).values_list("phone", "pk"))
        new_contacts = Contact.objects.bulk_create(
            [Contact(phone=phone) for phone in phones if phone not in existing], batch_size=1000
        )
        ids = list(existing.values())
        if new_contacts and new_contacts[0].pk is not None:
            ids += [contact.pk for contact in new_contacts]
        else:
            ids = list(Contact.objects.filter(phone__in=phones).values_list("pk", flat=True))
        added = contacts_add_to_group(contact_ids=ids, group=group)
    return AddPhonesResult(
        added=added, created=len(new_contacts), already_members=len(phones) - added
    )


def contacts_bulk_apply(
    *, action: str, contact_ids: list[int], group: ContactGroup | None = None
) -> int:
    """Apply a list action to contacts; returns how many changed."""
    if action == "add_to_group":
        return contacts_add_to_group(contact_ids=contact_ids, group=group)
    if action == "remove_from_group":
        return contacts_remove_from_group(contact_ids=contact_ids, group=group)
    contacts = Contact.objects.filter(pk__in=contact_ids)
    if action == "mark_do_not_call":
        return contacts_mark_do_not_call(
            contacts=contacts, reason=_("Marked from the contact list")
        )
    if action == "delete":
        return contacts_delete(contacts=contacts)
    raise ValueError(f"unknown bulk action {action!r}")


class Echo:
    """A file-like object whose write returns the text: lets csv.writer feed a stream."""

    def write(self, value: str) -> str:
        return value


def in_chunks(lines: Iterator[str], size: int = 500) -> Iterator[str]:
    """Lines joined `size` at a time: a streamed response handles each chunk it is given
    (encoding, buffering) at a cost that, line by line, was a third of an export's time."""
    chunk: list[str] = []
    for line in lines:
        chunk.append(line)
        if len(chunk) == size:
            yield "".join(chunk)
            chunk = []
    if chunk:
        yield "".join(chunk)


def contacts_export_rows(*, contacts: QuerySet[Contact]) -> Iterator[str]:
    """CSV lines for the contacts, in constant memory: UTF-8 with a BOM (Excel in Spanish
    reads it right), formula-looking cells neutralised, custom fields as extra columns.

    The product's own import reads this file back to the same contacts.
    """
    custom_names: list[str] = []
    seen: set[str] = set()
    for fields in contacts.values_list("custom_fields", flat=True).iterator(chunk_size=2000):
        for name in fields or {}:
            if name not in seen:
                seen.add(name)
                custom_names.append(name)
    writer = csv.writer(Echo())
    yield "\ufeff" + writer.writerow(
        [_("Phone"), _("First name"), _("Last name"), _("Email"), *custom_names]
    )
    rows = contacts.values_list("phone", "first_name", "last_name", "email", "custom_fields")

    def lines() -> Iterator[str]:
        for phone, first_name, last_name, email, fields in rows.iterator(chunk_size=2000):
            fields = fields or {}
            cells = [phone, first_name, last_name, email]
            cells += [str(fields.get(name, "")) for name in custom_names]
            yield writer.writerow([csv_safe(cell) for cell in cells])

    yield from in_chunks(lines())
