"""The reports page ("Informes"), its exports, the billing reconciliation file, and the
choice about dead numbers on a draft's preview."""

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import FileResponse, Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from .. import selectors_reports
from ..forms import ReportFilterForm
from ..models import Campaign
from ..services import reports as report_services

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _bars(rows, value) -> list[dict]:
    """Columns of an SVG chart 100 x 100: each row's value scaled to the largest (None
    draws no column); x and width place the column in its slot."""
    values = [value(row) for row in rows]
    top = max((v for v in values if v is not None), default=0) or 1
    slot = 100 / max(len(rows), 1)
    bars = []
    for index, (row, v) in enumerate(zip(rows, values, strict=True)):
        height = 0.0 if v is None else float(100 * Decimal(str(v)) / Decimal(str(top)))
        bars.append(
            {
                "row": row,
                "value": v,
                "x": index * slot + slot * 0.1,
                "width": slot * 0.8,
                "y": 100 - height,
                "height": height,
            }
        )
    return bars


def _sort_heads(sort: str, unsorted_query: str) -> list[dict]:
    """The sortable headers of the campaigns and groups tables: a click sorts by the
    column, descending first (biggest first), a second click ascending."""
    labels = {
        "name": _("Name"),
        "calls": _("Calls"),
        "answer_rate": _("Answer rate"),
        "net": _("Net credits"),
        "cost_per_answered": _("Credits per answered call"),
    }
    heads = []
    for key in selectors_reports.REPORT_SORTS:
        direction = {f"-{key}": "descending", key: "ascending"}.get(sort, "")
        following = key if direction == "descending" else f"-{key}"
        prefix = f"?{unsorted_query}&" if unsorted_query else "?"
        heads.append(
            {
                "label": labels[key],
                "href": f"{prefix}sort={following}",
                "direction": direction,
                "name_only": key == "name",
            }
        )
    return heads


def _report(request):
    """The report of the query string's filters, or None with the form's errors."""
    form = ReportFilterForm(request.GET)
    if not form.is_valid():
        return form, None
    return form, selectors_reports.campaigns_report(**form.report_filters())


@require_GET
@permission_required("campaigns.view_campaign", raise_exception=True)
def reports(request):
    form, report = _report(request)
    context = {"form": form, "report": report, "query": request.GET.urlencode()}
    if report is not None:
        query = request.GET.copy()
        query.pop("sort", None)
        context.update(
            {
                "hour_bars": _bars(report.hours, lambda row: row.figures.answer_rate),
                "weekday_bars": _bars(report.weekdays, lambda row: row.figures.answer_rate),
                "trend_bars": _bars(report.days, lambda row: row.figures.cost_per_answered),
                "sort_heads": _sort_heads(form.cleaned_data.get("sort") or "", query.urlencode()),
                "sections": report_services.REPORT_SECTIONS,
            }
        )
    return render(request, "campaigns/reports.html", context)


def _file_name(form: ReportFilterForm, section: str, extension: str) -> str:
    start, end = form.cleaned_data["from"], form.cleaned_data["to"]
    return f"informe-{section}-{start:%Y-%m-%d}-{end:%Y-%m-%d}.{extension}"


def _export(request, section: str, extension: str):
    form = ReportFilterForm(request.GET)
    if not form.is_valid():
        messages.error(request, _("Correct the dates of the report, then download it again."))
        return _back_to_report(request)
    if section == report_services.RECONCILIATION:
        table = report_services.reconciliation_table(
            start=form.cleaned_data["from"], end=form.cleaned_data["to"]
        )
    elif section in report_services.REPORT_SECTIONS:
        report = selectors_reports.campaigns_report(**form.report_filters())
        table = report_services.report_table(report=report, section=section)
    else:
        raise Http404(_("There is no such table in the reports."))
    name = _file_name(form, section, extension)
    if extension == "csv":
        lines = report_services.table_csv_lines(table=table, language=request.LANGUAGE_CODE)
        response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    workbook = report_services.table_xlsx(table=table)
    return FileResponse(workbook, as_attachment=True, filename=name, content_type=XLSX)


def _back_to_report(request):
    query = request.GET.urlencode()
    return redirect(reverse("reports") + (f"?{query}" if query else ""))


@require_GET
@permission_required("campaigns.view_campaign", raise_exception=True)
def reports_export_csv(request):
    """One table of the report (`?table=`, a REPORT_SECTIONS key; the campaigns when left
    out) as CSV that Excel opens in Spanish."""
    return _export(request, request.GET.get("table", "campaigns"), "csv")


@require_GET
@permission_required("campaigns.view_campaign", raise_exception=True)
def reports_export_xlsx(request):
    """One table of the report (`?table=`) as an Excel workbook."""
    return _export(request, request.GET.get("table", "campaigns"), "xlsx")


@require_GET
@permission_required("campaigns.view_campaign", raise_exception=True)
def reports_reconciliation_csv(request):
    """The billing discrepancies of the range, for Onurix support."""
    return _export(request, report_services.RECONCILIATION, "csv")


@require_GET
@permission_required("campaigns.view_campaign", raise_exception=True)
def reports_reconciliation_xlsx(request):
    return _export(request, report_services.RECONCILIATION, "xlsx")


@require_POST
@permission_required("campaigns.change_campaign", raise_exception=True)
def campaign_dead_numbers(request, pk):
    """Accept or decline the preview's proposal to leave out dead numbers."""
    campaign = get_object_or_404(Campaign, pk=pk)
    exclude = request.POST.get("exclude") == "1"
    if not report_services.campaign_choose_dead_numbers(campaign=campaign, exclude=exclude):
        messages.info(request, _("Only a draft can change: this campaign was already launched."))
    elif exclude:
        messages.success(request, _("Dead numbers will be left out of this campaign."))
    else:
        messages.success(request, _("Dead numbers will be called like the others."))
    return redirect(campaign.get_absolute_url() + "#dead-numbers")
