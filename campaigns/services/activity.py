"""The activity log: who spent credits, changed consent or changed access, when, and from
which address.

- Every entry is written by `activity_record`, inside the transaction of the action it
  tells about: an action that is refused or rolled back leaves no entry.
- Who and from where: a web request sets both for its duration (`acting_as`, used by
  `ActivityMiddleware`), so services need no request; a `user` given to
  `activity_record` wins. Outside a request (the worker, a command) the user is the one
  the service was given, or nobody (the system), and there is no address.
- Entries are never changed or deleted: the model refuses it, the admin only shows them.
- People and roles are Django's auth models, written by Django's admin and commands,
  not by our services: their changes are recorded by the signal receivers below,
  connected in `CampaignsConfig.ready`. The admin's forms set a user's roles or a role's
  permissions in two steps (remove, then add); `recording_m2m_change` turns them into
  one entry.
"""

import csv
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db.models import Model, QuerySet
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from ..csv_files import Echo, csv_safe, in_chunks
from ..models import ActivityEntry, AudioCode, Campaign, Contact, ContactGroup

Action = ActivityEntry.Action
TargetType = ActivityEntry.TargetType

# (user, address) of the web request being served, if any.
_actor: ContextVar[tuple | None] = ContextVar("activity_actor", default=None)
# (model label, pk) of the objects whose many-to-many change is being recorded as one entry.
_grouped: ContextVar[frozenset] = ContextVar("activity_grouped", default=frozenset())

_TARGET_TYPES = {
    Campaign: TargetType.CAMPAIGN,
    Contact: TargetType.CONTACT,
    ContactGroup: TargetType.GROUP,
    AudioCode: TargetType.AUDIO,
    Group: TargetType.ROLE,
}
_TARGET_LENGTH = ActivityEntry._meta.get_field("target").max_length
# Phones named in the entry of a bulk action on contacts; the count says how many in all.
_PHONES_NAMED = 20


@contextmanager
def acting_as(*, user, address: str | None):
    """Record the actions done inside the block as done by `user` from `address`."""
    token = _actor.set((user, address))
    try:
        yield
    finally:
        _actor.reset(token)


def activity_record(
    *,
    action: str,
    target: Model | None = None,
    target_type: str = "",
    target_id: int | None = None,
    target_text: str = "",
    details: dict | None = None,
    user=None,
    address: str | None = None,
) -> ActivityEntry:
    """Write one entry of the activity log, in the caller's transaction.

    `target` (a campaign, contact, group, audio, user or role) gives the target's type, id
    and text; `target_type`/`target_id`/`target_text` describe one explicitly (a bulk
    action). `user` and `address` default to the current request's (`acting_as`).
    """
    request_user, request_address = _actor.get() or (None, None)
    user = user if user is not None else request_user
    if user is not None and not user.is_authenticated:
        user = None
    if target is not None:
        target_type = target_type or _target_type(target)
        target_id = target.pk if target_id is None else target_id
        target_text = target_text or _target_text(target)
    user_id = user.pk if user is not None else None
    if action == Action.USER_DELETE and target_type == TargetType.USER and target_id == user_id:
        user_id = None  # a person deleting their own account: only the name outlives it
    return ActivityEntry.objects.create(
        action=action,
        user_id=user_id,
        username=user.get_username() if user is not None else "",
        target_type=target_type,
        target_id=target_id,
        target=target_text[:_TARGET_LENGTH],
        details=details or {},
        address=address or request_address,
    )


def _target_type(target: Model) -> str:
    if isinstance(target, get_user_model()):
        return TargetType.USER
    # isinstance, not the class: the admin's roles are a proxy of Group.
    return next(kind for model, kind in _TARGET_TYPES.items() if isinstance(target, model))


def _target_text(target: Model) -> str:
    if isinstance(target, Contact):
        name = target.full_name
        return f"{name} ({target.phone})" if name else target.phone
    if isinstance(target, AudioCode):
        return f"{target.name} ({target.code})"
    if isinstance(target, get_user_model()):
        return target.get_username()
    return str(getattr(target, "name", target))


def contacts_target(*, contact_ids: list[int]) -> dict:
    """The target of an action on contacts: the contact itself when there is one, else
    the phones of the first 20 (and "…" when `contact_ids` holds more). Read before the
    action (a delete loses them)."""
    if len(contact_ids) == 1:
        contact = Contact.objects.filter(pk=contact_ids[0]).first()
        if contact is not None:
            return {"target": contact}
    phones = (
        Contact.objects.filter(pk__in=contact_ids[:_PHONES_NAMED])
        .order_by("phone")
        .values_list("phone", flat=True)
    )
    text = ", ".join(phones)
    if len(contact_ids) > _PHONES_NAMED:
        text += ", …"
    return {"target_type": TargetType.CONTACT, "target_text": text}


# -- people and roles ------------------------------------------------------------------------

_ACCESS_FIELDS = ("is_active", "is_staff", "is_superuser")
# Saves that change no access: a sign-in, or Django rehashing a password at sign-in.
_QUIET_SAVES = {"last_login", "password"}


def _user_before_save(sender, instance, update_fields=None, **kwargs):
    if instance.pk is None or (update_fields is not None and set(update_fields) <= _QUIET_SAVES):
        return
    instance._activity_before = (
        sender.objects.filter(pk=instance.pk).values(*_ACCESS_FIELDS, "password").first()
    )


def _user_saved(sender, instance, created, update_fields=None, **kwargs):
    if created:
        activity_record(
            action=Action.USER_CREATE,
            target=instance,
            details={field: getattr(instance, field) for field in _ACCESS_FIELDS},
        )
        return
    before = instance.__dict__.pop("_activity_before", None)
    if before is None:
        return
    changes = {
        field: [before[field], getattr(instance, field)]
        for field in _ACCESS_FIELDS
        if before[field] != getattr(instance, field)
    }
    if changes:
        activity_record(action=Action.USER_ACCESS, target=instance, details={"changes": changes})
    if before["password"] != instance.password:
        activity_record(action=Action.USER_PASSWORD, target=instance)


