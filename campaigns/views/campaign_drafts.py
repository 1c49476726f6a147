from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from .. import services
from ..models import Campaign


@require_http_methods(["GET", "POST"])
@permission_required("campaigns.delete_campaign", raise_exception=True)
def campaign_delete(request, pk):
    campaign = get_object_or_404(Campaign, pk=pk)
    if not campaign.can_edit:
        messages.error(request, _("Only a draft can be deleted: a launched campaign is kept."))
        return redirect(campaign)
    if request.method == "POST":
        if services.campaign_delete(campaign=campaign, user=request.user):
            messages.success(request, _("Draft %(name)s deleted.") % {"name": campaign.name})
            return redirect("campaign_list")
        messages.error(request, _("Only a draft can be deleted: a launched campaign is kept."))
        return redirect(campaign)
    return render(request, "campaigns/campaign_confirm_delete.html", {"campaign": campaign})
