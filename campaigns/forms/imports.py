"""Input validation only: forms never write and never call Onurix."""

from functools import cached_property

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.text import get_text_list
from django.utils.translation import gettext_lazy as _

from ..contact_import import (
    IMPORT_TARGETS,
    SINGLE_COLUMN_TARGETS,
    keep_other_columns,
    recognise_columns,
)
from ..csv_files import CUSTOM_FIELD_NAME_RULE, is_custom_field_name
from ..models import ContactGroup

# Names of unrecognised columns listed on the mapping step; Outlook's export has 60.
_NAMES_SHOWN = 8


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=_("File"),
        help_text=_(
            "CSV (comma, semicolon or tab; UTF-8 or Windows/Excel encoding) or Excel .xlsx."
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.IMPORT_MAX_BYTES
        if getattr(upload, "refused", False) or upload.size > limit:
            # A refused upload stopped at the limit: its size is what arrived by then.
            raise forms.ValidationError(
                _("The file is larger than %(limit)s. Split it into smaller files."),
                params={"limit": filesizeformat(limit)},
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

    # Sent by its own submit button: keep the other columns as custom fields, then preview.
    keep_other_columns = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, headers: list[str], mapping: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.headers = headers
        self.other_columns = recognise_columns(headers).others
        for index, header in enumerate(headers):
            self.fields[f"column_{index}"] = forms.ChoiceField(
                label=header or _("Column %(number)d") % {"number": index + 1},
                choices=IMPORT_TARGETS,
                initial=mapping[index] if index < len(mapping) else "ignore",
            )

    def column_fields(self):
        return [self[f"column_{index}"] for index in range(len(self.headers))]

    @cached_property
    def ignored_other_columns(self) -> list[str]:
        """The names of the columns recognised as nothing that are set to Ignore."""
        return [
            str(self[f"column_{index}"].label)
            for index in self.other_columns
            if self[f"column_{index}"].value() == "ignore"
            and is_custom_field_name(self.headers[index])
        ]

    def ignored_other_columns_text(self) -> str:
        """The first of those names, for a sentence: «Labels», «Notes», …"""
        names = self.ignored_other_columns
        shown = ", ".join(f"«{name}»" for name in names[:_NAMES_SHOWN])
        return f"{shown}, …" if len(names) > _NAMES_SHOWN else shown

    def clean(self):
        cleaned = super().clean()
        mapping = [cleaned.get(f"column_{index}", "ignore") for index in range(len(self.headers))]
        if cleaned.get("keep_other_columns"):
            mapping = keep_other_columns(headers=self.headers, mapping=mapping)
        if "phone" not in mapping and self.headers:
            self.add_error("column_0", _("Choose the column that holds the phone."))
        for index, target in enumerate(mapping):
            header = self.headers[index]
            if target == "custom" and header and not is_custom_field_name(header):
                self.add_error(
                    f"column_{index}",
                    _(
                        "This name cannot be a custom field: rename the column in the file, "
                        "or choose Ignore. %(rule)s"
                    )
                    % {"rule": CUSTOM_FIELD_NAME_RULE},
                )
        labels = dict(IMPORT_TARGETS)
        for target in SINGLE_COLUMN_TARGETS:
            indexes = [index for index, value in enumerate(mapping) if value == target]
            if len(indexes) < 2:
                continue
            columns = get_text_list(
                [f"«{self[f'column_{index}'].label}»" for index in indexes], _("and")
            )
            message = _(
                "%(columns)s are mapped to %(field)s: keep one and set the others to Ignore."
            ) % {"columns": columns, "field": labels[target]}
            for index in indexes:
                self.add_error(f"column_{index}", message)
        new_group = cleaned.get("new_group", "").strip()
        if new_group and ContactGroup.objects.filter(name=new_group).exists():
            self.add_error("new_group", _("A group with this name exists: choose it above."))
        cleaned["mapping"] = mapping
        return cleaned
