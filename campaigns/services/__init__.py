"""Every write of the product, and every call to Onurix.

Services are keyword-only and named `<entity>_<action>` so `grep` finds every action on an
entity. Expected failures raise `django.core.exceptions.ValidationError`. Callers import
them from here: `from campaigns import services; services.contact_save(...)`.
"""

from .audio import audio_code_delete, audio_code_save
from .campaigns import (
    Audience,
    BatchOutcome,
    CampaignPreview,
    ExcludedPhone,
    RenderedSample,
    campaign_audience,
    campaign_cancel,
    campaign_launch,
    campaign_pause,
    campaign_preview,
    campaign_resend_unknown,
    campaign_resume,
    campaign_save,
    campaign_test_call,
    campaign_window,
    credits_per_call_estimate,
    enqueue_dispatch,
)
from .contacts import (
    AddPhonesResult,
    contact_save,
    contacts_add_to_group,
    contacts_bulk_apply,
    contacts_delete,
    contacts_export_rows,
    contacts_mark_do_not_call,
    contacts_remove_from_group,
    group_add_phones,
    group_delete,
    group_save,
)
from .dispatch import (
    campaign_dispatch,
    campaign_finish_if_done,
    campaigns_sweep,
    recover_stale_sending,
)
from .imports import (
    contact_import_confirm,
    contact_import_preview,
    contact_import_report_rows,
    contact_import_run,
    contact_import_sample,
    contact_import_start,
)
from .onurix_health import OnurixHealth, onurix_health

__all__ = [
    "AddPhonesResult",
    "Audience",
    "BatchOutcome",
    "CampaignPreview",
    "ExcludedPhone",
    "OnurixHealth",
    "RenderedSample",
    "audio_code_delete",
    "audio_code_save",
    "campaign_audience",
    "campaign_cancel",
    "campaign_dispatch",
    "campaign_finish_if_done",
    "campaign_launch",
    "campaign_pause",
    "campaign_preview",
    "campaign_resend_unknown",
    "campaign_resume",
    "campaign_save",
    "campaign_test_call",
    "campaign_window",
    "campaigns_sweep",
    "contact_import_confirm",
    "contact_import_preview",
    "contact_import_report_rows",
    "contact_import_run",
    "contact_import_sample",
    "contact_import_start",
    "contact_save",
    "contacts_add_to_group",
    "contacts_bulk_apply",
    "contacts_delete",
    "contacts_export_rows",
    "contacts_mark_do_not_call",
    "contacts_remove_from_group",
    "credits_per_call_estimate",
    "enqueue_dispatch",
    "group_add_phones",
    "group_delete",
    "group_save",
    "onurix_health",
    "recover_stale_sending",
]
