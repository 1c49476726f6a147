from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from . import selectors, services
from .models import CallResult, Campaign

PAGE_SIZE = 50


def _page(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def _render(request, template, partial, context):
    """Render the full page, or only its partial for an htmx request."""
    return render(request, partial if request.htmx else template, context)


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
    return _render(
        request, "campaigns/onurix_status.html", "campaigns/partials/_onurix_status.html", context
    )


@require_GET
def contact_list(request):
    search = request.GET.get("q", "").strip()
    group_id = request.GET.get("group", "")
    group_id = int(group_id) if group_id.isdigit() else None
    context = {
        "page": _page(request, selectors.contact_list(search=search, group_id=group_id)),
        "search": search,
        "group_id": group_id,
        "groups": selectors.group_list(),
    }
    return _render(
        request, "campaigns/contact_list.html", "campaigns/partials/_contact_table.html", context
    )


@require_GET
def group_list(request):
    search = request.GET.get("q", "").strip()
    context = {"page": _page(request, selectors.group_list(search=search)), "search": search}
    return _render(
        request, "campaigns/group_list.html", "campaigns/partials/_group_table.html", context
    )


@require_GET
def audio_code_list(request):
    search = request.GET.get("q", "").strip()
    context = {"page": _page(request, selectors.audio_code_list(search=search)), "search": search}
    return _render(
        request, "campaigns/audio_code_list.html", "campaigns/partials/_audio_table.html", context
    )


@require_GET
def campaign_list(request):
    search = request.GET.get("q", "").strip()
    context = {"page": _page(request, selectors.campaign_list(search=search)), "search": search}
    return _render(
        request, "campaigns/campaign_list.html", "campaigns/partials/_campaign_table.html", context
    )


@require_GET
def campaign_detail(request, pk):
    campaign = get_object_or_404(Campaign.objects.select_related("audio_code"), pk=pk)
    context = {
        "campaign": campaign,
        "state_rows": [
            {"state": state, "label": CallResult.State(state).label, "count": count}
            for state, count in selectors.campaign_state_counts(campaign=campaign).items()
        ],
    }
    return render(request, "campaigns/campaign_detail.html", context)
