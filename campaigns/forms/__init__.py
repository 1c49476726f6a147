"""Input validation only: forms never write and never call Onurix."""

from .activity import ActivityFilterForm
from .audio import AudioCodeForm
from .campaigns import CampaignForm, ResendForm, ResultsActionForm, TestCallForm
from .contacts import ContactBulkForm, ContactForm, GroupForm, PastePhonesForm
from .imports import ImportMappingForm, ImportUploadForm
from .reports import ReportFilterForm, ResultsFilterForm
from .spending import CreditCapForm
from .waves import WavesForm

__all__ = [
    "ActivityFilterForm",
    "AudioCodeForm",
    "CampaignForm",
    "ContactBulkForm",
    "ContactForm",
    "CreditCapForm",
    "GroupForm",
    "ImportMappingForm",
    "ImportUploadForm",
    "PastePhonesForm",
    "ReportFilterForm",
    "ResendForm",
    "ResultsActionForm",
    "ResultsFilterForm",
    "TestCallForm",
    "WavesForm",
]
