from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from .. import selectors, services
from ..forms import (
    ContactBulkForm,
    GroupForm,
    PastePhonesForm,
)
from ..models import ContactGroup
from .common import page_of, render_page


@require_GET
@permission_required("campaigns.view_contactgroup", raise_exception=True)
def group_list(request):
    search = request.GET.get("q", "").strip()
    context = {"page": page_of(request, selectors.group_list(search=search)), "search": search}
    return render_page(
        request, "campaigns/group_list.html", "campaigns/partials/_group_table.html", context
    )


@require_http_methods(["GET", "POST"])
@permission_required("campaigns.add_contactgroup", raise_exception=True)
def group_create(request):
    form = GroupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        group = services.group_save(**form.cleaned_data)
        messages.success(request, _("Group %(name)s created.") % {"name": group})
        return redirect(group)
    return render(request, "campaigns/group_form.html", {"form": form})


@require_http_methods(["GET", "POST"])
@permission_required("campaigns.change_contactgroup", raise_exception=True)
def group_update(request, pk):
    group = get_object_or_404(ContactGroup, pk=pk)
    form = GroupForm(request.POST or None, instance=group)
    if request.method == "POST" and form.is_valid():
        services.group_save(group=group, **form.cleaned_data)
        messages.success(request, _("Changes saved."))
        return redirect(group)
    return render(request, "campaigns/group_form.html", {"form": form, "group": group})


@require_http_methods(["GET", "POST"])
@permission_required("campaigns.delete_contactgroup", raise_exception=True)
def group_delete(request, pk):
    group = get_object_or_404(ContactGroup, pk=pk)
    if request.method == "POST":
        services.group_delete(group=group)
        messages.success(request, _("Group %(name)s deleted. Its contacts stay.") % {"name": group})
        return redirect("group_list")
    context = {"group": group, "member_count": group.contacts.count()}
    return render(request, "campaigns/group_confirm_delete.html", context)


@require_GET
@permission_required("campaigns.view_contactgroup", raise_exception=True)
def group_detail(request, pk):
    group = get_object_or_404(ContactGroup, pk=pk)
    search = request.GET.get("q", "").strip()
    context = {
        "group": group,
        "page": page_of(request, selectors.group_members(group=group, search=search)),
        "search": search,
        "paste_form": PastePhonesForm(),
        "bulk_form": ContactBulkForm(),
    }
    return render_page(
        request, "campaigns/group_detail.html", "campaigns/partials/_contact_table.html", context
    )


@require_POST
@permission_required("campaigns.change_contactgroup", raise_exception=True)
def group_add_members(request, pk):
    group = get_object_or_404(ContactGroup, pk=pk)
    form = PastePhonesForm(request.POST)
    if not form.is_valid():
        context = {
            "group": group,
            "page": page_of(request, selectors.group_members(group=group)),
            "paste_form": form,
            "bulk_form": ContactBulkForm(),
        }
        return render(request, "campaigns/group_detail.html", context, status=400)
    result = services.group_add_phones(group=group, phones=form.cleaned_data["phones"])
    messages.success(
        request,
        _(
            "%(added)d added to the group (%(created)d new contacts); "
            "%(already)d were already members."
        )
        % {"added": result.added, "created": result.created, "already": result.already_members},
    )
    for raw, reason in form.invalid_phones[:20]:
        messages.warning(
            request, _("Not added: %(phone)s (%(reason)s)") % {"phone": raw, "reason": reason}
        )
    if len(form.invalid_phones) > 20:
        messages.warning(
            request,
            _("%(count)d more phones were not valid.") % {"count": len(form.invalid_phones) - 20},
        )
    return redirect(group)
