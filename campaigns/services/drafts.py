"""Drafts: campaigns nobody launched yet, which may still be thrown away."""

import logging

from django.db import transaction

from ..models import ActivityEntry, Campaign
from .activity import activity_record

logger = logging.getLogger(__name__)


def campaign_delete(*, campaign: Campaign, user) -> bool:
    """Delete `campaign` if it is still a draft; a launched one is never deleted.

    Returns whether the draft was deleted (False when it left draft meanwhile).
    """
    drafts = Campaign.objects.filter(pk=campaign.pk, state__in=Campaign.TRANSITIONS["edit"])
    with transaction.atomic():
        # Django's delete() reads the rows to cascade before it deletes them: the row lock
        # (on PostgreSQL; SQLite lets one writer at a time) keeps a launch from slipping in
        # between, and the delete itself still asks for a draft.
        if not drafts.select_for_update().values_list("pk", flat=True):
            return False
        activity_record(action=ActivityEntry.Action.CAMPAIGN_DELETE, target=campaign, user=user)
        deleted, _per_model = drafts.delete()
    if deleted:
        logger.info("Draft campaign %s deleted by %s", campaign.pk, user)
    return bool(deleted)
