"""The data of the product: contacts, groups, audio codes, campaigns and what Onurix did.

Invariants that must never break live here as database constraints: one result per phone
per campaign, a campaign plays a TTS message or an audio code (never both), retries 1 to 3,
phones stored as Onurix expects them (digits with country code, no `+`).
"""

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

# Digits with country code and no `+`, as `POST /call/send` takes them (E.164 without +).
PHONE_PATTERN = r"^[1-9][0-9]{7,14}$"
phone_validator = RegexValidator(
    PHONE_PATTERN,
    _("Enter the phone as digits with the country code and no +, for example 573001234567."),
)

CREDITS_FIELD_OPTIONS = {"max_digits": 14, "decimal_places": 4}


class Voice(models.TextChoices):
    """The TTS voices `POST /call/send` accepts."""

    MARIANA = "Mariana", "Mariana"
    PENELOPE = "Penelope", "Penelope"
    CONCHITA = "Conchita", "Conchita"
    MIA = "Mia", "Mia"
    LUCIA = "Lucia", "Lucia"
    ENRIQUE = "Enrique", "Enrique"
    MIGUEL = "Miguel", "Miguel"


class TimeStamped(models.Model):
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class Role(Group):
    """A role of the product (Solo lectura, Editor, Lanzador): Django's auth group, named
    apart from the groups of contacts in the admin."""

    class Meta:
        proxy = True
        verbose_name = _("role")
        verbose_name_plural = _("roles")


