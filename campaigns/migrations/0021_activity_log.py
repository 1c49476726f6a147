"""The activity log (issue 18)."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0020_onurix_limiter"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ActivityEntry",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "at",
                    models.DateTimeField(
                        db_index=True, default=django.utils.timezone.now, verbose_name="when"
                    ),
                ),
                (
                    "username",
                    models.CharField(
                        blank=True,
                        help_text="Empty: the system did it.",
                        max_length=150,
                        verbose_name="username",
                    ),
                ),
                (
                    "action",
                    models.CharField(
                        choices=[
                            ("campaign_launch", "Campaign launched"),
                            ("campaign_pause", "Campaign paused"),
                            ("campaign_resume", "Campaign resumed"),
                            ("campaign_cancel", "Campaign cancelled"),
                            ("campaign_resend", "Unknown phones sent again"),
                            ("campaign_test_call", "Test call"),
                            ("campaign_delete", "Draft deleted"),
                            ("campaign_credit_cap", "Credit limit changed"),
                            ("do_not_call_mark", "Marked do-not-call"),
                            ("do_not_call_clear", "Do-not-call mark cleared"),
                            ("contacts_delete", "Contacts deleted"),
                            ("group_delete", "Group deleted"),
                            ("audio_delete", "Audio deleted"),
                            ("user_create", "User created"),
                            ("user_delete", "User deleted"),
                            ("user_roles", "Roles changed"),
                            ("user_access", "Access changed"),
                            ("user_password", "Password changed"),
                            ("role_permissions", "Role permissions changed"),
                        ],
                        max_length=30,
                        verbose_name="action",
                    ),
                ),
                (
                    "target_type",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("campaign", "campaign"),
                            ("contact", "contact"),
                            ("group", "group"),
                            ("audio", "audio code"),
                            ("user", "user"),
                            ("role", "role"),
                        ],
                        max_length=10,
                        verbose_name="target type",
                    ),
                ),
                (
                    "target_id",
                    models.BigIntegerField(blank=True, null=True, verbose_name="target id"),
                ),
                ("target", models.CharField(blank=True, max_length=255, verbose_name="target")),
                ("details", models.JSONField(blank=True, default=dict, verbose_name="details")),
                (
                    "address",
                    models.GenericIPAddressField(blank=True, null=True, verbose_name="address"),
                ),
                (
                    "user",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="user",
                    ),
                ),
            ],
            options={
                "verbose_name": "activity entry",
                "verbose_name_plural": "activity",
                "ordering": ["-at", "-id"],
                "indexes": [
                    models.Index(fields=["username", "-at"], name="activity_username_at"),
                    models.Index(fields=["action", "-at"], name="activity_action_at"),
                ],
            },
        ),
    ]
