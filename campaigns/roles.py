"""The three roles of the product, as Django groups with permissions.

- Read-only ("Solo lectura"): sees contacts, groups, audios, campaigns and their results.
- Editor: also edits contacts, groups, audios, imports contacts, writes and deletes
  campaign drafts, pauses and cancels campaigns. Cannot spend credits.
- Launcher ("Lanzador"): also launches campaigns, resumes them, makes test calls and
  re-sends unknown phones: everything that spends credits.

Administrators (superusers) can do everything. Give people a role in the admin, under
Users.
"""

from django.utils.translation import gettext_lazy as _

READ_ONLY = "Solo lectura"
EDITOR = "Editor"
LAUNCHER = "Lanzador"

# What each role may do, as the admin's list of roles says it.
DESCRIPTIONS = {
    READ_ONLY: _("Sees contacts, groups, audios, campaigns, results and exports."),
    EDITOR: _(
        "Also changes contacts, groups and audios, imports contacts, marks people "
        "do-not-call, writes and deletes drafts, pauses and cancels campaigns. Spends nothing."
    ),
    LAUNCHER: _(
        "Also launches and resumes campaigns, makes test calls, re-sends unknown phones and "
        "clears do-not-call marks: everything that spends credits."
    ),
}

_VIEW = [
    "view_contact",
    "view_contactgroup",
    "view_audiocode",
    "view_campaign",
    "view_callresult",
    "view_testcall",
    "view_onurixrequest",
    "view_contactimport",
    "view_donotcallchange",
]
_EDIT = [
    "add_contact",
    "change_contact",
    "delete_contact",
    "add_contactgroup",
    "change_contactgroup",
    "delete_contactgroup",
    "add_audiocode",
    "change_audiocode",
    "delete_audiocode",
    "add_campaign",
    "change_campaign",
    "delete_campaign",  # drafts only: a launched campaign is never deleted
]

# Role name -> codenames of the campaigns app's permissions.
ROLES = {
    READ_ONLY: _VIEW,
    EDITOR: _VIEW + _EDIT,
    LAUNCHER: [*_VIEW, *_EDIT, "launch_campaign"],
}


def ensure_roles(*, group_model=None, permission_model=None) -> None:
    """Create the role groups and give them exactly their permissions (idempotent).

    The models can be passed in, so a migration can use its historical ones.
    """
    if group_model is None or permission_model is None:
        from django.contrib.auth.models import Group, Permission

        group_model, permission_model = Group, Permission
    for name, codenames in ROLES.items():
        group, _created = group_model.objects.get_or_create(name=name)
        permissions = permission_model.objects.filter(
            content_type__app_label="campaigns", codename__in=codenames
        )
        group.permissions.set(permissions)


def ensure_roles_in_migration(apps, schema_editor) -> None:
    """`ensure_roles` for a data migration (RunPython), with its historical models.

    Permissions are normally created after all migrations; the roles need them now, so
    they are created first.
    """
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    ensure_roles(
        group_model=apps.get_model("auth", "Group"),
        permission_model=apps.get_model("auth", "Permission"),
    )