class ContactGroup(TimeStamped):
    """A named list of contacts; a contact may be in many groups."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        verbose_name = _("group")
        verbose_name_plural = _("groups")
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("group_detail", args=[self.pk])


class Contact(TimeStamped):
    """A person we may call. The phone is the identity: one contact per phone."""

    phone = models.CharField(_("phone"), max_length=16, unique=True, validators=[phone_validator])
    first_name = models.CharField(_("first name"), max_length=150, blank=True)
    last_name = models.CharField(_("last name"), max_length=150, blank=True)
    email = models.EmailField(_("email"), blank=True)
    custom_fields = models.JSONField(
        _("custom fields"),
        default=dict,
        blank=True,
        help_text=_("Extra columns kept from imports; usable as {placeholders} in messages."),
    )
    do_not_call = models.BooleanField(_("do not call"), default=False)
    do_not_call_reason = models.CharField(_("do-not-call reason"), max_length=255, blank=True)
    do_not_call_at = models.DateTimeField(_("marked do-not-call at"), null=True, blank=True)
    groups = models.ManyToManyField(
        ContactGroup, related_name="contacts", blank=True, verbose_name=_("groups")
    )

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        # Newest first: ids grow with creation, and the primary key needs no index of its
        # own (a search scans the table in key order and stops at a page of matches).
        ordering = ["-id"]
        indexes = [
            # Few contacts are do-not-call: index only those (the filter "do-not-call only"
            # and the launch's exclusions), not 100,000 falses.
            models.Index(
                fields=["do_not_call"], condition=Q(do_not_call=True), name="contact_dnc_idx"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(phone__regex=PHONE_PATTERN), name="contact_phone_normalised"
            ),
        ]

    def __str__(self):
        return self.full_name or self.phone

    def get_absolute_url(self):
        return reverse("contact_detail", args=[self.pk])

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class DoNotCallChange(models.Model):
    """One mark or clearing of a contact's do-not-call flag: who, when, why, and from where.

    Written by the one service that changes the flag (`contacts_set_do_not_call`), never
    edited: the trail Habeas Data asks for, kept when the mark itself is cleared.
    """

    class Source(models.TextChoices):
        FORM = "form", _("Contact form")
        LIST = "list", _("Contact list")
        ADMIN = "admin", _("Administration")
        RESULTS = "results", _("Campaign results")
        IMPORT = "import", _("Contact import")
        MIGRATION = "migration", _("Marked before the history existed")

    class OnurixBlock(models.TextChoices):
        # "" (blank): blocking at Onurix was not asked.
        PENDING = "pending", _("Waiting to be sent")  # queued for the worker, or retrying
        BLOCKED = "blocked", _("Blocked at Onurix")  # Onurix accepted the block
        REFUSED = "refused", _("Refused by Onurix")  # Onurix answered no: not retried
        NOT_REACHED = "not_reached", _("Onurix could not be reached")  # retries exhausted

    contact = models.ForeignKey(
        Contact,
        on_delete=models.CASCADE,
        related_name="do_not_call_changes",
        verbose_name=_("contact"),
    )
    do_not_call = models.BooleanField(
        _("do not call"), help_text=_("True: marked do-not-call. False: the mark was cleared.")
    )
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    source = models.CharField(_("from"), max_length=10, choices=Source.choices)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    # Blocking the phone at Onurix too (POST /block-phone), asked with the mark and sent by
    # the worker (services/blocking.py); Onurix has no unblock endpoint we know of.
    onurix_block = models.CharField(
        _("blocked at Onurix"), max_length=12, choices=OnurixBlock.choices, blank=True
    )
    onurix_block_message = models.CharField(_("Onurix's answer"), max_length=500, blank=True)
    onurix_block_attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    onurix_block_at = models.DateTimeField(_("Onurix answered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("do-not-call change")
        verbose_name_plural = _("do-not-call changes")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.contact_id}: {self.do_not_call}"


class ContactImport(TimeStamped):
    """A file of contacts on its way in: uploaded, mapped, previewed, then imported."""

    class State(models.TextChoices):
        UPLOADED = "uploaded", _("Uploaded")  # columns recognised, waiting for the mapping
        PREVIEWING = "previewing", _("Checking")  # the worker counts what the import would do
        PREVIEWED = "previewed", _("Previewed")  # counts shown, waiting for confirmation
        QUEUED = "queued", _("Queued")  # confirmed, waiting for the worker
        IMPORTING = "importing", _("Importing")  # the worker is writing contacts
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")  # see error
        # The worker stopped mid-import (it died): resumable from `rows_done`, see error.
        INTERRUPTED = "interrupted", _("Interrupted")

    # States in which a worker is busy with the import and the page polls its progress.
    WORKING_STATES = frozenset({State.PREVIEWING, State.QUEUED, State.IMPORTING})

    file = models.FileField(_("file"), upload_to="imports/%Y/%m/", max_length=255)
    original_name = models.CharField(_("file name"), max_length=255)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    headers = models.JSONField(_("columns"), default=list)
    mapping = models.JSONField(_("mapping"), default=list)
    group = models.ForeignKey(
        ContactGroup,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("add to group"),
    )
    new_group_name = models.CharField(_("new group"), max_length=120, blank=True)
    overwrite = models.BooleanField(_("overwrite existing data"), default=False)
    state = models.CharField(
        _("state"), max_length=12, choices=State.choices, default=State.UPLOADED
    )
    rows_total = models.PositiveIntegerField(_("rows in the file"), default=0)
    to_create = models.PositiveIntegerField(_("to create"), default=0)
    to_update = models.PositiveIntegerField(_("to update"), default=0)
    to_mark_do_not_call = models.PositiveIntegerField(_("to mark do-not-call"), default=0)
    skipped = models.PositiveIntegerField(_("skipped"), default=0)
    skipped_rows = models.JSONField(_("skipped rows"), default=list, blank=True)
    # Rows whose name looks like a spreadsheet formula: {"count": n, "examples": [...]}.
    suspicious_names = models.JSONField(_("suspicious names"), default=dict, blank=True)
    # Rows read (preview) or committed (import): an interrupted import resumes after them.
    rows_done = models.PositiveIntegerField(_("rows done"), default=0)
    # When the worker last moved it on, and which worker (host:pid): the sweep notices one
    # that stopped moving.
    progress_at = models.DateTimeField(_("last progress"), null=True, blank=True)
    worker = models.CharField(_("worker"), max_length=100, blank=True)
    created = models.PositiveIntegerField(_("created"), default=0)
    updated = models.PositiveIntegerField(_("updated"), default=0)
    unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    added_to_group = models.PositiveIntegerField(_("added to the group"), default=0)
    marked_do_not_call = models.PositiveIntegerField(_("marked do-not-call"), default=0)
    calls_cancelled = models.PositiveIntegerField(
        _("pending calls cancelled"),
        default=0,
        help_text=_("Queued calls to contacts this import marked do-not-call."),
    )
    error = models.TextField(_("error"), blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("contact import")
        verbose_name_plural = _("contact imports")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.original_name

    def get_absolute_url(self):
        return reverse("contact_import_detail", args=[self.pk])

    @property
    def total_rows(self) -> int:
        return self.rows_total

    @property
    def percent_done(self) -> int:
        total = self.rows_total
        return 100 if not total else min(100, round(100 * self.rows_done / total))

    @property
    def working(self) -> bool:
        return self.state in self.WORKING_STATES


class AudioCode(TimeStamped):
    """An audio uploaded in the Onurix portal, known to us by the code Onurix gave it.

    No API exists to upload or list audios: people type the code here. The local file is
    only for listening in the browser; Onurix never receives it from us.
    """

    code = models.CharField(_("Onurix audio code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=120)
    audio_file = models.FileField(
        _("audio file"), upload_to="audios/%Y/%m/", blank=True, max_length=255
    )
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("audio code")
        verbose_name_plural = _("audio codes")
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} ({self.code})"


class CampaignQuerySet(models.QuerySet):
    def move(self, pk: int, action: str, *, extra=None, **values) -> bool:
        """Apply `action` to campaign `pk` if its state allows it, in one conditional
        UPDATE (with `extra`, a Q or Exists, narrowing it further); `values` are the
        columns it sets.
        Returns whether the campaign moved."""
        allowed = self.filter(pk=pk, state__in=self.model.TRANSITIONS[action])
        if extra is not None:
            allowed = allowed.filter(extra)
        return bool(allowed.update(updated_at=timezone.now(), **values))


class Campaign(TimeStamped):
    """One message (TTS text or audio code) sent to an audience, with its life cycle."""

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")  # being edited; nothing frozen, nothing sent
        SCHEDULED = "scheduled", _("Scheduled")  # audience frozen, waits for scheduled_at
        SENDING = "sending", _("Sending")  # audience frozen, workers are sending
        PAUSED = "paused", _("Paused")  # by a user, or by us (credits, credentials, faults)
        FINISHED = "finished", _("Finished")  # no phone left queued
        CANCELLED = "cancelled", _("Cancelled")  # stopped by a user; unsent phones cancelled
        FAILED = "failed", _("Failed")  # could not go on; see state_message

    class PauseReason(models.TextChoices):
        USER = "user", _("Paused by a person")
        BREAKER = "breaker", _("Onurix kept failing")  # resumes by itself when it answers
        UNREACHABLE = "unreachable", _("Onurix unreachable")  # resumes by itself too
        CREDITS = "credits", _("Credits ran out")  # waits for a person
        CREDENTIALS = "credentials", _("Credentials refused")  # waits for a person
        REFUSED = "refused", _("Onurix refused the requests")  # waits for a person
        # The campaign's credit cap (services/spending.py): waits for a person to raise it.
        CREDIT_CAP = "credit_cap", _("Credit limit reached")
        # ONURIX_DAILY_CREDIT_LIMIT for the whole account: resumes by itself the next day.
        DAILY_LIMIT = "daily_limit", _("Daily credit limit reached")

    AUTO_RESUME = (PauseReason.BREAKER, PauseReason.UNREACHABLE)

    class Purpose(models.TextChoices):
        # Ley 2300 de 2023: commercial and advertising calls must leave out the numbers of
        # the Registro de Números Excluidos (RegistryList); service calls need not.
        INFORMATIONAL = "informational", _("Informational or service")
        COMMERCIAL = "commercial", _("Commercial or advertising")

    # The state machine: the states each action may start from. Every transition is one
    # conditional UPDATE ... WHERE state IN (these) (`Campaign.objects.move`), so of two
    # people (or a person and a worker) acting at once, one wins and the campaign never
    # moves backwards. Services, views, templates and the admin all ask these.
    TRANSITIONS = {
        "edit": (State.DRAFT,),
        "launch": (State.DRAFT,),
        "start": (State.SCHEDULED,),  # the worker, when the start time comes
        "pause": (State.SCHEDULED, State.SENDING),  # a person
        "auto_pause": (State.SENDING,),  # the worker: Onurix faults, credits, credentials
        "resume": (State.PAUSED,),  # a person (launcher): spends again
        "auto_resume": (State.PAUSED,),  # the sweep, only for AUTO_RESUME reasons
        "cancel": (State.SCHEDULED, State.SENDING, State.PAUSED),
        "finish": (State.SENDING,),  # the worker, once no phone is queued or in flight
        # Re-sending unknown phones queues them again; it never resumes what a person
        # paused (a paused campaign stays paused) and a cancelled campaign stays cancelled.
        "resend": (State.SENDING, State.PAUSED, State.FINISHED),
    }
    # The only state in which a worker may claim phones and call them.
    SENDING_STATES = (State.SENDING,)
    # States in which pages keep refreshing: something is about to happen.
    LIVE_STATES = (State.SCHEDULED, State.SENDING)
    # Launched and not over: may still send.
    ACTIVE_STATES = (State.SCHEDULED, State.SENDING, State.PAUSED)
    # The fields of a campaign's life, written by the state machine and the worker, never
    # by a person: read-only in the admin, never copied by "Duplicar".
    LIFE_FIELDS = (
        "state",
        "state_message",
        "pause_reason",
        "created_by",
        "launched_by",
        "launched_at",
        "started_at",
        "finished_at",
        "estimated_credits",
        "balance_before",
        "balance_after",
        "last_polled_at",
    )

    name = models.CharField(_("name"), max_length=200)
    voice = models.CharField(_("voice"), max_length=20, choices=Voice.choices, blank=True)
    message = models.TextField(_("message"), blank=True)
    audio_code = models.ForeignKey(
        AudioCode,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="campaigns",
        verbose_name=_("audio code"),
    )
    retries = models.PositiveSmallIntegerField(
        _("retries"),
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(3)],
        help_text=_("Attempts per call, 1 to 3."),
    )
    leave_voicemail = models.BooleanField(_("leave voicemail"), default=True)
    groups = models.ManyToManyField(
        ContactGroup, related_name="campaigns", blank=True, verbose_name=_("groups")
    )
    extra_phones = models.TextField(
        _("extra phones"), blank=True, help_text=_("Phones typed by hand, one per line.")
    )
    scheduled_at = models.DateTimeField(_("start at"), null=True, blank=True)
    calling_window_start = models.TimeField(
        _("calling window start"),
        null=True,
        blank=True,
        help_text=_("Optional: a narrower daily window inside the legal calling hours."),
    )
    calling_window_end = models.TimeField(_("calling window end"), null=True, blank=True)
    parent = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="follow_ups",
        verbose_name=_("created from"),
    )
    purpose = models.CharField(
        _("purpose"), max_length=13, choices=Purpose.choices, default=Purpose.INFORMATIONAL
    )

    state = models.CharField(
        _("state"), max_length=12, choices=State.choices, default=State.DRAFT, db_index=True
    )
    state_message = models.TextField(
        _("state message"), blank=True, help_text=_("Why the campaign is paused or failed.")
    )
    pause_reason = models.CharField(
        _("pause reason"), max_length=12, choices=PauseReason.choices, blank=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    launched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("launched by"),
    )
    launched_at = models.DateTimeField(_("launched at"), null=True, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    estimated_credits = models.DecimalField(
        _("estimated credits"), null=True, blank=True, **CREDITS_FIELD_OPTIONS
    )
    # Balance read before the first and after the last request, to reconcile what the
    # per-phone credits say with what the account really lost.
    balance_before = models.DecimalField(
        _("balance before"), null=True, blank=True, **CREDITS_FIELD_OPTIONS
    )
    balance_after = models.DecimalField(
        _("balance after"), null=True, blank=True, **CREDITS_FIELD_OPTIONS
    )
    # The preview's proposal to leave out dead numbers (PhoneHistory): None until the
    # person decides, then what they chose; the launch follows it.
    exclude_dead_numbers = models.BooleanField(
        _("leave out dead numbers"), null=True, blank=True, default=None
    )
    # When Onurix was last asked for the states of this campaign's calls: the sweep restarts
    # a polling chain that was lost (a worker died) when this gets old.
    last_polled_at = models.DateTimeField(_("states last read at"), null=True, blank=True)
    # Spending: the worker claims no phone that would take the credits charged plus those
    # in flight past this (services/spending.py); the campaign pauses instead.
    credit_cap = models.PositiveIntegerField(
        _("credit cap"),
        null=True,
        blank=True,
        help_text=_("Optional: the most credits this campaign may spend."),
    )
    # A template: a draft kept to start new campaigns from (services/copies.py), never
    # launched and not listed with the campaigns.
    is_template = models.BooleanField(_("template"), default=False)
    # A follow-up wave's own campaign (services/waves.py): created and launched by the
    # sweep when the wave's time comes, shown under the campaign the wave belongs to.
    wave = models.OneToOneField(
        "FollowUpWave",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="run",
        verbose_name=_("follow-up wave"),
    )

    objects = CampaignQuerySet.as_manager()

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-created_at", "-id"]
        permissions = [
            ("launch_campaign", _("Can launch campaigns and re-send unknown phones")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(audio_code__isnull=True) & ~Q(voice="") & ~Q(message="")
                    | Q(audio_code__isnull=False, voice="", message="")
                ),
                name="campaign_tts_xor_audio",
                violation_error_message=_(
                    "A campaign plays either a voice with a message or an audio code, never both."
                ),
            ),
            models.CheckConstraint(
                condition=Q(retries__gte=1, retries__lte=3),
                name="campaign_retries_1_to_3",
                violation_error_message=_("Retries must be 1, 2 or 3."),
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("campaign_detail", args=[self.pk])

    @property
    def is_launched(self) -> bool:
        """Launched at some point: its phones are frozen into results."""
        return self.state != self.State.DRAFT

    def can(self, action: str) -> bool:
        """Whether `action` (a key of TRANSITIONS) may start from the current state."""
        if self.is_template and action == "launch":
            return False  # a template only ever starts other campaigns
        return self.state in self.TRANSITIONS[action]

    # For templates, which cannot pass arguments.
    @property
    def can_edit(self) -> bool:
        return self.can("edit")

    @property
    def can_launch(self) -> bool:
        return self.can("launch")

    @property
    def can_pause(self) -> bool:
        return self.can("pause")

    @property
    def can_resume(self) -> bool:
        return self.can("resume")

    @property
    def can_cancel(self) -> bool:
        return self.can("cancel")

    @property
    def can_resend(self) -> bool:
        return self.can("resend")

    @property
    def is_live(self) -> bool:
        return self.state in self.LIVE_STATES

    @property
    def awaiting_results(self) -> bool:
        """Every phone was sent, but some calls have no final state yet: polling reads
        them, and pages keep refreshing (more slowly) until they have one."""
        return self.state == self.State.FINISHED and self.totals.sent > 0

    @property
    def state_label(self) -> str:
        """The state as pages name it: "finished" only once every call has its result."""
        if self.awaiting_results:
            return str(_("Sent, waiting for results"))
        return self.get_state_display()

    @property
    def uses_audio(self) -> bool:
        return self.audio_code_id is not None


class FollowUpWave(models.Model):
    """A follow-up wave of a campaign: "call again, N calling days later at HH:MM, the
    phones whose last outcome is one of these". Set on the draft; when its time comes the
    sweep creates and launches its own campaign (`run`) for the phones that still qualify
    (services/waves.py). The campaign's first sending is wave 1: waves are numbered 2 to 4.
    """

    class Outcome(models.TextChoices):
        NO_ANSWER = "no_answer", _("No answer")  # sent, never reported answered (or unknown)
        FAILED = "failed", _("Failed")  # an Error: state from Onurix, or refused
        REJECTED = "rejected", _("Rejected")  # Rechazado (credits refunded)

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting for its time")  # before the time comes
        STARTING = "starting", _("Starting")  # the sweep is creating its campaign
        LAUNCHED = "launched", _("Launched")  # its campaign (`run`) tells the rest
        SKIPPED = "skipped", _("Nobody to call")  # see message
        CANCELLED = "cancelled", _("Cancelled")  # by a person, or with its campaign
        FAILED = "failed", _("Could not start")  # see message

    FIRST_NUMBER = 2  # the campaign's own sending is wave 1
    LAST_NUMBER = 4  # up to 3 follow-up waves
    OVER_STATES = (State.SKIPPED, State.CANCELLED, State.FAILED)

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="waves", verbose_name=_("campaign")
    )
    number = models.PositiveSmallIntegerField(
        _("wave"), validators=[MinValueValidator(FIRST_NUMBER), MaxValueValidator(LAST_NUMBER)]
    )
    outcomes = models.JSONField(_("outcomes to call again"), default=list)
    days_after = models.PositiveSmallIntegerField(
        _("calling days after"), default=1, validators=[MinValueValidator(1)]
    )
    at = models.TimeField(_("at"))
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.PENDING
    )
    message = models.CharField(_("message"), max_length=500, blank=True)
    # Phones of earlier waves left out when the wave started, per reason.
    left_out = models.JSONField(_("left out"), default=dict, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)

    class Meta:
        verbose_name = _("follow-up wave")
        verbose_name_plural = _("follow-up waves")
        ordering = ["campaign", "number"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "number"], name="one_wave_per_number"),
        ]

    def __str__(self):
        return f"{self.campaign_id}: {self.number}"

    @property
    def outcome_labels(self) -> list[str]:
        return [str(self.Outcome(value).label) for value in self.outcomes]


class BalanceAlert(models.Model):
    """The low-balance alert's memory (services/spending.py): one row, so that the email
    goes once when the balance falls under ONURIX_LOW_BALANCE_ALERT and again only after
    it went back above."""

    low = models.BooleanField(_("balance low"), default=False)
    balance = models.DecimalField(_("balance"), null=True, blank=True, **CREDITS_FIELD_OPTIONS)
    threshold = models.DecimalField(
        _("alert under"), null=True, blank=True, **CREDITS_FIELD_OPTIONS
    )
    checked_at = models.DateTimeField(_("balance read at"), null=True, blank=True)
    low_since = models.DateTimeField(_("low since"), null=True, blank=True)
    alerted_at = models.DateTimeField(_("email sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("balance alert")
        verbose_name_plural = _("balance alerts")

    def __str__(self):
        return f"{self.balance} ({'low' if self.low else 'ok'})"


class OnurixRequest(models.Model):
    """One HTTP request made to Onurix, kept for audit. Never holds the key."""

    class Kind(models.TextChoices):
        SEND = "send", _("Send calls")
        STATE = "state", _("Read states")
        BALANCE = "balance", _("Read balance")

    class Outcome(models.TextChoices):
        PENDING = "pending", _("Pending")  # intent committed, answer not recorded yet
        ACCEPTED = "accepted", _("Accepted")  # Onurix answered 200 without error
        REFUSED = "refused", _("Refused")  # Onurix answered with an error: nothing sent
        NOT_REACHED = "not_reached", _("Not reached")  # never left: safe to try again
        UNKNOWN = "unknown", _("Unknown")  # may have reached Onurix; never re-sent by itself

    campaign = models.ForeignKey(
        Campaign,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="requests",
        verbose_name=_("campaign"),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.SEND)
    phones = models.TextField(_("phones"), blank=True, help_text=_("Comma-separated."))
    phone_count = models.PositiveIntegerField(_("phone count"), default=0)
    outcome = models.CharField(
        _("outcome"), max_length=12, choices=Outcome.choices, default=Outcome.PENDING
    )
    http_status = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    dispatch_id = models.CharField(_("dispatch id"), max_length=64, blank=True, db_index=True)
    error_code = models.IntegerField(_("error code"), null=True, blank=True)
    error_message = models.TextField(_("error message"), blank=True)
    response_body = models.TextField(_("response body"), blank=True)
    credits = models.DecimalField(_("credits"), default=0, **CREDITS_FIELD_OPTIONS)
    worker = models.CharField(
        _("worker"), max_length=100, blank=True, help_text=_("Host and process that sent it.")
    )
    started_at = models.DateTimeField(_("started at"), auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("Onurix request")
        verbose_name_plural = _("Onurix requests")
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["campaign", "outcome"])]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk} ({self.get_outcome_display()})"


class CallResult(TimeStamped):
    """What happened to one phone of one campaign. Exactly one per phone per campaign."""

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")  # frozen at launch, waiting for a worker
        SENDING = "sending", _("Sending")  # claimed by a worker; request may be in flight
        SENT = "sent", _("Sent")  # Onurix accepted it (Enviado); no answer known yet
        ANSWERED = "answered", _("Answered")  # Onurix reports it delivered (Entregado)
        FAILED = "failed", _("Failed")  # refused, rejected or an Error: state
        UNKNOWN = "unknown", _("Unknown")  # request may have reached Onurix; never auto re-sent
        EXCLUDED = "excluded", _("Excluded")  # left out at launch; see exclusion_reason
        CANCELLED = "cancelled", _("Cancelled")  # campaign cancelled before it was sent

    class ExclusionReason(models.TextChoices):
        DO_NOT_CALL = "do_not_call", _("Marked do-not-call")
        INVALID = "invalid", _("Invalid phone")
        DUPLICATE = "duplicate", _("Duplicate phone")
        FREQUENCY = "frequency", _("Answered a call recently")
        # Found when the worker claimed the phone, or when the person was marked.
        DO_NOT_CALL_LATE = "dnc_late", _("Marked do-not-call after the launch")
        TOO_LONG = "too_long", _("Message too long once personalised")
        # A commercial campaign's phone in the national registry (RegistryList), at the
        # preview, the launch or when the worker claimed it.
        REGISTRY = "registry", _("In the Registro de Números Excluidos")
        # Failed in CAMPAIGN_DEAD_NUMBER_FAILURES campaigns, never answered (PhoneHistory);
        # only when the person who launched accepted to leave such phones out.
        DEAD = "dead", _("Dead number: failed again and again, never answered")
        # A follow-up wave's phone already called CAMPAIGN_MAX_ATTEMPTS_PER_DAY times today
        # by another campaign, found when the wave started or when the worker claimed it.
        CALLED_TODAY = "called_today", _("Already called today")

    FINAL_STATES = (State.ANSWERED, State.FAILED, State.UNKNOWN, State.EXCLUDED, State.CANCELLED)

    campaign = models.ForeignKey(
        Campaign,
        on_delete=models.CASCADE,
        related_name="results",
        verbose_name=_("campaign"),
    )
    phone = models.CharField(_("phone"), max_length=32)
    contact = models.ForeignKey(
        Contact,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="call_results",
        verbose_name=_("contact"),
    )
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.QUEUED)
    exclusion_reason = models.CharField(
        _("exclusion reason"), max_length=12, choices=ExclusionReason.choices, blank=True
    )
    message_text = models.TextField(
        _("message text"), blank=True, help_text=_("The message as rendered for this contact.")
    )
    onurix_state = models.CharField(_("Onurix state"), max_length=255, blank=True)
    call_id = models.CharField(_("call id"), max_length=64, blank=True, db_index=True)
    dispatch_id = models.CharField(_("dispatch id"), max_length=64, blank=True, db_index=True)
    request = models.ForeignKey(
        OnurixRequest,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="results",
        verbose_name=_("request"),
    )
    claim_token = models.UUIDField(_("claim token"), null=True, blank=True, db_index=True)
    send_count = models.PositiveSmallIntegerField(_("times sent"), default=0)
    credits = models.DecimalField(_("credits"), default=0, **CREDITS_FIELD_OPTIONS)
    credits_refunded = models.DecimalField(
        _("credits refunded"), default=0, **CREDITS_FIELD_OPTIONS
    )
    error_code = models.IntegerField(_("error code"), null=True, blank=True)
    error_message = models.TextField(_("error message"), blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    # Triggers keep CampaignTotals (migration 0008), ReportCell and PhoneHistory (0024).
    # On SQLite, a migration that rebuilds this table (most AlterField and RemoveField)
    # drops them: such a migration must create them again. The check after every test
    # (tests/conftest.py) fails if they are gone.

    class Meta:
        verbose_name = _("call result")
        verbose_name_plural = _("call results")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "phone"],
                name="one_result_per_phone_per_campaign",
                violation_error_message=_("This phone is already in the campaign."),
            ),
        ]
        indexes = [
            models.Index(fields=["campaign", "state"]),
            # A search by name in a campaign's results reads the contacts from this index
            # alone, not from the results table (2x faster at 100,000 results).
            models.Index(fields=["campaign", "contact"], name="callresult_campaign_contact"),
            models.Index(fields=["phone", "state"]),
            # Credits per day: sums read from the index alone, never from the table.
            models.Index(
                fields=["sent_at", "credits", "credits_refunded"], name="callresult_sent_credits"
            ),
        ]

    def __str__(self):
        return f"{self.phone} ({self.get_state_display()})"


class CampaignTotals(models.Model):
    """How many phones of a campaign are in each state and the credits they cost.

    Kept by the database, not by Python: triggers on the results table (migration 0008)
    apply every insert, update and delete, whoever makes it (a worker's executemany, the
    admin, a shell), so pages read one row instead of adding up a campaign's results.
    A trigger creates the row with the campaign. `recount_campaign_totals` rebuilds it
    from the results.
    """

    campaign = models.OneToOneField(
        Campaign,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="totals",
        verbose_name=_("campaign"),
    )
    queued = models.BigIntegerField(default=0, db_default=0)
    sending = models.BigIntegerField(default=0, db_default=0)
    sent = models.BigIntegerField(default=0, db_default=0)
    answered = models.BigIntegerField(default=0, db_default=0)
    failed = models.BigIntegerField(default=0, db_default=0)
    unknown = models.BigIntegerField(default=0, db_default=0)
    excluded = models.BigIntegerField(default=0, db_default=0)
    cancelled = models.BigIntegerField(default=0, db_default=0)
    credits = models.DecimalField(max_digits=20, decimal_places=4, default=0, db_default=0)
    credits_refunded = models.DecimalField(max_digits=20, decimal_places=4, default=0, db_default=0)

    class Meta:
        verbose_name = _("campaign totals")
        verbose_name_plural = _("campaign totals")

    def __str__(self):
        return f"{self.campaign_id}: {self.counts}"

    @property
    def counts(self) -> dict[str, int]:
        """Phones per state, every state present."""
        return {state: getattr(self, state) for state in CallResult.State.values}

    @property
    def phone_count(self) -> int:
        """Phones to call: every phone of the campaign but the excluded."""
        return sum(self.counts.values()) - self.excluded

    @property
    def net_credits(self):
        return self.credits - self.credits_refunded


class ReportCell(models.Model):
    """The calls of one campaign sent in one hour of one day (Bogota time) that are now in
    one state, and their credits: what the reports add up instead of the results.

    Kept by the database like CampaignTotals: triggers on the results table (migration
    0024) apply every insert, update and delete of a result with a `sent_at`.
    """

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="+", verbose_name=_("campaign")
    )
    day = models.DateField(_("day"))
    hour = models.PositiveSmallIntegerField(_("hour"))
    state = models.CharField(_("state"), max_length=10, choices=CallResult.State.choices)
    calls = models.BigIntegerField(default=0, db_default=0)
    credits = models.DecimalField(max_digits=20, decimal_places=4, default=0, db_default=0)
    credits_refunded = models.DecimalField(max_digits=20, decimal_places=4, default=0, db_default=0)

    class Meta:
        verbose_name = _("report cell")
        verbose_name_plural = _("report cells")
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "day", "hour", "state"], name="one_report_cell_per_key"
            ),
        ]
        indexes = [models.Index(fields=["day", "campaign"], name="reportcell_day_campaign")]

    def __str__(self):
        return f"{self.campaign_id} {self.day} {self.hour}h {self.state}: {self.calls}"


class PhoneHistory(models.Model):
    """In how many campaigns a phone failed and in how many it answered, over all time.

    Kept by the same triggers as ReportCell: a dead number (failed in at least
    CAMPAIGN_DEAD_NUMBER_FAILURES campaigns, never answered) is one indexed lookup.
    """

    phone = models.CharField(_("phone"), max_length=32, primary_key=True)
    failed = models.BigIntegerField(_("campaigns failed"), default=0, db_default=0)
    answered = models.BigIntegerField(_("campaigns answered"), default=0, db_default=0)

    class Meta:
        verbose_name = _("phone history")
        verbose_name_plural = _("phone histories")
        indexes = [
            models.Index(
                fields=["failed"], condition=Q(answered=0), name="phonehistory_never_answered"
            ),
        ]

    def __str__(self):
        return f"{self.phone}: {self.failed} failed, {self.answered} answered"


class TestCall(TimeStamped):
    """A single call of a campaign's content to one phone, before launch.

    Kept apart from the campaign's results so it never counts as, or blocks, a real call.
    """

    __test__ = False  # not a pytest test class, despite the name

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="test_calls", verbose_name=_("campaign")
    )
    phone = models.CharField(_("phone"), max_length=16, validators=[phone_validator])
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    state = models.CharField(
        _("state"),
        max_length=10,
        choices=CallResult.State.choices,
        default=CallResult.State.SENDING,
    )
    onurix_state = models.CharField(_("Onurix state"), max_length=255, blank=True)
    call_id = models.CharField(_("call id"), max_length=64, blank=True)
    dispatch_id = models.CharField(_("dispatch id"), max_length=64, blank=True)
    request = models.ForeignKey(
        OnurixRequest,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="test_calls",
        verbose_name=_("request"),
    )
    credits = models.DecimalField(_("credits"), default=0, **CREDITS_FIELD_OPTIONS)
    error_code = models.IntegerField(_("error code"), null=True, blank=True)
    error_message = models.TextField(_("error message"), blank=True)

    class Meta:
        verbose_name = _("test call")
        verbose_name_plural = _("test calls")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.phone} ({self.get_state_display()})"


class WorkerHeartbeat(models.Model):
    """A background worker that is alive: `manage.py campaigns_worker` writes its row every
    few seconds. Health checks and pages read the youngest one."""

    worker = models.CharField(_("worker"), max_length=100, unique=True)
    started_at = models.DateTimeField(_("started at"), auto_now_add=True)
    beat_at = models.DateTimeField(_("last seen at"), db_index=True)

    class Meta:
        verbose_name = _("worker heartbeat")
        verbose_name_plural = _("worker heartbeats")

    def __str__(self):
        return self.worker


class OnurixSlot(models.Model):
    """One of the ONURIX_CONCURRENCY `call/send` requests the Onurix account may have in
    flight at once, shared by every worker on every server (services/limiter.py). A free
    slot has no holder; a held one names the batch and the worker sending it, and a lease
    after which a silent holder's slot is taken back."""

    number = models.PositiveIntegerField(_("number"), unique=True)
    holder = models.CharField(_("held by batch"), max_length=64, blank=True, default="")
    worker = models.CharField(_("worker"), max_length=100, blank=True, default="")
    lease_until = models.DateTimeField(_("held until"), null=True, blank=True)

    class Meta:
        verbose_name = _("Onurix request slot")
        verbose_name_plural = _("Onurix request slots")

    def __str__(self):
        return str(self.number)


