"""The audio code form: the code typed from the Onurix portal and an optional local file."""

from django import forms
from django.conf import settings
from django.core.validators import RegexValidator
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from ..audio_files import detect_audio_type, read_head
from ..models import AudioCode

# Onurix only says the code "looks like a UUID"; accept any id of that alphabet.
AUDIO_CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{5,63}$"


def audio_max_bytes() -> int:
    return getattr(settings, "AUDIO_MAX_BYTES", 10 * 1024 * 1024)


def _is_unsafe_file_name(name: str) -> bool:
    return "/" in name or "\\" in name or ".." in name


class AudioCodeField(forms.CharField):
    """A code as pasted from the portal: codes never contain spaces, pastes often do."""

    def to_python(self, value):
        return "".join(super().to_python(value).split())


class AudioCodeForm(forms.ModelForm):
    """Add or edit an audio code. The file is checked by its content, not its name."""

    code = AudioCodeField(
        label=_("Onurix audio code"),
        max_length=64,
        validators=[
            RegexValidator(
                AUDIO_CODE_PATTERN,
                _(
                    "Copy the code exactly as the Onurix portal shows it: 6 to 64 letters, "
                    "digits, hyphens or underscores, for example "
                    "3f2b8c1e-9d4a-4c1b-8e2f-0a1b2c3d4e5f."
                ),
            )
        ],
        help_text=_(
            "The code Onurix gave the audio, for example 3f2b8c1e-9d4a-4c1b-8e2f-0a1b2c3d4e5f."
        ),
    )
    audio_file = forms.FileField(
        label=_("Audio file"),
        required=False,
        widget=forms.FileInput(attrs={"accept": ".mp3,.wav,.ogg,audio/mpeg,audio/wav,audio/ogg"}),
        help_text=_("Optional, only for listening here: MP3, WAV or OGG, at most %(max)s."),
    )
    remove_file = forms.BooleanField(label=_("Remove the file"), required=False)

    class Meta:
        model = AudioCode
        fields = ["code", "name", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.duplicate: AudioCode | None = None
        self.fields["audio_file"].help_text = self.fields["audio_file"].help_text % {
            "max": filesizeformat(audio_max_bytes())
        }

    def clean_code(self):
        code = self.cleaned_data["code"]
        self.duplicate = AudioCode.objects.filter(code=code).exclude(pk=self.instance.pk).first()
        if self.duplicate is not None:
            raise forms.ValidationError(
                _("This code is already saved as the audio “%(name)s”."),
                params={"name": self.duplicate.name},
            )
        return code

    def clean_audio_file(self):
        upload = self.cleaned_data.get("audio_file")
        if not upload:
            return None
        if _is_unsafe_file_name(upload.name):
            raise forms.ValidationError(
                _(
                    "The file name “%(name)s” is not allowed: "
                    "rename the file without /, \\ or “..”."
                ),
                params={"name": upload.name},
            )
        if upload.size > audio_max_bytes():
            raise forms.ValidationError(
                _("The file is too large (%(size)s); the limit is %(max)s."),
                params={
                    "size": filesizeformat(upload.size),
                    "max": filesizeformat(audio_max_bytes()),
                },
            )
        if detect_audio_type(read_head(upload)) is None:
            raise forms.ValidationError(
                _("This file is not MP3, WAV or OGG audio. Export it in one of those formats.")
            )
        return upload
