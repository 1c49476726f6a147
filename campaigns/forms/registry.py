"""Input validation only: forms never write and never call Onurix."""

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class RegistryUploadForm(forms.Form):
    """The national registry's list of excluded numbers, with the date it was published."""

    file = forms.FileField(
        label=_("File of the Registro de Números Excluidos"),
        help_text=_("CSV or text, one number per line, as the registry publishes it."),
    )
    list_date = forms.DateField(
        label=_("Date of the list"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("The day the registry published this list."),
        error_messages={"invalid": _("Write the date as day, month and year.")},
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.IMPORT_MAX_BYTES
        if getattr(upload, "refused", False) or upload.size > limit:
            raise forms.ValidationError(
                _("The file is larger than %(limit)s. Split it into smaller files."),
                params={"limit": filesizeformat(limit)},
            )
        if upload.size == 0:
            raise forms.ValidationError(_("The file is empty."))
        return upload

    def clean_list_date(self):
        list_date = self.cleaned_data["list_date"]
        if list_date > timezone.localdate():
            raise forms.ValidationError(_("The list's date cannot be in the future."))
        return list_date
