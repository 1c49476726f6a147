from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from .. import selectors, services
from ..forms import (
    ContactBulkForm,
    ContactForm,
)
from ..models import Contact, ContactGroup
from .common import blocks_queued_text, page_of, render_page, with_calls_cancelled


def _contact_filters(request) -> dict:
    group = request.GET.get("group", "")
    do_not_call = {"yes": True, "no": False}.get(request.GET.get("dnc", ""))
    return {
        "search": request.GET.get("q", "").strip(),
        "group_id": int(group) if group.isdigit() else None,
        "do_not_call": do_not_call,
        "dead": request.GET.get("dead") == "yes",
    }


@require_GET
@permission_required("campaigns.view_contact", raise_exception=True)
def contact_list(request):
    filters = _contact_filters(request)
    context = {
        "page": page_of(request, selectors.contact_list(**filters)),
        **filters,
        "dnc": request.GET.get("dnc", ""),
        "groups": ContactGroup.objects.order_by("name"),
        "bulk_form": ContactBulkForm(),
    }
    return render_page(
        request, "campaigns/contact_list.html", "campaigns/partials/_contact_table.html", context
    )


@require_http_methods(["GET", "POST"])
@permission_required("campaigns.add_contact", raise_exception=True)
def contact_create(request):
    form = ContactForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        saved = services.contact_save(user=request.user, **_contact_fields(form))
        text = _("Contact %(name)s added.") % {"name": saved.contact}
        messages.success(request, with_calls_cancelled(text, saved.calls_cancelled))
        if saved.blocks_queued:
            messages.info(request, blocks_queued_text(saved.blocks_queued))
        return redirect(saved.contact)
    return render(request, "campaigns/contact_form.html", {"form": form})


@require_http_methods(["GET", "POST"])
@permission_required("campaigns.change_contact", raise_exception=True)
def contact_update(request, pk):
    contact = get_object_or_404(Contact, pk=pk)
    form = ContactForm(
        request.POST or None,
        instance=contact,
        can_clear_do_not_call=request.user.has_perm("campaigns.launch_campaign"),
    )
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.contact_save(
                contact=contact, user=request.user, **_contact_fields(form)
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            text = with_calls_cancelled(_("Changes saved."), saved.calls_cancelled)
            messages.success(request, text)
            if saved.blocks_queued:
                messages.info(request, blocks_queued_text(saved.blocks_queued))
            return redirect(contact)
    return render(request, "campaigns/contact_form.html", {"form": form, "contact": contact})


def _contact_fields(form: ContactForm) -> dict:
    data = form.cleaned_data
    return {
        "phone": data["phone"],
        "first_name": data["first_name"],
        "last_name": data["last_name"],
        "email": data["email"],
        "custom_fields": data["custom_fields_text"],
        "do_not_call": data["do_not_call"],
        "do_not_call_reason": data["do_not_call_reason"],
        "clear_reason": data.get("clear_reason", ""),
        "groups": data["groups"],
        "block_at_onurix": data["block_at_onurix"],
    }


@require_GET
@permission_required("campaigns.view_contact", raise_exception=True)
def contact_detail(request, pk):
    contact = get_object_or_404(Contact, pk=pk)
    context = {
        "contact": contact,
        "contact_groups": contact.groups.order_by("name"),
        "calls": selectors.contact_call_history(contact=contact)[:100],
        "do_not_call_changes": selectors.contact_do_not_call_history(contact=contact),
    }
    return render(request, "campaigns/contact_detail.html", context)


@require_http_methods(["GET", "POST"])
@permission_required("campaigns.delete_contact", raise_exception=True)
def contact_delete(request, pk):
    contact = get_object_or_404(Contact, pk=pk)
    if request.method == "POST":
        services.contacts_delete(contacts=Contact.objects.filter(pk=contact.pk))
        messages.success(request, _("Contact %(name)s deleted.") % {"name": contact})
        return redirect("contact_list")
    return render(request, "campaigns/contact_confirm_delete.html", {"contact": contact})


BULK_MESSAGES = {
    "add_to_group": lambda n: ngettext(
        "%(count)d contact added to %(group)s.", "%(count)d contacts added to %(group)s.", n
    ),
    "remove_from_group": lambda n: ngettext(
        "%(count)d contact removed from %(group)s.",
        "%(count)d contacts removed from %(group)s.",
        n,
    ),
    "mark_do_not_call": lambda n: ngettext(
        "%(count)d contact marked do-not-call.", "%(count)d contacts marked do-not-call.", n
    ),
    "delete": lambda n: ngettext("%(count)d contact deleted.", "%(count)d contacts deleted.", n),
}


@require_POST
@permission_required("campaigns.change_contact", raise_exception=True)
def contact_bulk(request):
    form = ContactBulkForm(request.POST)
    back = request.POST.get("next") or reverse("contact_list")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse("contact_list")
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(back)
    action = form.cleaned_data["action"]
    contacts = form.cleaned_data["contacts"]
    group = form.cleaned_data["group"]
    if action == "delete" and not request.user.has_perm("campaigns.delete_contact"):
        raise PermissionDenied
    if action == "delete" and not form.cleaned_data["confirmed"]:
        return render(
            request,
            "campaigns/contact_bulk_confirm.html",
            {"contacts": contacts, "count": len(contacts), "next": back},
        )
    done = services.contacts_bulk_apply(
        action=action,
        contact_ids=[contact.pk for contact in contacts],
        group=group,
        user=request.user,
        block_at_onurix=form.cleaned_data["block_at_onurix"],
    )
    text = BULK_MESSAGES[action](done.count) % {
        "count": done.count,
        "group": group.name if group else "",
    }
    messages.success(request, with_calls_cancelled(text, done.calls_cancelled))
    if done.blocks_queued:
        messages.info(request, blocks_queued_text(done.blocks_queued))
    return redirect(back)


@require_GET
@permission_required("campaigns.view_contact", raise_exception=True)
def contact_export(request):
    """The contacts of the current search as CSV that Excel opens in Spanish."""
    filters = _contact_filters(request)
    rows = services.contacts_export_rows(contacts=selectors.contact_list(**filters))
    response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y-%m-%d")
    response["Content-Disposition"] = f'attachment; filename="contactos-{stamp}.csv"'
    return response
