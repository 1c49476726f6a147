"""A campaign's results: the summary and per-phone table (a partial of the campaign page),
its exports, a follow-up campaign from a filter, and actions on selected phones."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import FileResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from .. import selectors, selectors_waves, services
from ..forms import ResultsActionForm, ResultsFilterForm
from ..models import CallResult, Campaign, ContactGroup
from .common import blocks_queued_text, page_of, with_calls_cancelled

# The segments of the state chart, in order; "pending" is queued and sending together.
CHART_STATES = [
    CallResult.State.ANSWERED,
    CallResult.State.FAILED,
    CallResult.State.UNKNOWN,
    CallResult.State.SENT,
    "pending",
    CallResult.State.CANCELLED,
]
# State filters from which a follow-up campaign can be made.
FOLLOW_UP_FILTERS = {"not_answered", CallResult.State.FAILED, CallResult.State.UNKNOWN}


def _results_filters(request) -> dict:
    """The table's filter, search and sort (ResultsFilterForm: the sort keys are the
    selector's RESULT_SORTS), from the query string or an action's POST."""
    data = request.POST if request.method == "POST" else request.GET
    return ResultsFilterForm(data).filters()


def _state_chart(summary: selectors.ResultsSummary) -> list[dict]:
    """Segments of a 100-wide stacked bar: one per state with phones, in CHART_STATES order."""
    # Queued and sending together, under the name the progress counters use.
    labels = {**dict(CallResult.State.choices), "pending": CallResult.State.QUEUED.label}
    whole = summary.to_call
    segments, x = [], 0.0
    for state in CHART_STATES:
        count = summary.pending if state == "pending" else summary.counts[state]
        if not count or not whole:
            continue
        width = 100 * count / whole
        percent = summary.pending_percent if state == "pending" else summary.percent[state]
        segments.append(
            {
                "state": state,
                "label": labels[state],
                "count": count,
                "x": x,
                "width": width,
                "percent": percent,
            }
        )
        x += width
    return segments


def results_context(request, campaign: Campaign) -> dict:
    filters = _results_filters(request)
    summary = selectors.campaign_results_summary(campaign=campaign)
    results_page = page_of(request, selectors.campaign_results(campaign=campaign, **filters))
    with_waves = campaign.waves.exists()
    if with_waves:  # each phone's attempts in the follow-up waves, for this page only
        rows = list(results_page.object_list)
        attempts = selectors_waves.wave_attempts(
            campaign=campaign, phones=[row.phone for row in rows]
        )
        for row in rows:
            row.across = selectors_waves.across_waves(row.state, attempts.get(row.phone))
        results_page.object_list = rows
    return {
        "summary": summary,
        "chart": _state_chart(summary),
        "duration_end": (campaign.finished_at or timezone.now()) if campaign.started_at else None,
        "reconciliation": selectors.campaign_reconciliation(campaign=campaign, net=summary.net),
        "results_page": results_page,
        "with_waves": with_waves,
        "filter_choices": ResultsFilterForm().fields["state"].choices,
        "can_follow_up": filters["state_filter"] in FOLLOW_UP_FILTERS,
        "groups": ContactGroup.objects.order_by("name").only("pk", "name"),
        "live": campaign.is_live,
        **filters,
    }


@require_GET
@permission_required("campaigns.view_campaign", raise_exception=True)
def campaign_results(request, pk):
    """The summary and per-phone table of a campaign (htmx partial of its page)."""
    campaign = get_object_or_404(Campaign, pk=pk)
    if not request.htmx or not campaign.is_launched:
        query = request.GET.urlencode()
        return redirect(campaign.get_absolute_url() + (f"?{query}" if query else "") + "#results")
    context = {"campaign": campaign, **results_context(request, campaign)}
    return render(request, "campaigns/partials/_campaign_results.html", context)


def _filtered_results(request, campaign: Campaign):
    return selectors.campaign_results(campaign=campaign, **_results_filters(request))


def _wave_attempts(campaign: Campaign) -> dict | None:
    """For the exports of a campaign with follow-up waves: its phones' attempts in them."""
    if not campaign.waves.exists():
        return None
    return selectors_waves.wave_attempts(campaign=campaign)


def _export_name(campaign: Campaign, extension: str) -> str:
    stamp = timezone.localtime().strftime("%Y-%m-%d")
    return f"resultados-{campaign.pk}-{stamp}.{extension}"


@require_GET
@permission_required("campaigns.view_campaign", raise_exception=True)
def campaign_results_csv(request, pk):
    """The results of the table's filter and search as CSV that Excel opens in Spanish."""
    campaign = get_object_or_404(Campaign, pk=pk)
    rows = services.campaign_results_csv_rows(
        results=_filtered_results(request, campaign),
        language=request.LANGUAGE_CODE,
        waves=_wave_attempts(campaign),
    )
    response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_export_name(campaign, "csv")}"'
    return response


@require_GET
@permission_required("campaigns.view_campaign", raise_exception=True)
def campaign_results_xlsx(request, pk):
    """The results of the table's filter and search as an Excel workbook."""
    campaign = get_object_or_404(Campaign, pk=pk)
    workbook = services.campaign_results_xlsx(
        results=_filtered_results(request, campaign),
        language=request.LANGUAGE_CODE,
        waves=_wave_attempts(campaign),
    )
    return FileResponse(
        workbook,
        as_attachment=True,
        filename=_export_name(campaign, "xlsx"),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


@require_POST
@permission_required("campaigns.add_campaign", raise_exception=True)
def campaign_follow_up(request, pk):
    """A new draft with the same content for the phones of a state filter."""
    campaign = get_object_or_404(Campaign.objects.select_related("audio_code"), pk=pk)
    filters = _results_filters(request)
    if filters["state_filter"] not in FOLLOW_UP_FILTERS:
        messages.error(request, _("Choose which phones to call again: a state filter first."))
        return redirect(campaign)
    results = selectors.campaign_results(campaign=campaign, **filters)
    follow_up = services.campaign_follow_up(campaign=campaign, results=results, user=request.user)
    if follow_up is None:
        messages.info(request, _("No phone matches: no campaign was created."))
        return redirect(campaign)
    messages.success(
        request,
        _("Draft created from %(name)s. Check the preview, then launch it.")
        % {"name": campaign.name},
    )
    return redirect(follow_up)


@require_POST
@permission_required("campaigns.change_contact", raise_exception=True)
def campaign_results_action(request, pk):
    """Mark the selected phones do-not-call, or add them to a group."""
    campaign = get_object_or_404(Campaign, pk=pk)
    back = reverse("campaign_detail", args=[campaign.pk]) + "#results"
    form = ResultsActionForm(request.POST, campaign=campaign)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(back)
    results = form.cleaned_data["results"]
    if form.cleaned_data["action"] == "do_not_call":
        done = services.results_mark_do_not_call(
            campaign=campaign,
            results=results,
            user=request.user,
            block_at_onurix=form.cleaned_data["block_at_onurix"],
        )
        text = ngettext(
            "%(count)s phone marked do-not-call.",
            "%(count)s phones marked do-not-call.",
            done.marked,
        ) % {"count": done.marked}
        messages.success(request, with_calls_cancelled(text, done.calls_cancelled))
        if done.blocks_queued:
            messages.info(request, blocks_queued_text(done.blocks_queued))
    else:
        group = form.cleaned_data["group"]
        added = services.results_add_to_group(results=results, group=group)
        text = ngettext(
            "%(count)s phone added to %(group)s.", "%(count)s phones added to %(group)s.", added
        )
        messages.success(request, text % {"count": added, "group": group.name})
    return redirect(back)
