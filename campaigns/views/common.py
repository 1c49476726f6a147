from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils.translation import ngettext

PAGE_SIZE = 50


def page_of(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def render_page(request, template, partial, context):
    """Render the full page, or only its partial for an htmx request."""
    return render(request, partial if request.htmx else template, context)


def blocks_queued_text(count: int) -> str:
    """What a person reads after asking to block phones at Onurix."""
    return ngettext(
        "%(count)d phone will also be blocked at Onurix in a moment; its history shows the "
        "outcome. This cannot be undone from here.",
        "%(count)d phones will also be blocked at Onurix in a moment; their history shows "
        "the outcome. This cannot be undone from here.",
        count,
    ) % {"count": count}


def with_calls_cancelled(text: str, calls_cancelled: int) -> str:
    """`text`, followed by how many pending calls a do-not-call mark cancelled, if any."""
    if not calls_cancelled:
        return text
    cancelled = ngettext(
        "%(count)d pending call was cancelled.",
        "%(count)d pending calls were cancelled.",
        calls_cancelled,
    ) % {"count": calls_cancelled}
    return f"{text} {cancelled}"
