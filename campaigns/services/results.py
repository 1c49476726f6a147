"""What to do with a campaign's results: export them, call some phones again, mark them
do-not-call, group them; and the briefly cached balance of the dashboard."""

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from ..csv_files import Echo, csv_safe, in_chunks
from ..models import (
    CallResult,
    Campaign,
    CampaignTotals,
    Contact,
    ContactGroup,
    DoNotCallChange,
)
from ..selectors import campaign_totals_from_results
from ..selectors_waves import across_waves
from ..xlsx_files import xlsx_file
from .campaigns import campaign_save
from .contacts import contacts_set_do_not_call, group_add_phones
from .onurix_health import OnurixHealth, onurix_health

# The columns of both exports, in order: (name, model path, header). The header is the
# name itself in English, the machine-friendly names that scripts rely on, and a word in
# the reader's language otherwise (with states in words too). New columns go at the end.
_COLUMNS = (
    ("phone", "phone", pgettext_lazy("results export column", "phone")),
    ("first_name", "contact__first_name", pgettext_lazy("results export column", "first_name")),
    ("last_name", "contact__last_name", pgettext_lazy("results export column", "last_name")),
    ("state", "state", pgettext_lazy("results export column", "state")),
    ("onurix_state", "onurix_state", pgettext_lazy("results export column", "onurix_state")),
    ("error_code", "error_code", pgettext_lazy("results export column", "error_code")),
    ("error_message", "error_message", pgettext_lazy("results export column", "error_message")),
    ("credits", "credits", pgettext_lazy("results export column", "credits")),
    ("call_id", "call_id", pgettext_lazy("results export column", "call_id")),
    ("dispatch_id", "dispatch_id", pgettext_lazy("results export column", "dispatch_id")),
    ("sent_at", "sent_at", pgettext_lazy("results export column", "sent_at")),
    ("updated_at", "updated_at", pgettext_lazy("results export column", "updated_at")),
    ("campaign", "campaign__name", pgettext_lazy("results export column", "campaign")),
    (
        "exclusion_reason",
        "exclusion_reason",
        pgettext_lazy("results export column", "exclusion_reason"),
    ),
    (
        "credits_refunded",
        "credits_refunded",
        pgettext_lazy("results export column", "credits_refunded"),
    ),
)
# Computed across the campaign's follow-up waves (selectors_waves.across_waves): the wave
# whose call was answered, the outcome of the latest attempt, and every attempt.
_WAVE_COLUMNS = (
    ("wave", pgettext_lazy("results export column", "wave")),
    ("final_state", pgettext_lazy("results export column", "final_state")),
    ("attempts", pgettext_lazy("results export column", "attempts")),
)
RESULT_COLUMNS = tuple(name for name, _path, _header in _COLUMNS)
# Added after RESULT_COLUMNS for a campaign with follow-up waves.
WAVE_COLUMNS = tuple(name for name, _header in _WAVE_COLUMNS)
_VALUES = tuple(path for _name, path, _header in _COLUMNS)
_POSITION = {name: index for index, name in enumerate(RESULT_COLUMNS)}
_DATES = (_POSITION["sent_at"], _POSITION["updated_at"])
_STATE, _REASON = _POSITION["state"], _POSITION["exclusion_reason"]
BALANCE_CACHE_SECONDS = 30


@dataclass(frozen=True)
class ExportDialect:
    """How an export speaks to its reader: Excel in Spanish (Colombia) splits CSV on `;`
    and reads `1,5` as a number; in English, `,` and `1.5` and the machine names."""

    spanish: bool
    headers: list[str]

    @property
    def delimiter(self) -> str:
        return ";" if self.spanish else ","


def export_dialect(*, language: str, waves: bool = False) -> ExportDialect:
    with translation.override(language):
        headers = [str(header) for _name, _path, header in _COLUMNS]
        if waves:
            headers += [str(header) for _name, header in _WAVE_COLUMNS]
    return ExportDialect(spanish=(language or "").startswith("es"), headers=headers)


