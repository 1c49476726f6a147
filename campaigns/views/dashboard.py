from django.shortcuts import render
from django.views.decorators.http import require_GET

from .. import selectors, services
from .common import render_page

RECENT_CAMPAIGNS = 5
# The credits chart: a viewBox 300 wide and 100 high, one bar per day.
CHART_WIDTH, CHART_HEIGHT, CHART_TOP = 300, 100, 8


def _credit_bars(per_day: list[selectors.DayCredits]) -> list[dict]:
    """Geometry of the bar chart of net credits per day (server-rendered SVG)."""
    highest = max((day.net for day in per_day), default=0) or 1
    slot = CHART_WIDTH / max(len(per_day), 1)
    bars = []
    for index, day in enumerate(per_day):
        height = max(float(day.net), 0) / float(highest) * (CHART_HEIGHT - CHART_TOP)
        bars.append(
            {
                "day": day.day,
                "net": day.net,
                "x": index * slot + slot * 0.1,
                "width": slot * 0.8,
                "y": CHART_HEIGHT - height,
                "height": height,
                "last": index == len(per_day) - 1,
            }
        )
    return bars


@require_GET
def dashboard(request):
    usage = selectors.credits_usage()
    context = {
        "totals": selectors.dashboard_totals(),
        "usage": usage,
        "credit_bars": _credit_bars(usage.per_day),
        "credits_30_days": sum(day.net for day in usage.per_day),
        "recent_campaigns": selectors.recent_campaigns_with_cost(limit=RECENT_CAMPAIGNS),
        "worker": services.worker_health(),
        "low_balance": services.low_balance(),
    }
    return render(request, "campaigns/dashboard.html", context)


@require_GET
def onurix_status(request):
    """Whether Onurix answers, and the balance: read at most every 30 seconds, unless the
    person asks to check again (`?fresh=1`)."""
    health = services.onurix_health_cached(fresh=request.GET.get("fresh") == "1")
    return render_page(
        request,
        "campaigns/onurix_status.html",
        "campaigns/partials/_onurix_status.html",
        {"health": health},
    )
