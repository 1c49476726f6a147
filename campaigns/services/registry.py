"""The Registro de Números Excluidos (RNE): loading the national list, and who is in it.

Ley 2300 de 2023 lets people register their numbers to refuse commercial and advertising
calls. An administrator loads the list the registry publishes (a page, or `manage.py
load_rne`); a commercial campaign (Campaign.Purpose.COMMERCIAL) leaves its numbers out in
the preview, at the launch and again when the worker claims each phone. Informational
campaigns (appointments, alerts, collections of existing obligations) are not bound by it.

How a load works, with a list of a million numbers or more in mind:
- a list uploaded on the page is kept as a file and loaded by the worker (a large list
  takes longer than a web request may); the command loads it at once;
- the file is read as a stream, one number per line (a CSV's first cell), each normalised
  like every phone of the product (`normalize_phone`); lines that are not a phone (a
  header, garbage) are counted and skipped;
- numbers are written in chunks, each in its own short transaction, into a new list that
  nobody reads yet, so campaigns go on meanwhile (SQLite has one writer at a time);
- one short transaction then makes the new list the current one: readers see the whole
  old list or the whole new one, never a mix; a load that fails leaves the old one;
- the old list's numbers are deleted afterwards, in chunks; its RegistryList row stays
  as the record of who loaded which list.
"""

import io
import logging
import re
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.db.models import Max, Min
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from .. import tasks
from ..models import CallResult, Campaign, Contact, RegistryList, RegistryNumber
from ..phones import InvalidPhone, normalize_phone

logger = logging.getLogger(__name__)

CHUNK = 50_000
_DELETE_CHUNK = 100_000
_LOOKUP_CHUNK = 2000
# A CSV line's first cell: the number, whatever else the line says.
_CELL_SEPARATORS = re.compile(r"[,;\t]")


@dataclass(frozen=True)
class RegistryLoad:
    registry_list: RegistryList
    numbers: int  # distinct numbers in the new list
    skipped: int  # lines that were not a phone
    replaced: RegistryList | None  # the list that was current before


def _phones(lines: Iterable[str], skipped: list[int]) -> Iterator[str]:
    """The normalised phones of `lines`; counts the lines that are not one in skipped[0]."""
    for line in lines:
        cell = line.strip()
        if not cell.isdigit():  # most lines are bare digits: no splitting for them
            cell = _CELL_SEPARATORS.split(cell, maxsplit=1)[0].strip().strip("\"'").strip()
        if not cell:
            continue
        try:
            yield normalize_phone(cell)
        except InvalidPhone:
            skipped[0] += 1


def _text_lines(file) -> Iterable[str]:
    """Lines of a binary file (UTF-8 with or without BOM; any other byte is replaced: a
    phone is digits, so only a header could lose a letter)."""
    return io.TextIOWrapper(file, encoding="utf-8-sig", errors="replace", newline="")


def registry_load(*, file, list_date: date, user=None, file_name: str = "") -> RegistryLoad:
    """Load the RNE list published on `list_date` from `file` (binary, read as a stream)
    now, and make it the current list, replacing the previous one at once.

    Raises ValidationError for a date in the future or a file without any phone; the
    current list is then left as it was and nothing of this load is kept.
    """
    _check_date(list_date)
    new = RegistryList.objects.create(
        list_date=list_date, file_name=file_name[:255], loaded_by=user
    )
    try:
        return _fill_and_swap(new, file)
    except BaseException:
        new.delete()
        raise


def registry_upload(*, upload: UploadedFile, list_date: date, user) -> RegistryList:
    """Keep an uploaded list and have the worker load it (`registry_load_uploaded`): a
    large list takes longer than a web request may. Raises ValidationError for a date in
    the future."""
    _check_date(list_date)
    new = RegistryList(list_date=list_date, file_name=Path(upload.name).name[:255])
    new.loaded_by = user
    new.upload.save(f"{uuid.uuid4().hex}.txt", upload, save=False)
    new.save()
    transaction.on_commit(lambda: tasks.registry_load_task.enqueue(list_id=new.pk))
    return new