def _rows(
    results: QuerySet[CallResult], dialect: ExportDialect, waves: dict | None = None
) -> Iterator[tuple]:
    """One tuple per result in RESULT_COLUMNS order, read in chunks (constant memory but
    for `waves`: each phone's attempts in the follow-up waves, `wave_attempts`)."""
    rows = results.select_related(None).values_list(*_VALUES)
    # Looked up once: timezone.localtime() per value costs more than the rest of the row.
    zone = timezone.get_current_timezone()
    states = dict(CallResult.State.choices) if dialect.spanish else {}
    reasons = dict(CallResult.ExclusionReason.choices) if dialect.spanish else {}
    for row in rows.iterator(chunk_size=2000):
        values = list(row)
        if waves is not None:
            values += _across_cells(values[0], values[_STATE], waves, states)
        values[1] = values[1] or ""
        values[2] = values[2] or ""
        for index in _DATES:
            if values[index] is not None:
                values[index] = values[index].astimezone(zone).replace(tzinfo=None)
        if dialect.spanish:
            values[_STATE] = str(states.get(values[_STATE], values[_STATE]))
            values[_REASON] = str(reasons.get(values[_REASON], values[_REASON]))
        yield tuple(values)


def _across_cells(phone: str, state: str, waves: dict, states: dict) -> list:
    """The wave columns of one phone: the wave that reached it, its final state, and its
    attempts ("1: Enviada; 2: Contestada")."""
    across = across_waves(state, waves.get(phone))
    final = across.final_state
    attempts = [(number, states.get(value, value)) for number, value in across.attempts]
    return [
        across.reached_in or "",
        str(states.get(final, final)),
        "; ".join(f"{number}: {value}" for number, value in attempts),
    ]


def _text(value, decimal_comma: bool) -> str:
    if value.__class__ is str:  # most cells: checked first
        return value
    if value is None:
        return ""
    if isinstance(value, Decimal):
        text = f"{value.normalize():f}"
        return text.replace(".", ",") if decimal_comma else text
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def campaign_results_csv_rows(
    *, results: QuerySet[CallResult], language: str = "en", waves: dict | None = None
) -> Iterator[str]:
    """CSV lines of results in the reader's language (`export_dialect`): UTF-8 with a BOM,
    every cell passed through csv_safe, dates in Colombian time, in constant memory.
    `waves`: the phones' attempts in the campaign's follow-up waves (`wave_attempts`)."""
    dialect = export_dialect(language=language, waves=waves is not None)
    writer = csv.writer(Echo(), delimiter=dialect.delimiter)
    yield "\ufeff" + writer.writerow([csv_safe(str(header)) for header in dialect.headers])
    lines = (
        writer.writerow([csv_safe(_text(value, dialect.spanish)) for value in row])
        for row in _rows(results, dialect, waves)
    )
    yield from in_chunks(lines)


def campaign_results_xlsx(
    *, results: QuerySet[CallResult], language: str = "en", waves: dict | None = None
):
    """The results as an .xlsx workbook in a temporary file (rewound, for streaming), with
    the headers and states of the reader's language.

    Text cells are stored as text, never formulas; numbers as numbers; dates as
    Colombian time.
    """
    dialect = export_dialect(language=language, waves=waves is not None)
    return xlsx_file(
        title=_("Results"), headers=dialect.headers, rows=_rows(results, dialect, waves)
    )


def _phones(results: Iterable[CallResult] | QuerySet[CallResult]) -> list[str]:
    if isinstance(results, QuerySet):
        return list(results.order_by("id").values_list("phone", flat=True))
    return [result.phone for result in results]


