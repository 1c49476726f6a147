"""Input validation only: forms never write and never call Onurix."""

from .audio import AudioCodeForm
from .campaigns import CampaignForm, ResendForm, ResultsActionForm, TestCallForm
from .contacts import ContactBulkForm, ContactForm, GroupForm, PastePhonesForm
from .imports import ImportMappingForm, ImportUploadForm

__all__ = [
    "AudioCodeForm",
    "CampaignForm",
    "ContactBulkForm",
    "ContactForm",
    "GroupForm",
    "ImportMappingForm",
    "ImportUploadForm",
    "PastePhonesForm",
    "ResendForm",
    "ResultsActionForm",
    "TestCallForm",
]