class OnurixPace(models.Model):
    """When the account's next `call/send` may start, under ONURIX_MAX_REQUESTS_PER_SECOND:
    one row, moved forward by one interval for each request any worker makes
    (services/limiter.py). Seconds since the epoch, read from the database's clock on
    PostgreSQL so that servers with skewed clocks share one pace."""

    next_at = models.FloatField(_("next request at"), default=0)
    # A dispatch run that found every slot held says so here (the run's id and when):
    # dispatches that already hold a slot take no more until it gets one, so a campaign
    # launched while another sends is not starved.
    wanted_by = models.CharField(_("slot wanted by"), max_length=64, blank=True, default="")
    wanted_at = models.DateTimeField(_("slot wanted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("Onurix request pace")
        verbose_name_plural = _("Onurix request pace")

    def __str__(self):
        return str(self.next_at)


class ActivityEntry(models.Model):
    """One action that spent credits, changed consent or changed access: who, when, what,
    and from which address. Written by `activity_record` in the transaction of the action
    itself (an action rolled back leaves no entry), never edited nor deleted.

    The target is kept as text and a type and id, not a foreign key: the entry outlives
    the deleted contact, draft or user it tells about. The username is kept beside the
    user for the same reason.
    """

    class Action(models.TextChoices):
        CAMPAIGN_LAUNCH = "campaign_launch", _("Campaign launched")
        CAMPAIGN_PAUSE = "campaign_pause", _("Campaign paused")
        CAMPAIGN_RESUME = "campaign_resume", _("Campaign resumed")
        CAMPAIGN_CANCEL = "campaign_cancel", _("Campaign cancelled")
        CAMPAIGN_RESEND = "campaign_resend", _("Unknown phones sent again")
        CAMPAIGN_TEST_CALL = "campaign_test_call", _("Test call")
        CAMPAIGN_DELETE = "campaign_delete", _("Draft deleted")
        CAMPAIGN_CREDIT_CAP = "campaign_credit_cap", _("Credit limit changed")
        # The worker's own pauses (Onurix faults, credits, limits) and its resumes.
        CAMPAIGN_AUTO_PAUSE = "campaign_auto_pause", _("Campaign paused by the system")
        CAMPAIGN_AUTO_RESUME = "campaign_auto_resume", _("Campaign resumed by the system")
        DO_NOT_CALL_MARK = "do_not_call_mark", _("Marked do-not-call")
        DO_NOT_CALL_CLEAR = "do_not_call_clear", _("Do-not-call mark cleared")
        CONTACTS_DELETE = "contacts_delete", _("Contacts deleted")
        GROUP_DELETE = "group_delete", _("Group deleted")
        AUDIO_DELETE = "audio_delete", _("Audio deleted")
        USER_CREATE = "user_create", _("User created")
        USER_DELETE = "user_delete", _("User deleted")
        USER_ROLES = "user_roles", _("Roles changed")
        USER_ACCESS = "user_access", _("Access changed")
        USER_PASSWORD = "user_password", _("Password changed")
        ROLE_PERMISSIONS = "role_permissions", _("Role permissions changed")

    class TargetType(models.TextChoices):
        CAMPAIGN = "campaign", _("campaign")
        CONTACT = "contact", _("contact")
        GROUP = "group", _("group")
        AUDIO = "audio", _("audio code")
        USER = "user", _("user")
        ROLE = "role", _("role")

    at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("user"),
    )
    username = models.CharField(
        _("username"), max_length=150, blank=True, help_text=_("Empty: the system did it.")
    )
    action = models.CharField(_("action"), max_length=30, choices=Action.choices)
    target_type = models.CharField(
        _("target type"), max_length=10, choices=TargetType.choices, blank=True
    )
    target_id = models.BigIntegerField(_("target id"), null=True, blank=True)
    target = models.CharField(_("target"), max_length=255, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)
    address = models.GenericIPAddressField(_("address"), null=True, blank=True)

    class Meta:
        verbose_name = _("activity entry")
        verbose_name_plural = _("activity")
        ordering = ["-at", "-id"]
        # The page's filters: by person and by action, newest first.
        indexes = [
            models.Index(fields=["username", "-at"], name="activity_username_at"),
            models.Index(fields=["action", "-at"], name="activity_action_at"),
        ]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.username or '-'} {self.action}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValueError("An activity entry is never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("An activity entry is never deleted.")

    @property
    def details_text(self) -> str:
        """The details in words of the current language: "reason: Se quejó · how many: 3"."""
        # In the labels' order, not the stored one: PostgreSQL's jsonb keeps keys sorted by
        # length, SQLite as written.
        order = {key: index for index, key in enumerate(_ACTIVITY_DETAIL_LABELS)}
        details = sorted(
            (self.details or {}).items(), key=lambda item: order.get(item[0], len(order))
        )
        return " · ".join(
            f"{_ACTIVITY_DETAIL_LABELS.get(key, key)}: {_activity_detail_value(key, value)}"
            for key, value in details
        )


class RegistryList(models.Model):
    """One load of the Registro de Números Excluidos (RNE, Ley 2300 de 2023): the numbers
    whose owners refused commercial calls, as published on `list_date`.

    Only the current list keeps its numbers (RegistryNumber); a new load replaces it at
    once (services/registry.py) and the older loads stay as a record of who loaded what.
    """

    class State(models.TextChoices):
        LOADING = "loading", _("Loading")  # being read; not used by campaigns yet
        LOADED = "loaded", _("Loaded")  # read completely (current, or replaced since)
        FAILED = "failed", _("Failed")  # could not be loaded; see error

    list_date = models.DateField(_("list date"))
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.LOADING)
    error = models.CharField(_("error"), max_length=500, blank=True)
    # An upload from the page, kept until the worker has read it; the command reads its
    # file in place.
    upload = models.FileField(_("uploaded file"), upload_to="registry/", blank=True)
    file_name = models.CharField(_("file"), max_length=255, blank=True)
    numbers = models.PositiveIntegerField(_("numbers"), default=0)
    skipped = models.PositiveIntegerField(_("lines skipped"), default=0)
    is_current = models.BooleanField(_("current"), default=False)
    loaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("loaded by"),
    )
    created_at = models.DateTimeField(_("loaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("registry list")
        verbose_name_plural = _("registry lists")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_current"], condition=Q(is_current=True), name="one_current_registry"
            ),
        ]

    def __str__(self):
        return f"RNE {self.list_date:%d/%m/%Y}"