def registry_load_uploaded(*, list_id: int) -> RegistryLoad | None:
    """The worker's part of `registry_upload`: read the kept file into the list and make
    it current, or mark it failed with the reason. The file is deleted either way. None
    when the list is not waiting to be loaded (already done by another run)."""
    new = RegistryList.objects.filter(pk=list_id, state=RegistryList.State.LOADING).first()
    if new is None or not new.upload:
        return None
    try:
        with new.upload.open("rb") as file:
            return _fill_and_swap(new, file)
    except ValidationError as error:
        _fail(new, " ".join(error.messages))
        return None
    except BaseException:
        _fail(new, _("The list could not be loaded: try again, or ask for help."))
        raise
    finally:
        new.upload.delete(save=False)
        RegistryList.objects.filter(pk=new.pk).update(upload="")


# A list still loading after this long lost its worker (a load of a million numbers
# takes under a minute): the sweep marks it failed, and the current list stays.
LOAD_LOST_AFTER = timedelta(minutes=30)


def registry_loads_sweep(*, now=None) -> int:
    """Mark failed the loads whose worker stopped, and drop what they had written.
    Returns how many."""
    now = now or timezone.now()
    lost = RegistryList.objects.filter(
        state=RegistryList.State.LOADING, created_at__lt=now - LOAD_LOST_AFTER
    )
    count = 0
    for registry_list in lost:
        _fail(
            registry_list,
            _("The load stopped because the background process stopped: upload the list again."),
        )
        _delete_numbers(registry_list.pk)
        if registry_list.upload:
            registry_list.upload.delete(save=False)
            RegistryList.objects.filter(pk=registry_list.pk).update(upload="")
        count += 1
    return count


def _fail(registry_list: RegistryList, message: str) -> None:
    RegistryList.objects.filter(pk=registry_list.pk).update(
        state=RegistryList.State.FAILED, error=message[:500]
    )


def _check_date(list_date: date) -> None:
    if list_date > timezone.localdate():
        raise ValidationError(_("The list's date cannot be in the future."), code="future")


def _fill_and_swap(new: RegistryList, file) -> RegistryLoad:
    """Write the numbers of `file` into `new` in chunks, then make it the current list
    in one short transaction and delete the old list's numbers. On any failure the
    numbers written so far are deleted and the failure raised."""
    skipped = [0]
    try:
        chunk: list[str] = []
        for phone in _phones(_text_lines(file), skipped):
            chunk.append(phone)
            if len(chunk) == CHUNK:
                _insert(new.pk, chunk)
                chunk = []
        if chunk:
            _insert(new.pk, chunk)
        count = RegistryNumber.objects.filter(registry_list=new).count()
        if not count:
            raise ValidationError(
                _("No phone number was found in the file: it needs one number per line."),
                code="empty",
            )
        with transaction.atomic():
            old = RegistryList.objects.select_for_update().filter(is_current=True).first()
            RegistryList.objects.filter(is_current=True).update(is_current=False)
            RegistryList.objects.filter(pk=new.pk).update(
                is_current=True,
                state=RegistryList.State.LOADED,
                numbers=count,
                skipped=skipped[0],
            )
    except BaseException:
        _delete_numbers(new.pk)
        raise
    if old is not None:
        _delete_numbers(old.pk)
    new.refresh_from_db()
    logger.info("RNE list of %s loaded: %s numbers, %s skipped", new.list_date, count, skipped[0])
    return RegistryLoad(registry_list=new, numbers=count, skipped=skipped[0], replaced=old)


def _insert(list_id: int, phones: list[str]) -> None:
    """Write one chunk of numbers of list `list_id`; a number already there is skipped."""
    # Sorted, the unique index (list, phone) grows at its end instead of all over: inserts,
    # and deleting the list later in id order, touch far fewer pages.
    phones = sorted(phones)
    meta = RegistryNumber._meta
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    list_column = quote(meta.get_field("registry_list").column)
    phone_column = quote(meta.get_field("phone").column)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY is the fast way in, but it cannot skip duplicates: it fills a scratch
            # table that one INSERT ... SELECT then copies without them.
            cursor.execute(
                "CREATE TEMP TABLE IF NOT EXISTS rne_staging (phone varchar(16)) "
                "ON COMMIT DELETE ROWS"
            )
            # Empty also inside an outer transaction, where no commit came in between.
            cursor.execute("TRUNCATE rne_staging")
            with cursor.cursor.copy("COPY rne_staging (phone) FROM STDIN") as copy:
                for phone in phones:
                    copy.write_row((phone,))
            cursor.execute(
                f"INSERT INTO {table} ({list_column}, {phone_column}) "  # noqa: S608 (names from the model)
                "SELECT DISTINCT %s, phone FROM rne_staging ON CONFLICT DO NOTHING",
                [list_id],
            )
        else:
            cursor.executemany(
                f"INSERT INTO {table} ({list_column}, {phone_column}) "  # noqa: S608 (names from the model)
                "VALUES (%s, %s) ON CONFLICT DO NOTHING",
                [(list_id, phone) for phone in phones],
            )