def _user_deleted(sender, instance, **kwargs):
    activity_record(action=Action.USER_DELETE, target=instance)


def _names(model, pks: Iterable[int]) -> list[str]:
    field = "codename" if model is Permission else "name"
    return sorted(model.objects.filter(pk__in=list(pks)).values_list(field, flat=True))


def _related_pks(instance, attribute: str) -> set[int]:
    return set(getattr(instance, attribute).values_list("pk", flat=True))


def _m2m_changed(*, action_name, instance, pk_set, reverse, model, owner, related, attribute):
    """One entry per owner (user or role) whose set of related objects changed, unless the
    change is recorded as a whole by `recording_m2m_change`."""
    if action_name == "pre_clear":
        instance._activity_cleared = _related_pks(instance, related if reverse else attribute)
        return
    if action_name not in {"post_add", "post_remove", "post_clear"}:
        return
    if action_name == "post_clear":
        pk_set = instance.__dict__.pop("_activity_cleared", set())
    if not pk_set:
        return
    key = "removed" if action_name != "post_add" else "added"
    if reverse:  # instance is the related object, pk_set the owners
        owners = owner.objects.filter(pk__in=pk_set)
        names = [instance.codename if owner is Group else instance.name]
    else:
        owners, names = [instance], _names(model, pk_set)
    for each in owners:
        if (each._meta.label, each.pk) in _grouped.get():
            continue
        activity_record(
            action=Action.USER_ROLES if owner is not Group else Action.ROLE_PERMISSIONS,
            target=each,
            details={key: names},
        )


def _user_groups_changed(sender, instance, action, pk_set, reverse, model, **kwargs):
    _m2m_changed(
        action_name=action,
        instance=instance,
        pk_set=pk_set,
        reverse=reverse,
        model=model,
        owner=get_user_model(),
        related="user_set",
        attribute="groups",
    )


def _role_permissions_changed(sender, instance, action, pk_set, reverse, model, **kwargs):
    _m2m_changed(
        action_name=action,
        instance=instance,
        pk_set=pk_set,
        reverse=reverse,
        model=model,
        owner=Group,
        related="group_set",
        attribute="permissions",
    )


@contextmanager
def recording_m2m_change(*, owner: Model):
    """Record the change of a user's roles (or a role's permissions) made inside the block
    as one entry, with what was added and what was removed."""
    is_role = isinstance(owner, Group)
    attribute, model = ("permissions", Permission) if is_role else ("groups", Group)
    before = _related_pks(owner, attribute) if owner.pk else set()
    token = _grouped.set(_grouped.get() | {(owner._meta.label, owner.pk)})
    try:
        yield
    finally:
        _grouped.reset(token)
    after = _related_pks(owner, attribute)
    details = {}
    if added := after - before:
        details["added"] = _names(model, added)
    if removed := before - after:
        details["removed"] = _names(model, removed)
    if details:
        activity_record(
            action=Action.ROLE_PERMISSIONS if is_role else Action.USER_ROLES,
            target=owner,
            details=details,
        )


def connect_signals() -> None:
    """Record changes to people and roles, wherever they are made (admin, shell, command)."""
    user_model = get_user_model()
    pre_save.connect(_user_before_save, sender=user_model, dispatch_uid="activity_user_pre")
    post_save.connect(_user_saved, sender=user_model, dispatch_uid="activity_user_saved")
    post_delete.connect(_user_deleted, sender=user_model, dispatch_uid="activity_user_deleted")
    m2m_changed.connect(
        _user_groups_changed, sender=user_model.groups.through, dispatch_uid="activity_roles"
    )
    m2m_changed.connect(
        _role_permissions_changed,
        sender=Group.permissions.through,
        dispatch_uid="activity_role_permissions",
    )


# -- export ------------------------------------------------------------------------------------

_HEADERS = (
    pgettext_lazy("activity export column", "When"),
    pgettext_lazy("activity export column", "User"),
    pgettext_lazy("activity export column", "Action"),
    pgettext_lazy("activity export column", "Target type"),
    pgettext_lazy("activity export column", "Target id"),
    pgettext_lazy("activity export column", "Target"),
    pgettext_lazy("activity export column", "Details"),
    pgettext_lazy("activity export column", "Address"),
)


def activity_csv_rows(*, entries: QuerySet[ActivityEntry], language: str) -> Iterator[str]:
    """CSV lines of activity entries in the reader's language: in Spanish `;`-separated
    with Spanish headers and action names (as Excel in Colombia opens it), UTF-8 with a
    BOM, times in Colombian time, every cell passed through csv_safe, constant memory."""
    spanish = (language or "").startswith("es")
    writer = csv.writer(Echo(), delimiter=";" if spanish else ",")
    with translation.override(language):
        header = [str(title) for title in _HEADERS]

    def lines() -> Iterator[str]:
        zone = timezone.get_current_timezone()
        with translation.override(language):
            system = _("system")
            for entry in entries.iterator(chunk_size=2000):
                cells = [
                    _when(entry.at.astimezone(zone)),
                    entry.username or system,
                    entry.get_action_display(),
                    entry.get_target_type_display(),
                    "" if entry.target_id is None else str(entry.target_id),
                    entry.target,
                    entry.details_text,
                    entry.address or "",
                ]
                yield writer.writerow([csv_safe(str(cell)) for cell in cells])

    yield "\ufeff" + writer.writerow([csv_safe(cell) for cell in header])
    yield from in_chunks(lines())


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")
