from django.shortcuts import render
from django.views.decorators.http import require_GET

from .. import selectors, services
from .common import render_page


@require_GET
def dashboard(request):
    context = {
        "totals": selectors.dashboard_totals(),
        "recent_campaigns": selectors.campaign_list()[:5],
    }
    return render(request, "campaigns/dashboard.html", context)


@require_GET
def onurix_status(request):
    context = {"health": services.onurix_health()}
    return render_page(
        request, "campaigns/onurix_status.html", "campaigns/partials/_onurix_status.html", context
    )
