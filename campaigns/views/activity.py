"""The activity log, for administrators: who did what, when and from where."""

from functools import wraps

from django.core.exceptions import PermissionDenied
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from .. import selectors, services
from ..forms import ActivityFilterForm
from .common import page_of, render_page


def administrators_only(view):
    """Refuse (403) anyone but an administrator (a superuser)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_superuser:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def _filtered(request):
    form = ActivityFilterForm(request.GET or None, usernames=selectors.activity_usernames())
    return form, selectors.activity_entries(**form.filters())


@require_GET
@administrators_only
def activity(request):
    form, entries = _filtered(request)
    context = {"form": form, "page": page_of(request, entries)}
    return render_page(
        request, "campaigns/activity.html", "campaigns/partials/_activity_table.html", context
    )


@require_GET
@administrators_only
def activity_export(request):
    """The entries of the current filters as CSV, in the reader's language."""
    _form, entries = _filtered(request)
    rows = services.activity_csv_rows(entries=entries, language=request.LANGUAGE_CODE)
    response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y-%m-%d")
    response["Content-Disposition"] = f'attachment; filename="{_("activity")}-{stamp}.csv"'
    return response