def campaign_follow_up(
    *, campaign: Campaign, results: QuerySet[CallResult], user
) -> Campaign | None:
    """A new draft with the campaign's content (voice and message or audio, retries,
    voicemail, calling window) for the phones of `results`, one per line in its extra
    phones, created from `campaign`. None when there is no phone."""
    phones = _phones(results)
    if not phones:
        return None
    return campaign_save(
        user=user,
        groups=[],
        name=_("%(name)s (follow-up)") % {"name": campaign.name},
        voice=campaign.voice,
        message=campaign.message,
        audio_code=campaign.audio_code,
        retries=campaign.retries,
        leave_voicemail=campaign.leave_voicemail,
        calling_window_start=campaign.calling_window_start,
        calling_window_end=campaign.calling_window_end,
        extra_phones="\n".join(phones),
        parent=campaign,
        purpose=campaign.purpose,
    )


@dataclass(frozen=True)
class DoNotCallResult:
    marked: int  # contacts now marked (created ones included)
    created: int  # phones that had no contact: created, marked do-not-call
    calls_cancelled: int  # queued calls to these phones excluded, in every campaign
    blocks_queued: int = 0  # phones the worker will also block at Onurix


def results_mark_do_not_call(
    *, campaign: Campaign, results: QuerySet[CallResult], user, block_at_onurix: bool = False
) -> DoNotCallResult:
    """Mark the phones of `results` do-not-call, with the reason "From campaign <name>",
    through `contacts_set_do_not_call` (from the results page, by `user`).

    A phone without a contact gets one, so that it is left out of every later campaign;
    its mark is in the history like any other. `block_at_onurix`: also block the phones
    at Onurix (services/blocking.py).
    """
    phones = set(_phones(results))
    reason = _("From campaign %(name)s") % {"name": campaign.name}
    with transaction.atomic():
        known = set(Contact.objects.filter(phone__in=phones).values_list("phone", flat=True))
        created = Contact.objects.bulk_create(
            [Contact(phone=phone) for phone in sorted(phones - known)], batch_size=1000
        )
        outcome = contacts_set_do_not_call(
            contacts=Contact.objects.filter(phone__in=phones),
            do_not_call=True,
            reason=reason,
            source=DoNotCallChange.Source.RESULTS,
            user=user,
            block_at_onurix=block_at_onurix,
        )
    return DoNotCallResult(
        marked=outcome.changed,
        created=len(created),
        calls_cancelled=outcome.calls_cancelled,
        blocks_queued=outcome.blocks_queued,
    )


def results_add_to_group(*, results: QuerySet[CallResult], group: ContactGroup) -> int:
    """Add the phones of `results` to a group (creating contacts for unknown phones).
    Returns how many were not in it yet."""
    return group_add_phones(group=group, phones=sorted(set(_phones(results)))).added


def onurix_health_cached(*, fresh: bool = False) -> OnurixHealth:
    """`onurix_health`, kept BALANCE_CACHE_SECONDS per account (base url and client id) so
    that every dashboard view does not ask Onurix; its `checked_at` says when it was read.
    Only an answer that worked is kept: a problem is asked again at once."""
    key = f"onurix-health:{settings.ONURIX_BASE_URL}:{settings.ONURIX_CLIENT_ID}"
    if not fresh and (health := cache.get(key)) is not None:
        return health
    health = onurix_health()
    if health.ok:
        cache.set(key, health, BALANCE_CACHE_SECONDS)
    return health


def campaign_totals_recount(*, campaigns: Iterable[Campaign] | None = None) -> list[Campaign]:
    """Rebuild campaigns' totals from their results; returns the campaigns that were off.

    The triggers keep totals right; this is for a database whose triggers were bypassed
    (a restore with triggers disabled, a hand edit of the totals table). The totals row is
    locked first, so a change of results made meanwhile is either already counted in the
    sums read after the lock or applied by its trigger after this transaction.
    """
    fixed = []
    for campaign in campaigns if campaigns is not None else Campaign.objects.order_by("pk"):
        with transaction.atomic():
            kept = CampaignTotals.objects.select_for_update().get(campaign_id=campaign.pk)
            figures = campaign_totals_from_results(campaign=campaign)
            if any(getattr(kept, field) != value for field, value in figures.items()):
                CampaignTotals.objects.filter(campaign_id=campaign.pk).update(**figures)
                fixed.append(campaign)
    return fixed
