"""The follow-up waves of the campaign form: up to three optional rows, no JavaScript."""

import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _

from ..models import FollowUpWave
from ..services.waves import WaveSpec

NUMBERS = range(FollowUpWave.FIRST_NUMBER, FollowUpWave.LAST_NUMBER + 1)
MAX_DAYS_AFTER = 30


class WavesForm(forms.Form):
    """Fields `wave<N>_outcomes`, `wave<N>_days` and `wave<N>_at` for N = 2, 3, 4. A wave
    is set when at least one outcome is ticked; a row left empty is no wave."""

    def __init__(self, *args, campaign=None, **kwargs):
        if campaign is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                key: value
                for wave in campaign.waves.all()
                for key, value in (
                    (f"wave{wave.number}_outcomes", wave.outcomes),
                    (f"wave{wave.number}_days", wave.days_after),
                    (f"wave{wave.number}_at", wave.at),
                )
            }
        super().__init__(*args, **kwargs)
        for number in NUMBERS:
            self.fields[f"wave{number}_outcomes"] = forms.MultipleChoiceField(
                label=_("Call again the phones whose outcome was"),
                choices=FollowUpWave.Outcome.choices,
                required=False,
                widget=forms.CheckboxSelectMultiple,
            )
            self.fields[f"wave{number}_days"] = forms.IntegerField(
                label=_("Calling days after the previous wave"),
                required=False,
                min_value=1,
                max_value=MAX_DAYS_AFTER,
                initial=1,
                error_messages={
                    "invalid": _("Write a whole number of days, for example 1."),
                    "min_value": _("At least 1 calling day after the previous wave."),
                    "max_value": _("At most 30 calling days after the previous wave."),
                },
            )
            self.fields[f"wave{number}_at"] = forms.TimeField(
                label=_("At (Colombian time)"),
                required=False,
                widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
                error_messages={"invalid": _("Write the time as HH:MM, for example 09:00.")},
            )

    @property
    def rows(self) -> list[dict]:
        """The bound fields of each wave, for the template."""
        return [
            {
                "number": number,
                "outcomes": self[f"wave{number}_outcomes"],
                "days": self[f"wave{number}_days"],
                "at": self[f"wave{number}_at"],
            }
            for number in NUMBERS
        ]

    def clean(self):
        cleaned = super().clean()
        previous_set = True
        for number in NUMBERS:
            outcomes = cleaned.get(f"wave{number}_outcomes") or []
            at = cleaned.get(f"wave{number}_at")
            if not outcomes:
                if at is not None:
                    self.add_error(
                        f"wave{number}_outcomes",
                        _("Tick whom this wave calls again, or clear its time."),
                    )
                previous_set = False
                continue
            if not previous_set:
                self.add_error(
                    f"wave{number}_outcomes",
                    _("Set the wave before this one first: waves go in order."),
                )
            if at is None and f"wave{number}_at" not in self.errors:
                self.add_error(f"wave{number}_at", _("Choose the time this wave starts."))
            previous_set = True
        return cleaned

    def waves(self) -> list[WaveSpec]:
        """The waves set, as `services.campaign_waves_save` takes them."""
        data = self.cleaned_data
        return [
            WaveSpec(
                number=number,
                outcomes=list(data[f"wave{number}_outcomes"]),
                days_after=data.get(f"wave{number}_days") or 1,
                at=data.get(f"wave{number}_at") or dt.time(9),
            )
            for number in NUMBERS
            if data.get(f"wave{number}_outcomes")
        ]
