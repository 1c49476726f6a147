"""Writes on contacts and groups, and the contacts export."""

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from ..csv_files import Echo, csv_safe, in_chunks
from ..models import ActivityEntry, CallResult, Contact, ContactGroup, DoNotCallChange
from .activity import activity_record, contacts_target
from .blocking import enqueue_block_at_onurix


@dataclass(frozen=True)
class DoNotCallOutcome:
    changed: int  # contacts whose flag changed
    calls_cancelled: int  # queued calls removed from campaigns (every campaign)
    blocks_queued: int = 0  # phones the worker will also block at Onurix


# Ids or phones per query: well under SQLite's and PostgreSQL's limits on parameters.
_CHUNK = 2000


def _chunked(values: list) -> Iterator[list]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def contacts_set_do_not_call(
    *,
    contacts: QuerySet[Contact],
    do_not_call: bool,
    reason: str,
    source: str,
    user,
    block_at_onurix: bool = False,
) -> DoNotCallOutcome:
    """Mark (`do_not_call=True`) or clear the do-not-call flag of `contacts`: the one way
    the flag changes. `source` is a DoNotCallChange.Source; `user` may be None (a command).

    In one transaction: the contacts whose flag differs change (a mark records `reason`
    and the time; clearing forgets both), each gets a DoNotCallChange row, and when
    marking, every queued call to a phone of the selection that is now do-not-call, in
    any campaign, is excluded (DO_NOT_CALL_LATE) so that it is never sent. Contacts
    already marked keep their first reason and date, and get no new history row.

    Clearing lets credits be spent on the person again: it raises PermissionDenied
    unless `user` may launch campaigns, and ValidationError without a reason.

    With `block_at_onurix` (marking only), the phones newly marked are also blocked at
    Onurix: their history rows wait as pending and the worker sends the requests once
    this transaction commits (services/blocking.py). It raises PermissionDenied unless
    `user` may mark people do-not-call (change contacts).
    """
    reason = reason.strip()[: DoNotCallChange._meta.get_field("reason").max_length]
    block_at_onurix = block_at_onurix and do_not_call
    if block_at_onurix and (user is None or not user.has_perm("campaigns.change_contact")):
        raise PermissionDenied(
            _("Only someone who may mark people do-not-call may block them at Onurix.")
        )
    if not do_not_call:
        if user is None or not user.has_perm("campaigns.launch_campaign"):
            raise PermissionDenied(
                _("Only someone who can launch campaigns may clear a do-not-call mark.")
            )
        if not reason:
            raise ValidationError(
                _("Write why this person may be called again."), code="reason_required"
            )
    selected = Contact.objects.filter(pk__in=contacts.values("pk"))
    now = timezone.now()
    with transaction.atomic():
        # Locked (on PostgreSQL) so that two marks at once write one history row, not two.
        changing = list(
            selected.filter(do_not_call=not do_not_call)
            .select_for_update(no_key=True)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        for ids in _chunked(changing):
            Contact.objects.filter(pk__in=ids).update(
                do_not_call=do_not_call,
                do_not_call_reason=reason if do_not_call else "",
                do_not_call_at=now if do_not_call else None,
                updated_at=now,
            )
        history = DoNotCallChange.objects.bulk_create(
            [
                DoNotCallChange(
                    contact_id=pk,
                    do_not_call=do_not_call,
                    reason=reason,
                    source=source,
                    changed_by_id=getattr(user, "pk", None),
                    onurix_block=DoNotCallChange.OnurixBlock.PENDING if block_at_onurix else "",
                )
                for pk in changing
            ],
            batch_size=1000,
        )
        if block_at_onurix and history:
            change_ids = [change.pk for change in history]
            transaction.on_commit(lambda: enqueue_block_at_onurix(change_ids=change_ids))
        cancelled = 0
        if do_not_call:
            phones = list(selected.filter(do_not_call=True).values_list("phone", flat=True))
            for batch in _chunked(phones):
                cancelled += CallResult.objects.filter(
                    state=CallResult.State.QUEUED, phone__in=batch
                ).update(
                    state=CallResult.State.EXCLUDED,
                    exclusion_reason=CallResult.ExclusionReason.DO_NOT_CALL_LATE,
                    updated_at=now,
                )
        if changing:
            activity_record(
                action=ActivityEntry.Action.DO_NOT_CALL_MARK
                if do_not_call
                else ActivityEntry.Action.DO_NOT_CALL_CLEAR,
                user=user,
                details={
                    "count": len(changing),
                    "reason": reason,
                    "source": source,
                    "calls_cancelled": cancelled,
                    # Asked to block the phones at Onurix too (services/blocking.py).
                    **({"block_at_onurix": True} if block_at_onurix else {}),
                },
                **contacts_target(contact_ids=changing),
            )
    return DoNotCallOutcome(
        changed=len(changing),
        calls_cancelled=cancelled,
        blocks_queued=len(changing) if block_at_onurix else 0,
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


_DO_NOT_CALL_FIELDS = ["do_not_call", "do_not_call_reason", "do_not_call_at"]
_EDITED_FIELDS = ["phone", "first_name", "last_name", "email", "custom_fields", "updated_at"]


@dataclass(frozen=True)
class ContactSaved:
    contact: Contact
    calls_cancelled: int  # queued calls excluded because the contact was marked
    blocks_queued: int = 0  # 1 when the new mark also blocks the phone at Onurix


def contact_save(
    *,
    contact: Contact | None = None,
    user,
    phone: str,
    first_name: str,
    last_name: str,
    email: str,
    custom_fields: dict[str, str],
    groups: Iterable[ContactGroup],
    do_not_call: bool,
    do_not_call_reason: str = "",
    clear_reason: str = "",
    block_at_onurix: bool = False,
) -> ContactSaved:
    """Create a contact, or update `contact`, from already validated fields.

    A change of the do-not-call flag goes through `contacts_set_do_not_call` (from the
    contact form, by `user`): marking records `do_not_call_reason`; clearing needs
    `clear_reason` and a user who may launch campaigns, and raises as that service does
    (nothing is saved then). The reason of a contact already marked is kept. With
    `block_at_onurix`, a new mark also blocks the phone at Onurix.
    """
    contact = contact or Contact()
    with transaction.atomic():
        if contact.pk is not None:
            # Read from the database: a bound ModelForm has already changed the instance.
            contact.refresh_from_db(fields=_DO_NOT_CALL_FIELDS)
        contact.phone = phone
        contact.first_name = first_name
        contact.last_name = last_name
        contact.email = email
        contact.custom_fields = custom_fields
        if contact.pk is None:
            contact.save()
        else:
            # Never the flag: a mark made meanwhile elsewhere is not overwritten.
            contact.save(update_fields=_EDITED_FIELDS)
        contact.groups.set(groups)
        calls_cancelled = blocks_queued = 0
        if do_not_call != contact.do_not_call:
            outcome = contacts_set_do_not_call(
                contacts=Contact.objects.filter(pk=contact.pk),
                do_not_call=do_not_call,
                reason=do_not_call_reason if do_not_call else clear_reason,
                source=DoNotCallChange.Source.FORM,
                user=user,
                block_at_onurix=block_at_onurix,
            )
            calls_cancelled, blocks_queued = outcome.calls_cancelled, outcome.blocks_queued
            contact.refresh_from_db(fields=_DO_NOT_CALL_FIELDS)
    return ContactSaved(
        contact=contact, calls_cancelled=calls_cancelled, blocks_queued=blocks_queued
    )


def contacts_delete(*, contacts: QuerySet[Contact], user=None) -> int:
    """Delete contacts; their past call results stay, without the link. Returns how many.
    Recorded in the activity log (by `user`, or the person of the current request)."""
    with transaction.atomic():
        # Read while the contacts still exist: the first few name the entry.
        target = contacts_target(contact_ids=list(contacts.values_list("pk", flat=True)[:21]))
        _total, by_model = contacts.delete()
        deleted = by_model.get(Contact._meta.label, 0)
        if deleted:
            activity_record(
                action=ActivityEntry.Action.CONTACTS_DELETE,
                user=user,
                details={"count": deleted},
                **target,
            )
    return deleted


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
    """Delete a group; its members stay as contacts. Recorded in the activity log."""
    with transaction.atomic():
        activity_record(action=ActivityEntry.Action.GROUP_DELETE, target=group)
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


@dataclass(frozen=True)
class BulkOutcome:
    count: int  # contacts the action changed
    calls_cancelled: int = 0  # queued calls excluded by marking do-not-call
    blocks_queued: int = 0  # phones the worker will also block at Onurix


def contacts_bulk_apply(
    *,
    action: str,
    contact_ids: list[int],
    group: ContactGroup | None = None,
    user,
    block_at_onurix: bool = False,
) -> BulkOutcome:
    """Apply a list action to contacts, on behalf of `user`; says how many changed.
    `block_at_onurix`: marking do-not-call also blocks the phones at Onurix."""
    if action == "add_to_group":
        return BulkOutcome(count=contacts_add_to_group(contact_ids=contact_ids, group=group))
    if action == "remove_from_group":
        return BulkOutcome(count=contacts_remove_from_group(contact_ids=contact_ids, group=group))
    contacts = Contact.objects.filter(pk__in=contact_ids)
    if action == "mark_do_not_call":
        outcome = contacts_set_do_not_call(
            contacts=contacts,
            do_not_call=True,
            reason=_("Marked from the contact list"),
            source=DoNotCallChange.Source.LIST,
            user=user,
            block_at_onurix=block_at_onurix,
        )
        return BulkOutcome(
            count=outcome.changed,
            calls_cancelled=outcome.calls_cancelled,
            blocks_queued=outcome.blocks_queued,
        )
    if action == "delete":
        return BulkOutcome(count=contacts_delete(contacts=contacts, user=user))
    raise ValueError(f"unknown bulk action {action!r}")


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
    header = [_("Phone"), _("First name"), _("Last name"), _("Email"), *custom_names]
    # Header cells too: custom-field names came from files and forms.
    yield "\ufeff" + writer.writerow([csv_safe(str(cell)) for cell in header])
    rows = contacts.values_list("phone", "first_name", "last_name", "email", "custom_fields")

    def lines() -> Iterator[str]:
        for phone, first_name, last_name, email, fields in rows.iterator(chunk_size=2000):
            fields = fields or {}
            cells = [phone, first_name, last_name, email]
            cells += [str(fields.get(name, "")) for name in custom_names]
            yield writer.writerow([csv_safe(cell) for cell in cells])

    yield from in_chunks(lines())
