from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from .. import services
from ..forms import (
    ImportMappingForm,
    ImportUploadForm,
)
from ..models import ContactImport


@require_http_methods(["GET", "POST"])
@permission_required("campaigns.add_contact", raise_exception=True)
def contact_import(request):
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = services.contact_import_start(upload=form.cleaned_data["file"], user=request.user)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return redirect(job)
    context = {"form": form, "recent": ContactImport.objects.select_related("group")[:5]}
    return render(request, "campaigns/contact_import.html", context)


@require_http_methods(["GET", "POST"])
@permission_required("campaigns.add_contact", raise_exception=True)
def contact_import_detail(request, pk):
    job = get_object_or_404(ContactImport, pk=pk)
    editable = job.state in {ContactImport.State.UPLOADED, ContactImport.State.PREVIEWED}
    form = ImportMappingForm(
        request.POST if request.method == "POST" and editable else None,
        headers=job.headers,
        mapping=job.mapping,
        initial={"group": job.group, "new_group": job.new_group_name, "overwrite": job.overwrite},
    )
    if request.method == "POST" and "confirm" in request.POST:
        if not services.contact_import_confirm(job=job):
            messages.info(request, _("This import was already confirmed."))
        return redirect(job)
    if request.method == "POST" and "resume" in request.POST:
        if not services.contact_import_resume(job=job):
            messages.info(request, _("This import is not interrupted."))
        return redirect(job)
    if request.method == "POST" and editable and form.is_valid():
        services.contact_import_preview(
            job=job,
            mapping=form.cleaned_data["mapping"],
            group=form.cleaned_data["group"],
            new_group_name=form.cleaned_data["new_group"].strip(),
            overwrite=form.cleaned_data["overwrite"],
        )
        return redirect(job)
    context = {
        "job": job,
        "form": form,
        "editable": editable,
        "sample": services.contact_import_sample(job=job) if editable else [],
    }
    return render(request, "campaigns/contact_import_detail.html", context)


@require_GET
@permission_required("campaigns.add_contact", raise_exception=True)
def contact_import_progress(request, pk):
    job = get_object_or_404(ContactImport, pk=pk)
    response = render(request, "campaigns/partials/_import_progress.html", {"job": job})
    if request.htmx and job.state in {ContactImport.State.UPLOADED, ContactImport.State.PREVIEWED}:
        # The preview finished (or failed): the page shows its counts, or the columns again.
        response["HX-Redirect"] = job.get_absolute_url()
    return response


@require_GET
@permission_required("campaigns.add_contact", raise_exception=True)
def contact_import_report(request, pk):
    job = get_object_or_404(ContactImport, pk=pk)
    response = StreamingHttpResponse(
        services.contact_import_report_rows(job=job), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-skipped.csv"'
    return response
