from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from .. import selectors, selectors_waves, services
from ..calling_hours import describe_start
from ..forms import CampaignForm, ResendForm, TestCallForm, WavesForm
from ..models import CallResult, Campaign
from .common import page_of, render_page
from .results import results_context

# Phones left out that the preview lists one by one; the counts per reason cover the rest.
EXCLUDED_SHOWN = 200
TEST_CALLS_SHOWN = 20
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
@permission_required("campaigns.view_campaign", raise_exception=True)
def campaign_list(request):
    search = request.GET.get("q", "").strip()
    page = page_of(request, selectors.campaign_list(search=search))
    page.object_list = selectors.campaigns_with_progress(campaigns=list(page.object_list))
    context = {"page": page, "search": search}
    return render_page(
        request, "campaigns/campaign_list.html", "campaigns/partials/_campaign_table.html", context
    )


@require_http_methods(["GET", "POST"])
@permission_required("campaigns.add_campaign", raise_exception=True)
def campaign_create(request):
    # ?template=<id>: the form starts with a template's content (services/copies.py).
    templates = selectors.campaign_templates()
    chosen = request.GET.get("template", "")
    template = templates.filter(pk=chosen).first() if chosen.isdigit() else None
    form = CampaignForm(request.POST or None, campaign=template)
    waves_form = WavesForm(request.POST or None, campaign=template)
    if request.method == "POST" and all([form.is_valid(), waves_form.is_valid()]):
        campaign = _save(request, form, waves_form=waves_form)
        if campaign is not None:
            messages.success(request, _("Draft saved. Check the preview, then launch it."))
            _warn_if_the_start_time_is_closed(request, campaign)
            return redirect(campaign)
    context = {"form": form, "waves_form": waves_form, "templates": templates, "template": template}
    return render(request, "campaigns/campaign_form.html", context)


@require_http_methods(["GET", "POST"])
@permission_required("campaigns.change_campaign", raise_exception=True)
def campaign_update(request, pk):
    campaign = get_object_or_404(Campaign, pk=pk)
    if request.method == "GET" and not campaign.can_edit:
        messages.info(request, _("Only a draft can be edited: this campaign was already launched."))
        return redirect(campaign)
    # A POST is validated and saved even if the campaign left draft since the form was
    # opened: the service refuses it, and the form comes back with what was typed.
    form = CampaignForm(request.POST or None, campaign=campaign)
    waves_form = WavesForm(request.POST or None, campaign=campaign)
    valid = request.method == "POST" and all([form.is_valid(), waves_form.is_valid()])
    if valid and _save(request, form, campaign, waves_form=waves_form):
        messages.success(request, _("Changes saved."))
        _warn_if_the_start_time_is_closed(request, campaign)
        return redirect(campaign)
    context = {"form": form, "waves_form": waves_form, "campaign": campaign}
    return render(request, "campaigns/campaign_form.html", context)


def _warn_if_the_start_time_is_closed(request, campaign: Campaign) -> None:
    """The chosen start time falls outside the calling window: say when calls will start."""
    if campaign.scheduled_at is None:
        return
    now = timezone.now()
    starts_at = services.campaign_starts_at(campaign=campaign, now=now)
    if starts_at is not None and starts_at > campaign.scheduled_at:
        messages.warning(
            request,
            _("The start time you chose is outside the calling hours.")
            + " "
            + describe_start(starts_at, now),
        )


def _save(
    request, form: CampaignForm, campaign: Campaign | None = None, *, waves_form: WavesForm
) -> Campaign | None:
    """Save through the services (the draft, then its waves); a ValidationError they
    raise lands on the form."""
    try:
        saved = services.campaign_save(
            campaign=campaign, user=request.user, **form.campaign_fields()
        )
        services.campaign_waves_save(campaign=saved, waves=waves_form.waves())
        return saved
    except ValidationError as error:
        form.add_error(None, error)
        return None