class RegistryNumber(models.Model):
    """One number of a RegistryList, normalised like every phone (campaigns/phones.py)."""

    registry_list = models.ForeignKey(
        RegistryList, on_delete=models.CASCADE, related_name="+", verbose_name=_("list")
    )
    phone = models.CharField(_("phone"), max_length=16)

    class Meta:
        verbose_name = _("registry number")
        verbose_name_plural = _("registry numbers")
        constraints = [
            # Also the index of every lookup (list, phone IN ...).
            models.UniqueConstraint(
                fields=["registry_list", "phone"], name="one_registry_number_per_list"
            ),
        ]

    def __str__(self):
        return self.phone


_ACTIVITY_DETAIL_LABELS = {
    "count": pgettext_lazy("activity detail", "how many"),
    "phones": pgettext_lazy("activity detail", "phones"),
    "phone": pgettext_lazy("activity detail", "phone"),
    "reason": pgettext_lazy("activity detail", "reason"),
    "source": pgettext_lazy("activity detail", "from"),
    "calls_cancelled": pgettext_lazy("activity detail", "pending calls cancelled"),
    "estimated_credits": pgettext_lazy("activity detail", "estimated credits"),
    "scheduled": pgettext_lazy("activity detail", "scheduled"),
    "state": pgettext_lazy("activity detail", "state"),
    "credits": pgettext_lazy("activity detail", "credits"),
    "code": pgettext_lazy("activity detail", "code"),
    "added": pgettext_lazy("activity detail", "added"),
    "removed": pgettext_lazy("activity detail", "removed"),
    "changes": pgettext_lazy("activity detail", "changes"),
    "is_active": pgettext_lazy("activity detail", "active"),
    "is_staff": pgettext_lazy("activity detail", "staff"),
    "is_superuser": pgettext_lazy("activity detail", "administrator"),
    "credit_cap": pgettext_lazy("activity detail", "credit limit"),
    "pause_reason": pgettext_lazy("activity detail", "reason"),
    "message": pgettext_lazy("activity detail", "message"),
}

_ACTIVITY_YES = pgettext_lazy("activity detail", "yes")
_ACTIVITY_NO = pgettext_lazy("activity detail", "no")
_ACTIVITY_VALUE_LABELS = {
    "source": DoNotCallChange.Source.choices,
    "state": CallResult.State.choices,
    "pause_reason": Campaign.PauseReason.choices,
}


def _activity_detail_value(key: str, value) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(_ACTIVITY_YES if value else _ACTIVITY_NO)
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    if isinstance(value, dict):  # {"field": [before, after]}
        return "; ".join(
            f"{_ACTIVITY_DETAIL_LABELS.get(field, field)} "
            f"{_activity_detail_value(field, before)} → {_activity_detail_value(field, after)}"
            for field, (before, after) in value.items()
        )
    labels = _ACTIVITY_VALUE_LABELS.get(key)
    if labels is not None:
        return str(dict(labels).get(value, value))
    return str(value)