def _delete_numbers(list_id: int) -> None:
    """Delete a list's numbers in chunks of ids, each its own short transaction."""
    numbers = RegistryNumber.objects.filter(registry_list_id=list_id)
    bounds = numbers.aggregate(low=Min("pk"), high=Max("pk"))
    if bounds["low"] is None:
        return
    for start in range(bounds["low"], bounds["high"] + 1, _DELETE_CHUNK):
        numbers.filter(pk__gte=start, pk__lt=start + _DELETE_CHUNK).delete()


# -- reads ---------------------------------------------------------------------------------


def registry_current() -> RegistryList | None:
    """The list campaigns are checked against, or None when none was loaded."""
    return RegistryList.objects.filter(is_current=True).first()


def registry_recent_loads(*, limit: int = 10) -> list[RegistryList]:
    """The latest loads, newest first, with who made them."""
    return list(RegistryList.objects.select_related("loaded_by")[:limit])


def registry_is_stale(registry_list: RegistryList | None) -> bool:
    """Whether the list is older than RNE_MAX_AGE_DAYS (the registry publishes often)."""
    if registry_list is None:
        return False
    limit = timezone.localdate() - timedelta(days=settings.RNE_MAX_AGE_DAYS)
    return registry_list.list_date < limit


def registry_reason_label(registry_list: RegistryList) -> str:
    """ "Registro de Números Excluidos (lista del 30/11/2026)": why a phone is left out."""
    return _("Registro de Números Excluidos (list of %(date)s)") % {
        "date": formats.date_format(registry_list.list_date, "SHORT_DATE_FORMAT")
    }


def registry_phones_in(*, registry_list: RegistryList, phones: Iterable[str]) -> set[str]:
    """The `phones` that are in `registry_list`."""
    phones = list(phones)
    found: set[str] = set()
    for start in range(0, len(phones), _LOOKUP_CHUNK):
        found.update(
            RegistryNumber.objects.filter(
                registry_list=registry_list, phone__in=phones[start : start + _LOOKUP_CHUNK]
            ).values_list("phone", flat=True)
        )
    return found


def registry_members_in_groups(*, registry_list: RegistryList, group_ids: list[int]) -> set[str]:
    """The phones of the groups' contacts that are in `registry_list`: one query, joined
    in the database, however large the groups and the list."""
    listed = RegistryNumber.objects.filter(registry_list=registry_list).values("phone")
    return set(
        Contact.objects.filter(groups__in=group_ids, phone__in=listed)
        .values_list("phone", flat=True)
        .distinct()
    )


def registry_applies(campaign: Campaign) -> bool:
    return campaign.purpose == Campaign.Purpose.COMMERCIAL


def registry_exclude_claimed(*, rows: list[tuple[int, str, str]], now) -> int:
    """For the dispatcher's claim (in its transaction): exclude the queued `rows` (result
    id, text, phone) of a commercial campaign whose phone is in the current list now,
    a number added to the registry after the launch included. Returns how many."""
    if not rows:
        return 0
    purpose = (
        CallResult.objects.filter(pk=rows[0][0]).values_list("campaign__purpose", flat=True).first()
    )
    if purpose != Campaign.Purpose.COMMERCIAL:
        return 0
    current = registry_current()
    if current is None:
        return 0
    listed = registry_phones_in(registry_list=current, phones={phone for *_, phone in rows})
    if not listed:
        return 0
    excluded = CallResult.objects.filter(
        id__in=[pk for pk, _text, phone in rows if phone in listed], state=CallResult.State.QUEUED
    ).update(
        state=CallResult.State.EXCLUDED,
        exclusion_reason=CallResult.ExclusionReason.REGISTRY,
        updated_at=now,
    )
    logger.info("Excluded %s phones found in the RNE list at claim time", excluded)
    return excluded
