"""Input validation only: forms never write and never call Onurix."""

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from ..contact_import import IMPORT_TARGETS
from ..models import ContactGroup


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=_("File"),
        help_text=_(
            "CSV (comma, semicolon or tab; UTF-8 or Windows/Excel encoding) or Excel .xlsx."
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.CONTACT_IMPORT_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                _("The file is %(size)s; the limit is %(limit)s. Split it into smaller files."),
                params={"size": filesizeformat(upload.size), "limit": filesizeformat(limit)},
            )
        if upload.size == 0:
            raise forms.ValidationError(_("The file is empty."))
        return upload


class ImportMappingForm(forms.Form):
    """One target per column of the file, plus where the contacts go."""

    group = forms.ModelChoiceField(
        label=_("Add the contacts to the group"),
        queryset=ContactGroup.objects.order_by("name"),
        required=False,
        empty_label=_("(no group)"),
    )
    new_group = forms.CharField(
        label=_("…or create a new group"),
        max_length=120,
        required=False,
        help_text=_("For example: Pacientes Chapinero"),
    )
    overwrite = forms.BooleanField(
        label=_("Replace existing names and emails with the file's"),
        required=False,
        help_text=_("Off: only empty fields of existing contacts are filled."),
    )

    def __init__(self, *args, headers: list[str], mapping: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.headers = headers
        for index, header in enumerate(headers):
            self.fields[f"column_{index}"] = forms.ChoiceField(
                label=header or _("Column %(number)d") % {"number": index + 1},
                choices=IMPORT_TARGETS,
                initial=mapping[index] if index < len(mapping) else "ignore",
            )

    def column_fields(self):
        return [self[f"column_{index}"] for index in range(len(self.headers))]

    def clean(self):
        cleaned = super().clean()
        mapping = [cleaned.get(f"column_{index}", "ignore") for index in range(len(self.headers))]
        phone_columns = mapping.count("phone")
        if phone_columns != 1:
            message = (
                _("Choose the column that holds the phone.")
                if not phone_columns
                else _("Only one column can be the phone.")
            )
            for index, target in enumerate(mapping):
                if target == "phone" or not phone_columns:
                    self.add_error(f"column_{index}", message)
                    break
        for target in ("first_name", "last_name", "email", "full_name", "do_not_call"):
            if mapping.count(target) > 1:
                self.add_error(None, _("Two columns are mapped to the same field."))
                break
        new_group = cleaned.get("new_group", "").strip()
        if new_group and ContactGroup.objects.filter(name=new_group).exists():
            self.add_error("new_group", _("A group with this name exists: choose it above."))
        cleaned["mapping"] = mapping
        return cleaned
