from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User
from django.db.models import Count
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import models, roles, selectors, services
from .models import (
    ActivityEntry,
    AudioCode,
    CallResult,
    Campaign,
    Contact,
    ContactGroup,
    ContactImport,
    DoNotCallChange,
    OnurixRequest,
    TestCall,
)
from .services.activity import recording_m2m_change
from .text import clean_json
from .views.common import blocks_queued_text, with_calls_cancelled

admin.site.site_header = _("Onurix Campaigns administration")
admin.site.site_title = _("Onurix Campaigns")
admin.site.index_title = _("Data of the campaigns")


class AddToGroupForm(forms.Form):
    group = forms.ModelChoiceField(queryset=ContactGroup.objects.all(), label=_("Group"))


@admin.register(ContactGroup)
class ContactGroupAdmin(admin.ModelAdmin):
    list_display = ["name", "member_count", "description", "created_at"]
    search_fields = ["name", "description"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(member_count=Count("contacts"))

    @admin.display(description=_("members"), ordering="member_count")
    def member_count(self, obj):
        return obj.member_count

    # Deletions go through the service, which records them in the activity log.
    def delete_model(self, request, obj):
        services.group_delete(group=obj)

    def delete_queryset(self, request, queryset):
        for group in queryset:
            services.group_delete(group=group)


class ContactAdminForm(forms.ModelForm):
    class Meta:
        model = Contact
        fields = ["phone", "first_name", "last_name", "email", "custom_fields", "groups"]

    def clean_custom_fields(self):
        # A JSON escape such as "\ud800" parses to text PostgreSQL cannot store.
        return clean_json(self.cleaned_data["custom_fields"])


class DoNotCallChangeInline(admin.TabularInline):
    """The contact's do-not-call history, as the contact page shows it: never edited."""

    model = DoNotCallChange
    fields = ["created_at", "do_not_call", "reason", "source", "changed_by", "onurix_block"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    form = ContactAdminForm
    list_display = ["phone", "first_name", "last_name", "email", "do_not_call", "created_at"]
    list_filter = ["do_not_call", "groups"]
    search_fields = ["phone", "first_name", "last_name", "email"]
    filter_horizontal = ["groups"]
    # The flag changes only through the action, which keeps the history and cancels calls.
    readonly_fields = [
        "do_not_call",
        "do_not_call_reason",
        "do_not_call_at",
        "created_at",
        "updated_at",
    ]
    inlines = [DoNotCallChangeInline]
    list_per_page = 50
    show_full_result_count = False
    actions = ["mark_do_not_call", "mark_do_not_call_and_block", "add_to_group"]

    # Deletions go through the service, which records them in the activity log.
    def delete_model(self, request, obj):
        services.contacts_delete(contacts=Contact.objects.filter(pk=obj.pk), user=request.user)

    def delete_queryset(self, request, queryset):
        services.contacts_delete(contacts=queryset, user=request.user)

    @admin.action(description=_("Mark selected contacts do-not-call"))
    def mark_do_not_call(self, request, queryset, block_at_onurix=False):
        done = services.contacts_set_do_not_call(
            contacts=queryset,
            do_not_call=True,
            reason=str(_("Marked in the admin")),
            source=DoNotCallChange.Source.ADMIN,
            user=request.user,
            block_at_onurix=block_at_onurix,
        )
        text = ngettext(
            "%(count)d contact marked do-not-call.",
            "%(count)d contacts marked do-not-call.",
            done.changed,
        ) % {"count": done.changed}
        self.message_user(request, with_calls_cancelled(text, done.calls_cancelled))
        if done.blocks_queued:
            self.message_user(request, blocks_queued_text(done.blocks_queued))

    @admin.action(
        description=_(
            "Mark selected contacts do-not-call and block them at Onurix (cannot be undone)"
        ),
        permissions=["change"],
    )
    def mark_do_not_call_and_block(self, request, queryset):
        self.mark_do_not_call(request, queryset, block_at_onurix=True)

    @admin.action(description=_("Add selected contacts to a group"))
    def add_to_group(self, request, queryset):
        form = AddToGroupForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            group = form.cleaned_data["group"]
            added = services.contacts_add_to_group(
                contact_ids=queryset.values_list("pk", flat=True), group=group
            )
            self.message_user(
                request,
                ngettext(
                    "%(count)d contact added to %(group)s.",
                    "%(count)d contacts added to %(group)s.",
                    added,
                )
                % {"count": added, "group": group.name},
                messages.SUCCESS,
            )
            return None
        return TemplateResponse(
            request,
            "admin/campaigns/contact/add_to_group.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Add contacts to a group"),
                "form": form,
                "queryset": queryset,
                "select_across": request.POST.get("select_across") == "1",
                "selected_ids": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
                "selected_count": queryset.count(),
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
                "opts": self.model._meta,
            },
        )


