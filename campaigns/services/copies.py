"""Copies of campaigns: "Duplicar", templates, and new campaigns started from a template.

A copy is a new draft with the campaign's content and audience: every field a person
chooses in the form (message or audio, voice, retries, voicemail, calling window, credit
cap, purpose...), its groups, its typed phones and its follow-up waves. What belongs to
a campaign's life (its state, who launched it, when, what it cost, its results) stays
behind. Fields added to `Campaign` later are copied unless they are listed in
NOT_COPIED (with `Campaign.LIFE_FIELDS`).
"""

import logging
import re

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import Campaign, FollowUpWave

logger = logging.getLogger(__name__)

# What a copy never takes: the campaign's life, and what each campaign decides anew.
NOT_COPIED = {
    "id",
    "name",
    "created_at",
    "updated_at",
    *Campaign.LIFE_FIELDS,
    "parent",
    "is_template",
    "scheduled_at",  # a past start time is refused by the form: the copy starts unset
    "exclude_dead_numbers",  # the preview asks again for each launch
    "wave",  # a follow-up wave's own campaign: its copy is a campaign of its own
}
NAME_LENGTH = Campaign._meta.get_field("name").max_length


def campaign_duplicate(*, campaign: Campaign, user) -> Campaign:
    """A new draft with the content, groups and typed phones of `campaign` (any state,
    a template too), named "<name> (copy)", or "(copy 2)"... when that name is taken."""
    base = _strip_copy_suffix(campaign.name)
    name = _free_name(
        [_("%(name)s (copy)") % {"name": base}]
        + [_("%(name)s (copy %(number)s)") % {"name": base, "number": n} for n in range(2, 100)],
        templates=False,
    )
    copy = _copy(campaign, user=user, name=name, is_template=False)
    logger.info("Campaign %s duplicated as %s by %s", campaign.pk, copy.pk, user)
    return copy


def campaign_save_as_template(*, campaign: Campaign, user) -> Campaign:
    """A template with the content, groups and typed phones of the draft `campaign`, named
    like it ("<name> (2)"... when a template has that name). The draft stays as it is."""
    name = _free_name(
        [campaign.name]
        + [
            _("%(name)s (%(number)s)") % {"name": campaign.name, "number": n} for n in range(2, 100)
        ],
        templates=True,
    )
    template = _copy(campaign, user=user, name=name, is_template=True)
    logger.info("Campaign %s saved as template %s by %s", campaign.pk, template.pk, user)
    return template


def _copy(campaign: Campaign, *, user, name: str, is_template: bool) -> Campaign:
    values = {
        field.attname: getattr(campaign, field.attname)
        for field in Campaign._meta.concrete_fields
        if field.name not in NOT_COPIED
    }
    with transaction.atomic():
        copy = Campaign.objects.create(
            **values, name=name, is_template=is_template, created_by=user
        )
        copy.groups.set(campaign.groups.all())
        FollowUpWave.objects.bulk_create(
            FollowUpWave(
                campaign=copy,
                number=wave.number,
                outcomes=wave.outcomes,
                days_after=wave.days_after,
                at=wave.at,
            )
            for wave in campaign.waves.all()
        )
    return copy


def _strip_copy_suffix(name: str) -> str:
    """ "Recordatorio (copia 2)" -> "Recordatorio": a copy of a copy is numbered, not
    "(copia) (copia)"."""
    word = re.escape(_("%(name)s (copy)") % {"name": ""}).replace(r"\)", "")
    return re.sub(rf"{word}(?: \d+)?\)$", "", name) or name


def _free_name(candidates: list[str], *, templates: bool) -> str:
    """The first candidate no campaign (or template) has, cut to the field's length; the
    last one, with the time, when all are taken."""
    fitted = [_fit(candidate) for candidate in candidates]
    taken = set(
        Campaign.objects.filter(is_template=templates, name__in=fitted).values_list(
            "name", flat=True
        )
    )
    for candidate in fitted:
        if candidate not in taken:
            return candidate
    stamp = timezone.localtime().strftime("%Y-%m-%d %H:%M:%S")
    return _fit(f"{candidates[0]} {stamp}")


def _fit(name: str) -> str:
    """A name cut to the field's length, keeping its end ("(copia 2)") readable."""
    if len(name) <= NAME_LENGTH:
        return name
    match = re.search(r" \([^()]*\)$", name)
    suffix = match.group(0) if match else ""
    return name[: NAME_LENGTH - len(suffix)] + suffix