@require_GET
@permission_required("campaigns.view_campaign", raise_exception=True)
def campaign_detail(request, pk):
    campaign = get_object_or_404(
        Campaign.objects.select_related("audio_code", "wave__campaign"), pk=pk
    )
    context = _detail_context_with_results(request, campaign)
    refused_phone = request.session.pop(_test_call_key(campaign), None)
    if refused_phone is not None:
        context["test_call_form"] = TestCallForm({"phone": refused_phone})
    return render(request, "campaigns/campaign_detail.html", context)


def _test_call_key(campaign: Campaign) -> str:
    return f"test-call-phone:{campaign.pk}"


def _detail_context(campaign: Campaign) -> dict:
    wave_rows = selectors_waves.campaign_wave_rows(campaign=campaign)
    context = {
        "campaign": campaign,
        "campaign_groups": campaign.groups.order_by("name"),
        "test_calls": campaign.test_calls.select_related("requested_by")[:TEST_CALLS_SHOWN],
        "test_call_form": TestCallForm(),
        # Its follow-up waves; or, for a wave's own campaign, the wave (services/waves.py).
        "wave_rows": wave_rows,
        "wave_figures": selectors_waves.campaign_wave_figures(campaign=campaign, rows=wave_rows),
        "wave_of": campaign.wave,
    }
    if campaign.can_launch:
        preview = services.campaign_preview(campaign=campaign)
        context["preview"] = preview
        context["waves_estimate"] = selectors_waves.campaign_waves_estimate(
            campaign=campaign, phones=preview.phones
        )
        # For the plural of "it costs about N credits" (a price may be 1.5).
        context["test_call_credits_count"] = max(1, round(preview.credits_per_call))
        context["excluded_shown"] = [
            {
                "phone": item.phone,
                "contact_id": item.contact_id,
                "name": preview.excluded_names.get(item.phone, ""),
                "reason_label": item.reason_label,
            }
            for item in preview.excluded[:EXCLUDED_SHOWN]
        ]
        context["excluded_rows"] = [
            {"label": preview.reason_label(reason), "count": count}
            for reason, count in preview.excluded_counts.items()
        ]
    else:
        context.update(_progress_context(campaign))
    return context


def _detail_context_with_results(request, campaign: Campaign) -> dict:
    context = _detail_context(campaign)
    if campaign.is_launched:
        context.update(results_context(request, campaign))
    return context


def _progress_context(campaign: Campaign) -> dict:
    progress = selectors.campaign_progress(campaign=campaign)
    wait_message = ""
    now = timezone.now()
    start_message = ""
    if campaign.state == Campaign.State.SCHEDULED:
        starts_at = services.campaign_starts_at(campaign=campaign, now=now)
        start_message = describe_start(starts_at, now) if starts_at else ""
    elif campaign.is_live:
        window = services.campaign_window(campaign)
        if not window.is_open(now):
            wait_message = window.describe_wait(now)
    return {
        "progress": progress,
        "progress_rows": [
            {"state": state, "label": state.label, "count": progress.counts.get(state, 0)}
            for state in PROGRESS_STATES
        ],
        "live": campaign.is_live,
        "wait_message": wait_message,
        "start_message": start_message,
        # Only where it matters: something should be moving.
        "worker_missing": (campaign.is_live or campaign.awaiting_results)
        and not services.worker_health().alive,
    }


@require_GET
@permission_required("campaigns.view_campaign", raise_exception=True)
def campaign_progress(request, pk):
    campaign = get_object_or_404(Campaign, pk=pk)
    if not campaign.is_launched:
        return redirect(campaign)
    context = {"campaign": campaign, "oob": bool(request.htmx), **_progress_context(campaign)}
    return render(request, "campaigns/partials/_campaign_progress.html", context)