class _PrivateFile:
    """A stored file as ClearableFileInput shows it, linked to the view that checks the
    role instead of a /media/ URL (none is served)."""

    def __init__(self, name: str, url: str):
        self.name, self.url = name, url

    def __str__(self):
        return self.name.rsplit("/", 1)[-1]


class PrivateFileInput(forms.ClearableFileInput):
    def __init__(self, *, url: str, **kwargs):
        super().__init__(**kwargs)
        self.private_url = url

    def format_value(self, value):
        if self.is_initial(value):
            return _PrivateFile(value.name, self.private_url)
        return super().format_value(value)


@admin.register(AudioCode)
class AudioCodeAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "audio_file", "created_at"]
    search_fields = ["name", "code", "notes"]
    readonly_fields = ["created_at", "updated_at"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is not None and "audio_file" in form.base_fields:
            url = reverse("audio_code_file", args=[obj.pk])
            form.base_fields["audio_file"].widget = PrivateFileInput(url=url)
        return form

    # Deletions go through the service: the local file goes too, and the log records it.
    def delete_model(self, request, obj):
        services.audio_code_delete(audio_code=obj)

    def delete_queryset(self, request, queryset):
        for audio_code in queryset:
            services.audio_code_delete(audio_code=audio_code)


class CampaignAdminForm(forms.ModelForm):
    def clean(self):
        cleaned = super().clean()
        # The admin saves inside one transaction: with the row locked here (SQLite: the
        # IMMEDIATE transaction's lock), a launch cannot slip between this check and the
        # save, so a stale form never puts a launched campaign's content back.
        if self.instance.pk is not None:
            still_draft = (
                Campaign.objects.select_for_update(no_key=True)
                .filter(pk=self.instance.pk, state__in=Campaign.TRANSITIONS["edit"])
                .exists()
            )
            if not still_draft:
                raise forms.ValidationError(
                    _("This campaign was launched meanwhile: it can no longer be changed.")
                )
        return cleaned


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    """Drafts may be written here; once launched a campaign is read-only, and its state
    changes only through the pages' actions (pause, resume, cancel...) and their checks."""

    form = CampaignAdminForm
    list_display = ["name", "state", "voice", "audio_code", "created_by", "launched_at"]
    list_filter = ["state", "voice", "is_template"]
    search_fields = ["name", "message"]
    filter_horizontal = ["groups"]
    autocomplete_fields = ["audio_code"]
    # Never editable here, even on a draft: the state machine's and the worker's fields.
    readonly_fields = [
        *Campaign.LIFE_FIELDS,
        "results_summary",
        "created_at",
        "updated_at",
    ]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and not obj.can_edit:
            # Content, audience and timing are frozen at launch.
            editable = [field.name for field in obj._meta.fields if field.editable]
            return list(dict.fromkeys([*editable, "groups", *self.readonly_fields]))
        return self.readonly_fields

    def has_change_permission(self, request, obj=None):
        if obj is not None and not obj.can_edit:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        # A launched campaign's results and requests are the audit of what was spent.
        if obj is not None and not obj.can_edit:
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request):
        # The bulk delete would not ask each campaign whether it is still a draft.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def delete_model(self, request, obj):
        # The service deletes only a draft and records it in the activity log.
        services.campaign_delete(campaign=obj, user=request.user)

    @admin.display(description=_("results"))
    def results_summary(self, obj):
        if obj.pk is None:
            return "-"
        counts = selectors.campaign_state_counts(campaign=obj)
        url = reverse("admin:campaigns_callresult_changelist") + f"?campaign__id__exact={obj.pk}"
        parts = ", ".join(
            f"{CallResult.State(state).label}: {count}" for state, count in counts.items() if count
        )
        return format_html('<a href="{}">{}</a>', url, parts or _("no results yet"))


