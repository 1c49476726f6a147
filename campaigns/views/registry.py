"""The national registry's list (RNE): administrators load it, commercial campaigns obey it."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from .. import services
from ..forms.registry import RegistryUploadForm


@require_http_methods(["GET", "POST"])
@permission_required("campaigns.add_registrylist", raise_exception=True)
def registry(request):
    form = RegistryUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.registry_upload(
                upload=form.cleaned_data["file"],
                list_date=form.cleaned_data["list_date"],
                user=request.user,
            )
        except ValidationError as error:
            form.add_error("list_date", error)
        else:
            messages.success(
                request,
                _(
                    "The list is being loaded: it replaces the current one once it has been "
                    "read completely. This page shows when."
                ),
            )
            return redirect("registry")
    current = services.registry_current()
    context = {
        "form": form,
        "current": current,
        "stale": services.registry_is_stale(current),
        "loads": services.registry_recent_loads(),
    }
    return render(request, "campaigns/registry.html", context)
