from django.core.paginator import Paginator
from django.shortcuts import render

PAGE_SIZE = 50


def page_of(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def render_page(request, template, partial, context):
    """Render the full page, or only its partial for an htmx request."""
    return render(request, partial if request.htmx else template, context)