@require_POST
@permission_required("campaigns.launch_campaign", raise_exception=True)
def campaign_launch(request, pk):
    campaign = get_object_or_404(Campaign, pk=pk)
    try:
        launched = services.campaign_launch(
            campaign=campaign,
            user=request.user,
            balance_unknown_ok=request.POST.get("balance_unknown_ok") == "1",
        )
    except ValidationError as error:
        for text in error.messages:
            messages.error(request, text)
        return redirect(campaign)
    now = timezone.now()
    starts_at = services.campaign_starts_at(campaign=campaign, now=now)
    if not launched:
        messages.info(request, _("This campaign was already launched."))
    elif starts_at is not None and starts_at > now:
        messages.success(request, _("Campaign launched.") + " " + describe_start(starts_at, now))
    else:
        messages.success(request, _("Campaign launched: the calls are going out."))
    return redirect(campaign)


@require_POST
@permission_required("campaigns.launch_campaign", raise_exception=True)
def campaign_test_call(request, pk):
    campaign = get_object_or_404(Campaign.objects.select_related("audio_code"), pk=pk)
    form = TestCallForm(request.POST)
    if not form.is_valid():
        # Redirect after the POST (reloading never posts again, a language switch never
        # lands on this URL): the page shows the phone and its error next to the field.
        request.session[_test_call_key(campaign)] = form.data.get("phone", "")
        return redirect(campaign.get_absolute_url() + "#test-calls")
    try:
        test_call = services.campaign_test_call(
            campaign=campaign, phone=form.cleaned_data["phone"], user=request.user
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(campaign)
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
@permission_required("campaigns.change_campaign", raise_exception=True)
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
@permission_required("campaigns.launch_campaign", raise_exception=True)
def campaign_resume(request, pk):
    campaign = get_object_or_404(Campaign, pk=pk)
    if services.campaign_resume(campaign=campaign, user=request.user):
        messages.success(request, _("Campaign resumed."))
    else:
        messages.info(request, _("This campaign was not paused, so there was nothing to resume."))
    return redirect(campaign)


@require_POST
@permission_required("campaigns.change_campaign", raise_exception=True)
def campaign_cancel(request, pk):
    campaign = get_object_or_404(Campaign, pk=pk)
    count = services.campaign_cancel(campaign=campaign, user=request.user)
    if count is not None:
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
@permission_required("campaigns.launch_campaign", raise_exception=True)
def campaign_resend_unknown(request, pk):
    campaign = get_object_or_404(Campaign, pk=pk)
    if not campaign.can_resend:
        messages.error(
            request,
            _("Unknown phones cannot be sent again: this campaign is %(state)s.")
            % {"state": campaign.get_state_display().lower()},
        )
        return redirect(campaign)
    form = ResendForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            count = services.campaign_resend_unknown(
                campaign=campaign, user=request.user, expected=form.cleaned_data["expected"]
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            if not count:
                messages.info(request, _("No phone has an unknown outcome: nothing was sent."))
            else:
                messages.success(request, _resend_message(campaign, count))
            return redirect(campaign)
    estimate = selectors.campaign_unknown_estimate(campaign=campaign)
    context = {"campaign": campaign, "estimate": estimate, "form": form}
    return render(request, "campaigns/campaign_resend_confirm.html", context)


def _resend_message(campaign: Campaign, count: int) -> str:
    if campaign.state == Campaign.State.PAUSED:
        text = ngettext(
            "%(count)s phone with an unknown outcome was queued again. The campaign is "
            "still paused: it is called when you resume it.",
            "%(count)s phones with an unknown outcome were queued again. The campaign is "
            "still paused: they are called when you resume it.",
            count,
        )
    else:
        text = ngettext(
            "%(count)s phone with an unknown outcome was queued again.",
            "%(count)s phones with an unknown outcome were queued again.",
            count,
        )
    return text % {"count": count}


@require_POST
@permission_required("campaigns.change_campaign", raise_exception=True)
def campaign_refresh(request, pk):
    """Ask the worker to read the call states from Onurix now, instead of at the next poll."""
    campaign = get_object_or_404(Campaign, pk=pk)
    outcome = services.campaign_refresh_states(campaign=campaign)
    if outcome == "nothing":
        messages.info(request, _("Every phone already has a final state: nothing to refresh."))
    else:
        messages.success(
            request,
            _("The states are being read from Onurix: this page shows them in a moment."),
        )
    return redirect(campaign)
