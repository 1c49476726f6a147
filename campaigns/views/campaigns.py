from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from .. import selectors, services
from ..calling_hours import calling_window
from ..forms import CampaignForm, TestCallForm
from ..models import CallResult, Campaign
from .common import page_of, render_page

# Phones left out that the preview lists one by one; the counts per reason cover the rest.
EXCLUDED_SHOWN = 200
TEST_CALLS_SHOWN = 20
# States in which the progress partial keeps polling.
LIVE_STATES = {Campaign.State.SENDING, Campaign.State.SCHEDULED}
# The big numbers of the progress partial, in the order shown.
PROGRESS_STATES = [
    CallResult.State.SENT,
    CallResult.State.ANSWERED,
    CallResult.State.FAILED,
    CallResult.State.UNKNOWN,
    CallResult.State.QUEUED,
    CallResult.State.CANCELLED,
    CallResult.State.EXCLUDED,
]


@require_GET
def campaign_list(request):
    search = request.GET.get("q", "").strip()
    page = page_of(request, selectors.campaign_list(search=search))
    # At most PAGE_SIZE rows: one progress query per launched campaign on the page.
    page.object_list = list(page.object_list)
    for campaign in page.object_list:
        if campaign.state != Campaign.State.DRAFT:
            campaign.progress = selectors.campaign_progress(campaign=campaign)
    context = {"page": page, "search": search}
    return render_page(
        request, "campaigns/campaign_list.html", "campaigns/partials/_campaign_table.html", context
    )


@require_http_methods(["GET", "POST"])
def campaign_create(request):
    form = CampaignForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        campaign = _save(request, form)
        if campaign is not None:
            messages.success(request, _("Draft saved. Check the preview, then launch it."))
            return redirect(campaign)
    return render(request, "campaigns/campaign_form.html", {"form": form})


@require_http_methods(["GET", "POST"])
def campaign_update(request, pk):
    campaign = get_object_or_404(Campaign, pk=pk)
    if campaign.state != Campaign.State.DRAFT:
        messages.info(request, _("Only a draft can be edited: this campaign was already launched."))
        return redirect(campaign)
    form = CampaignForm(request.POST or None, campaign=campaign)
    if request.method == "POST" and form.is_valid() and _save(request, form, campaign):
        messages.success(request, _("Changes saved."))
        return redirect(campaign)
    return render(request, "campaigns/campaign_form.html", {"form": form, "campaign": campaign})


def _save(request, form: CampaignForm, campaign: Campaign | None = None) -> Campaign | None:
    """Save through the service; a ValidationError it raises lands on the form."""
    try:
        return services.campaign_save(
            campaign=campaign, user=request.user, **form.campaign_fields()
        )
    except ValidationError as error:
        form.add_error(None, error)
        return None


@require_GET
def campaign_detail(request, pk):
    campaign = get_object_or_404(Campaign.objects.select_related("audio_code"), pk=pk)
    return render(request, "campaigns/campaign_detail.html", _detail_context(campaign))


def _detail_context(campaign: Campaign, test_call_form: TestCallForm | None = None) -> dict:
    context = {
        "campaign": campaign,
        "campaign_groups": campaign.groups.order_by("name"),
        "test_calls": campaign.test_calls.select_related("requested_by")[:TEST_CALLS_SHOWN],
        "test_call_form": test_call_form or TestCallForm(),
    }
    if campaign.state == Campaign.State.DRAFT:
        preview = services.campaign_preview(campaign=campaign)
        context["preview"] = preview
        context["excluded_shown"] = preview.excluded[:EXCLUDED_SHOWN]
        context["excluded_rows"] = [
            {"label": CallResult.ExclusionReason(reason).label, "count": count}
            for reason, count in preview.excluded_counts.items()
        ]
    else:
        context.update(_progress_context(campaign))
    return context


def _progress_context(campaign: Campaign) -> dict:
    progress = selectors.campaign_progress(campaign=campaign)
    wait_message = ""
    now = timezone.now()
    if campaign.state in LIVE_STATES:
        window = calling_window(
            start=campaign.calling_window_start, end=campaign.calling_window_end
        )
        if not window.is_open(now):
            wait_message = window.describe_wait(now)
    return {
        "progress": progress,
        "progress_rows": [
            {"state": state, "label": state.label, "count": progress["counts"].get(state, 0)}
            for state in PROGRESS_STATES
        ],
        "live": campaign.state in LIVE_STATES,
        "wait_message": wait_message,
    }