class ReadOnlyAdmin(admin.ModelAdmin):
    """Audit records: visible to staff, never edited by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(CallResult)
class CallResultAdmin(ReadOnlyAdmin):
    list_display = [
        "phone",
        "contact",
        "campaign",
        "state",
        "onurix_state",
        "credits",
        "error_code",
        "sent_at",
    ]
    list_filter = ["state", "exclusion_reason", "campaign"]
    search_fields = ["phone", "contact__first_name", "contact__last_name", "call_id"]
    list_select_related = ["contact", "campaign"]
    show_full_result_count = False


@admin.register(OnurixRequest)
class OnurixRequestAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "kind",
        "campaign",
        "phone_count",
        "outcome",
        "http_status",
        "dispatch_id",
        "started_at",
    ]
    list_filter = ["kind", "outcome"]
    search_fields = ["dispatch_id", "phones"]
    list_select_related = ["campaign"]
    show_full_result_count = False


@admin.register(TestCall)
class TestCallAdmin(ReadOnlyAdmin):
    list_display = ["phone", "campaign", "state", "onurix_state", "requested_by", "created_at"]
    list_filter = ["state"]
    search_fields = ["phone"]


@admin.register(ContactImport)
class ContactImportAdmin(ReadOnlyAdmin):
    list_display = [
        "original_name",
        "state",
        "uploaded_by",
        "group",
        "created",
        "updated",
        "skipped",
        "created_at",
    ]
    list_filter = ["state"]
    search_fields = ["original_name"]
    # The file is personal data and has no public URL: read it through the import's pages.
    exclude = ["skipped_rows", "file"]


@admin.register(models.BalanceAlert)
class BalanceAlertAdmin(admin.ModelAdmin):
    """The low-balance alert's memory (services/spending.py): unticking "balance low" lets
    the next sweep that sees a low balance email again."""

    list_display = ["balance", "threshold", "low", "checked_at", "low_since", "alerted_at"]


@admin.register(models.WorkerHeartbeat)
class WorkerHeartbeatAdmin(ReadOnlyAdmin):
    list_display = ["worker", "started_at", "beat_at"]


@admin.register(models.OnurixSlot)
class OnurixSlotAdmin(ReadOnlyAdmin):
    """The account's request slots (services/limiter.py): who is sending right now."""

    list_display = ["number", "holder", "worker", "lease_until"]


@admin.register(models.OnurixPace)
class OnurixPaceAdmin(ReadOnlyAdmin):
    list_display = ["id", "next_at"]


@admin.register(ActivityEntry)
class ActivityEntryAdmin(ReadOnlyAdmin):
    """The activity log: never added, changed or deleted, not even by a superuser."""

    list_display = ["at", "username", "action", "target_type", "target", "address"]
    list_filter = ["action", "target_type", "at"]
    search_fields = ["target", "username"]
    date_hierarchy = "at"
    show_full_result_count = False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(DoNotCallChange)
class DoNotCallChangeAdmin(ReadOnlyAdmin):
    list_display = [
        "contact",
        "do_not_call",
        "reason",
        "source",
        "changed_by",
        "onurix_block",
        "created_at",
    ]
    list_filter = ["do_not_call", "source", "onurix_block"]
    search_fields = ["contact__phone", "contact__first_name", "contact__last_name", "reason"]
    list_select_related = ["contact", "changed_by"]
    show_full_result_count = False


@admin.register(models.FollowUpWave)
class FollowUpWaveAdmin(ReadOnlyAdmin):
    """Follow-up waves: set in the campaign form, started and ended by the sweep
    (services/waves.py), cancelled from the campaign's page; never edited here."""

    list_display = ["campaign", "number", "days_after", "at", "state", "started_at", "ended_at"]
    list_filter = ["state"]
    list_select_related = ["campaign"]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(models.RegistryList)
class RegistryListAdmin(ReadOnlyAdmin):
    """Loads of the Registro de Números Excluidos: made on the registry page or with
    `manage.py load_rne`, never by hand here."""

    list_display = ["list_date", "numbers", "skipped", "is_current", "loaded_by", "created_at"]
    list_select_related = ["loaded_by"]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(models.RegistryNumber)
class RegistryNumberAdmin(ReadOnlyAdmin):
    """Is a number in the registry? Search it here (type it as stored: 573001234567)."""

    list_display = ["phone", "registry_list"]
    search_fields = ["=phone"]
    list_select_related = ["registry_list"]
    show_full_result_count = False

    def has_delete_permission(self, request, obj=None):
        return False


# -- people and their roles ----------------------------------------------------------------------

admin.site.unregister(Group)


@admin.register(models.Role)
class RoleAdmin(GroupAdmin):
    """The roles, with what each may do: named apart from the groups of contacts."""

    list_display = ["name", "what_it_may_do"]

    @admin.display(description=_("what it may do"))
    def what_it_may_do(self, obj):
        return roles.DESCRIPTIONS.get(obj.name, "")

    def save_related(self, request, form, formsets, change):
        # One activity entry for the whole change of permissions.
        with recording_m2m_change(owner=form.instance):
            super().save_related(request, form, formsets, change)


admin.site.unregister(User)


@admin.register(User)
class PersonAdmin(UserAdmin):
    def formfield_for_manytomany(self, db_field, request, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if db_field.name == "groups":
            field.label = _("Roles")
            field.help_text = " ".join(
                f"{name}: {description}" for name, description in roles.DESCRIPTIONS.items()
            )
        return field

    def save_related(self, request, form, formsets, change):
        # One activity entry for the whole change of roles.
        with recording_m2m_change(owner=form.instance):
            super().save_related(request, form, formsets, change)
