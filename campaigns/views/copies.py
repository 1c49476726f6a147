"""Copies and templates of campaigns, and raising a campaign's credit limit."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from .. import selectors, services
from ..forms import CreditCapForm
from ..models import Campaign


@require_POST
@permission_required("campaigns.add_campaign", raise_exception=True)
def campaign_duplicate(request, pk):
    campaign = get_object_or_404(Campaign, pk=pk)
    copy = services.campaign_duplicate(campaign=campaign, user=request.user)
    messages.success(
        request,
        _(
            "Copy of %(name)s created as a draft: change what you need, check the preview, then "
            "launch it."
        )
        % {"name": campaign.name},
    )
    return redirect(copy)


@require_POST
@permission_required("campaigns.add_campaign", raise_exception=True)
def campaign_save_as_template(request, pk):
    campaign = get_object_or_404(Campaign, pk=pk)
    if not campaign.can_edit or campaign.is_template:
        messages.error(request, _("Only a draft can be saved as a template."))
        return redirect(campaign)
    template = services.campaign_save_as_template(campaign=campaign, user=request.user)
    messages.success(
        request,
        _("Template %(name)s saved: choose it when you create a new campaign.")
        % {"name": template.name},
    )
    return redirect(campaign)


@require_http_methods(["GET", "POST"])
@permission_required("campaigns.launch_campaign", raise_exception=True)
def campaign_credit_cap(request, pk):
    """Change a launched campaign's credit limit; resume it if the limit had paused it.
    The campaign's page posts here; a refused value comes back on this page, next to the
    field."""
    campaign = get_object_or_404(Campaign, pk=pk)
    form = CreditCapForm(request.POST or None, initial={"credit_cap": campaign.credit_cap})
    if request.method == "POST" and form.is_valid():
        try:
            resumed = services.campaign_set_credit_cap(
                campaign=campaign, user=request.user, credit_cap=form.cleaned_data["credit_cap"]
            )
        except ValidationError as error:
            form.add_error("credit_cap", error)
        else:
            if resumed:
                messages.success(request, _("Credit limit changed: the campaign goes on."))
            else:
                messages.success(request, _("Credit limit changed."))
            return redirect(campaign)
    context = {
        "campaign": campaign,
        "form": form,
        "spent": selectors.campaign_totals(campaign=campaign),
    }
    return render(request, "campaigns/campaign_credit_cap.html", context)