@require_GET
def campaign_progress(request, pk):
    campaign = get_object_or_404(Campaign, pk=pk)
    if campaign.state == Campaign.State.DRAFT:
        return redirect(campaign)
    context = {"campaign": campaign, "oob": bool(request.htmx), **_progress_context(campaign)}
    return render(request, "campaigns/partials/_campaign_progress.html", context)


@require_POST
def campaign_launch(request, pk):
    campaign = get_object_or_404(Campaign, pk=pk)
    try:
        launched = services.campaign_launch(campaign=campaign, user=request.user)
    except ValidationError as error:
        for text in error.messages:
            messages.error(request, text)
        return redirect(campaign)
    if not launched:
        messages.info(request, _("This campaign was already launched."))
    elif campaign.state == Campaign.State.SCHEDULED:
        messages.success(request, _("Campaign launched: it will start at the time you chose."))
    else:
        messages.success(request, _("Campaign launched: the calls are going out."))
    return redirect(campaign)


@require_POST
def campaign_test_call(request, pk):
    campaign = get_object_or_404(Campaign.objects.select_related("audio_code"), pk=pk)
    form = TestCallForm(request.POST)
    if not form.is_valid():
        context = _detail_context(campaign, test_call_form=form)
        return render(request, "campaigns/campaign_detail.html", context)
    test_call = services.campaign_test_call(
        campaign=campaign, phone=form.cleaned_data["phone"], user=request.user
    )
    if test_call.state in {CallResult.State.FAILED, CallResult.State.UNKNOWN}:
        messages.error(
            request,
            _("The test call to %(phone)s did not go out: %(error)s")
            % {
                "phone": test_call.phone,
                "error": test_call.error_message or test_call.get_state_display(),
            },
        )
    else:
        messages.success(
            request,
            _("Test call sent to %(phone)s: your phone should ring.") % {"phone": test_call.phone},
        )
    return redirect(campaign.get_absolute_url() + "#test-calls")


@require_POST
def campaign_pause(request, pk):
    campaign = get_object_or_404(Campaign, pk=pk)
    if services.campaign_pause(campaign=campaign, user=request.user):
        messages.success(
            request, _("Campaign paused. Calls already sent go on; no new ones start.")
        )
    else:
        messages.info(request, _("This campaign was not sending, so there was nothing to pause."))
    return redirect(campaign)


@require_POST
def campaign_resume(request, pk):
    campaign = get_object_or_404(Campaign, pk=pk)
    if services.campaign_resume(campaign=campaign, user=request.user):
        messages.success(request, _("Campaign resumed."))
    else:
        messages.info(request, _("This campaign was not paused, so there was nothing to resume."))
    return redirect(campaign)


@require_POST
def campaign_cancel(request, pk):
    campaign = get_object_or_404(Campaign, pk=pk)
    before = campaign.state
    count = services.campaign_cancel(campaign=campaign, user=request.user)
    campaign.refresh_from_db()
    if campaign.state == Campaign.State.CANCELLED and before != Campaign.State.CANCELLED:
        text = ngettext(
            "Campaign cancelled: %(count)s phone not yet called was cancelled.",
            "Campaign cancelled: %(count)s phones not yet called were cancelled.",
            count,
        )
        messages.success(request, text % {"count": count})
    else:
        messages.info(request, _("This campaign cannot be cancelled any more."))
    return redirect(campaign)


@require_http_methods(["GET", "POST"])
def campaign_resend_unknown(request, pk):
    campaign = get_object_or_404(Campaign, pk=pk)
    if request.method == "POST":
        count = services.campaign_resend_unknown(campaign=campaign, user=request.user)
        if not count:
            messages.info(request, _("No phone has an unknown outcome: nothing was sent again."))
            return redirect(campaign)
        text = ngettext(
            "%(count)s phone with an unknown outcome was queued again.",
            "%(count)s phones with an unknown outcome were queued again.",
            count,
        )
        messages.success(request, text % {"count": count})
        return redirect(campaign)
    unknown, credits = selectors.campaign_unknown_estimate(campaign=campaign)
    context = {"campaign": campaign, "unknown": unknown, "credits": credits}
    return render(request, "campaigns/campaign_resend_confirm.html", context)
