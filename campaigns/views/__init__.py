"""Thin views: URL, method check, form, one service call, redirect or partial."""

from .activity import activity, activity_export
from .audio import (
    audio_code_create,
    audio_code_delete,
    audio_code_file,
    audio_code_list,
    audio_code_update,
)
from .campaign_drafts import campaign_delete
from .campaigns import (
    campaign_cancel,
    campaign_create,
    campaign_detail,
    campaign_launch,
    campaign_list,
    campaign_pause,
    campaign_progress,
    campaign_refresh,
    campaign_resend_unknown,
    campaign_resume,
    campaign_test_call,
    campaign_update,
)
from .contacts import (
    contact_bulk,
    contact_create,
    contact_delete,
    contact_detail,
    contact_export,
    contact_list,
    contact_update,
)
from .copies import campaign_credit_cap, campaign_duplicate, campaign_save_as_template
from .dashboard import dashboard, onurix_status
from .groups import (
    group_add_members,
    group_create,
    group_delete,
    group_detail,
    group_list,
    group_update,
)
from .imports import (
    contact_import,
    contact_import_detail,
    contact_import_progress,
    contact_import_report,
)
from .registry import registry
from .results import (
    campaign_follow_up,
    campaign_results,
    campaign_results_action,
    campaign_results_csv,
    campaign_results_xlsx,
)
from .waves import campaign_wave_cancel

__all__ = [
    "activity",
    "activity_export",
    "audio_code_create",
    "audio_code_delete",
    "audio_code_file",
    "audio_code_list",
    "audio_code_update",
    "campaign_cancel",
    "campaign_create",
    "campaign_credit_cap",
    "campaign_delete",
    "campaign_detail",
    "campaign_duplicate",
    "campaign_follow_up",
    "campaign_launch",
    "campaign_list",
    "campaign_pause",
    "campaign_progress",
    "campaign_refresh",
    "campaign_resend_unknown",
    "campaign_results",
    "campaign_results_action",
    "campaign_results_csv",
    "campaign_results_xlsx",
    "campaign_resume",
    "campaign_save_as_template",
    "campaign_test_call",
    "campaign_update",
    "campaign_wave_cancel",
    "contact_bulk",
    "contact_create",
    "contact_delete",
    "contact_detail",
    "contact_export",
    "contact_import",
    "contact_import_detail",
    "contact_import_progress",
    "contact_import_report",
    "contact_list",
    "contact_update",
    "dashboard",
    "group_add_members",
    "group_create",
    "group_delete",
    "group_detail",
    "group_list",
    "group_update",
    "onurix_status",
    "registry",
]
