from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_cache_control
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from .. import selectors, services
from ..audio_files import AUDIO_CONTENT_TYPES, detect_audio_type, read_head
from ..forms import AudioCodeForm
from ..models import AudioCode
from .common import page_of, render_page

# Campaigns named on the delete page; the rest are counted.
CAMPAIGNS_SHOWN = 20


@require_GET
@permission_required("campaigns.view_audiocode", raise_exception=True)
def audio_code_list(request):
    search = request.GET.get("q", "").strip()
    # An aggregate drops Meta.ordering: order again so pages stay stable.
    codes = (
        selectors.audio_code_list(search=search)
        .annotate(campaign_count=Count("campaigns"))
        .order_by("name", "id")
    )
    context = {"page": page_of(request, codes), "search": search}
    return render_page(
        request, "campaigns/audio_code_list.html", "campaigns/partials/_audio_table.html", context
    )


def _save(form, audio_code=None) -> AudioCode | None:
    """Save through the service; a ValidationError it raises lands next to its field."""
    data = form.cleaned_data
    try:
        return services.audio_code_save(
            audio_code=audio_code,
            code=data["code"],
            name=data["name"],
            notes=data["notes"],
            upload=data["audio_file"],
            remove_file=data["remove_file"],
        )
    except ValidationError as error:
        form.add_error(None, error)
        return None


@require_http_methods(["GET", "POST"])
@permission_required("campaigns.add_audiocode", raise_exception=True)
def audio_code_create(request):
    is_post = request.method == "POST"
    form = AudioCodeForm(request.POST if is_post else None, request.FILES if is_post else None)
    if is_post and form.is_valid() and (audio := _save(form)):
        messages.success(request, _("Audio %(name)s added.") % {"name": audio.name})
        return redirect("audio_code_list")
    return render(request, "campaigns/audio_code_form.html", {"form": form})


@require_http_methods(["GET", "POST"])
@permission_required("campaigns.change_audiocode", raise_exception=True)
def audio_code_update(request, pk):
    audio = get_object_or_404(AudioCode, pk=pk)
    is_post = request.method == "POST"
    form = AudioCodeForm(
        request.POST if is_post else None, request.FILES if is_post else None, instance=audio
    )
    if is_post and form.is_valid() and _save(form, audio):
        messages.success(request, _("Changes saved."))
        return redirect("audio_code_list")
    return render(request, "campaigns/audio_code_form.html", {"form": form, "audio": audio})


def _confirm_delete(request, audio, *, status=200):
    campaigns = audio.campaigns.order_by("-created_at", "-id")
    context = {
        "audio": audio,
        "campaigns": campaigns[:CAMPAIGNS_SHOWN],
        "campaign_count": campaigns.count(),
    }
    return render(request, "campaigns/audio_code_confirm_delete.html", context, status=status)


@require_http_methods(["GET", "POST"])
@permission_required("campaigns.delete_audiocode", raise_exception=True)
def audio_code_delete(request, pk):
    audio = get_object_or_404(AudioCode, pk=pk)
    if request.method == "GET":
        return _confirm_delete(request, audio)
    try:
        services.audio_code_delete(audio_code=audio)
    except ValidationError:
        # Someone chose this audio for a campaign after the page was shown, or the
        # request did not come from the page: answer with the same refusal.
        return _confirm_delete(request, audio, status=409)
    messages.success(request, _("Audio %(name)s deleted.") % {"name": audio.name})
    return redirect("audio_code_list")


@require_GET
@permission_required("campaigns.view_audiocode", raise_exception=True)
def audio_code_file(request, pk):
    """The stored file, for the page's player: the only way to read an audio upload.

    Served inline under a slug of the audio's name, with the audio type read from the
    file's first bytes, so an upload is never served as HTML, whatever its name.
    """
    audio = get_object_or_404(AudioCode, pk=pk)
    if not audio.audio_file:
        raise Http404
    try:
        file = audio.audio_file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    # Read the type again: files can also arrive through the admin, unchecked.
    extension = detect_audio_type(read_head(file))
    if extension is None:
        file.close()
        raise Http404
    response = FileResponse(
        file,
        content_type=AUDIO_CONTENT_TYPES[extension],
        filename=f"{slugify(audio.name) or 'audio'}.{extension}",
    )
    # Set here as well as by SecurityMiddleware: this response must never be sniffed.
    response["X-Content-Type-Options"] = "nosniff"
    patch_cache_control(response, private=True)
    return response
