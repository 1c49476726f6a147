"""Follow-up waves on their campaign's page: cancelling one."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .. import services
from ..models import Campaign


@require_POST
@permission_required("campaigns.change_campaign", raise_exception=True)
def campaign_wave_cancel(request, pk):
    """Cancel one follow-up wave (POST `wave`: its number) of a campaign, before it
    starts or while it sends."""
    campaign = get_object_or_404(Campaign, pk=pk)
    number = request.POST.get("wave", "")
    wave = campaign.waves.filter(number=number).first() if number.isdigit() else None
    if wave is not None and services.wave_cancel(wave=wave, user=request.user):
        messages.success(
            request, _("Wave %(number)s cancelled: it calls nobody more.") % {"number": number}
        )
    else:
        messages.info(request, _("This wave cannot be cancelled any more."))
    return redirect(campaign.get_absolute_url() + "#waves")
