"""Consent and spend as a stateful property: hypothesis interleaves what people and the
worker do to a few campaigns over a small audience, against the sandbox over HTTP, and
after every step checks the promises the product makes about phones and credits.

Steps: draft, edit a draft (possibly a stale copy of a launched one), launch, pause,
resume, cancel, re-send unknown, mark and clear do-not-call, test call, a dispatch run
with random upstream faults (520s, connections dropped after the calls were placed,
Onurix unreachable), and the periodic sweep.

Invariants, after every step:
- no phone is called twice in a campaign, unless a person re-sent it while its outcome
  was unknown (and then once more per re-send at most);
- no call goes to a phone that was do-not-call when the step began;
- no call is made for a campaign that was not sending when the step began, and a
  dispatch run sends only its own campaign;
- the counts a person confirmed (the launch preview, the re-send confirmation) equal the
  phones queued by that action;
- every campaign's totals equal a recount of its results.

Bounded for `make test` (HYPOTHESIS_PROFILE=explore widens the search).
"""

import os
from collections import Counter

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from django_tasks_db.models import DBTaskResult
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from campaigns import services
from campaigns.models import (
    CallResult,
    Campaign,
    Contact,
    ContactGroup,
    DoNotCallChange,
    OnurixRequest,
    TestCall,
)
from campaigns.selectors import campaign_totals_from_results
from tests.factories import make_user

AUDIENCE = [f"5730055500{n:02d}" for n in range(6)]
OUTSIDER = "573005559999"  # a phone outside the audience, for test calls
PHONES = [*AUDIENCE, OUTSIDER]
MAX_CAMPAIGNS = 3
FAULTS = {
    "none": {"error_520_rate": 0.0, "drop_rate": 0.0},
    "some 520s": {"error_520_rate": 0.5, "drop_rate": 0.0},
    "dropped after placing": {"error_520_rate": 0.0, "drop_rate": 1.0},
}
CLOSED_PORT = "http://127.0.0.1:9/api/v1"

campaign_index = st.integers(min_value=0, max_value=MAX_CAMPAIGNS - 1)


def _reachable() -> set[tuple[str, str]]:
    """(from, to) state pairs one step may produce: one or two moves of the product's
    state machine, written here as the issue states it, not read from the code."""
    State = Campaign.State
    moves = {
        (State.DRAFT, State.SCHEDULED),  # launch
        (State.DRAFT, State.SENDING),  # launch
        (State.SCHEDULED, State.SENDING),  # the start time came
        (State.SCHEDULED, State.PAUSED),
        (State.SENDING, State.PAUSED),  # a person, or Onurix faults
        (State.PAUSED, State.SENDING),  # resume, or the sweep after Onurix faults
        (State.PAUSED, State.SCHEDULED),  # resume before the start time
        (State.SCHEDULED, State.CANCELLED),
        (State.SENDING, State.CANCELLED),
        (State.PAUSED, State.CANCELLED),
        (State.SENDING, State.FINISHED),
        (State.FINISHED, State.SENDING),  # re-send unknown phones
    }
    return moves | {(a, c) for a, b in moves for b2, c in moves if b == b2}


REACHABLE = _reachable()


class ConsentAndSpend(RuleBasedStateMachine):
    """One example: a fresh database and sandbox, then a sequence of steps."""

    # Set by the test function: the sandbox and Django's settings fixture.
    sandbox = None
    django_settings = None

    def __init__(self):
        super().__init__()
        for model in (TestCall, CallResult, OnurixRequest, Campaign, DoNotCallChange):
            model.objects.all().delete()
        Contact.objects.all().delete()
        ContactGroup.objects.all().delete()
        DBTaskResult.objects.all().delete()
        self.sandbox.state.configure(error_520_rate=0.0, drop_rate=0.0)
        self.sandbox.state.reset()
        self.django_settings.ONURIX_BASE_URL = self.sandbox.url
        self.group = ContactGroup.objects.create(name="Pacientes")
        for phone in AUDIENCE:
            Contact.objects.create(phone=phone, first_name="Ana").groups.add(self.group)
        self.launcher = make_user()
        from django.contrib.auth.models import Group

        from campaigns.roles import LAUNCHER, ensure_roles

        ensure_roles()
        self.launcher.groups.add(Group.objects.get(name=LAUNCHER))
        self.campaigns: list[int] = []
        self.message_of: dict[str, int] = {}  # message text -> campaign id
        self.seen = 0  # sandbox calls already accounted for
        self.calls: Counter = Counter()  # (campaign id, phone) -> calls
        self.allowed: Counter = Counter()  # (campaign id, phone) -> calls a person allowed
        self.states: dict[int, str] = {}  # campaign id -> state after the last step
        # Every example starts with one campaign launched and one draft, so that short
        # runs reach the worker too.
        self.new_draft()
        self.launch(0)
        self.new_draft()

    # -- helpers ---------------------------------------------------------------------------

    def _campaign(self, index: int) -> Campaign | None:
        if not self.campaigns:
            return None
        return Campaign.objects.get(pk=self.campaigns[index % len(self.campaigns)])

    def _do_not_call(self) -> set[str]:
        return set(Contact.objects.filter(do_not_call=True).values_list("phone", flat=True))

    def _new_calls(self) -> list:
        calls = self.sandbox.state.calls()
        fresh, self.seen = calls[self.seen :], len(calls)
        return fresh

    def _account(self, calls, *, may_call: set[str], campaign_id: int) -> None:
        for call in calls:
            owner = self.message_of.get(call.message)
            assert owner == campaign_id, f"a call of campaign {owner} in a run of {campaign_id}"
            assert call.phone in may_call, f"{call.phone} called while it might not be"
            self.calls[(owner, call.phone)] += 1

    # -- people ----------------------------------------------------------------------------

    @precondition(lambda self: len(self.campaigns) < MAX_CAMPAIGNS)
    @rule()
    def new_draft(self):
        message = f"Recordatorio número {len(self.campaigns) + 1}."
        campaign = services.campaign_save(
            user=self.launcher,
            name=message,
            voice="Mariana",
            message=message,
            audio_code=None,
            retries=1,
            leave_voicemail=True,
            groups=[self.group],
        )
        self.campaigns.append(campaign.pk)
        self.message_of[message] = campaign.pk

    @rule(index=campaign_index, retries=st.integers(1, 3))
    def edit_draft(self, index, retries):
        campaign = self._campaign(index)
        if campaign is None:
            return
        stale = Campaign.objects.get(pk=campaign.pk)
        stale.state = Campaign.State.DRAFT  # the copy a form loaded before the launch
        before = campaign.retries
        try:
            services.campaign_save(
                campaign=stale,
                user=self.launcher,
                name=campaign.name,
                voice="Mariana",
                message=campaign.message,
                audio_code=None,
                retries=retries,
                leave_voicemail=True,
                groups=[self.group],
            )
        except services.CampaignNotDraft:
            assert campaign.state != Campaign.State.DRAFT
            assert Campaign.objects.get(pk=campaign.pk).retries == before
        else:
            assert campaign.state == Campaign.State.DRAFT

    @rule(index=campaign_index)
    def launch(self, index):
        campaign = self._campaign(index)
        if campaign is None:
            return
        shown = services.campaign_preview(campaign=campaign).phones
        try:
            launched = services.campaign_launch(campaign=campaign, user=self.launcher)
        except ValidationError:
            assert shown == 0  # nobody left to call
            return
        if launched:
            queued = campaign.results.filter(state=CallResult.State.QUEUED).count()
            assert queued == shown, "the preview's count is what the launch queued"
        else:
            assert campaign.state != Campaign.State.DRAFT

    @rule(index=campaign_index)
    def pause(self, index):
        if (campaign := self._campaign(index)) is not None:
            assert services.campaign_pause(campaign=campaign, user=self.launcher) == (
                campaign.can_pause
            )

    @rule(index=campaign_index)
    def resume(self, index):
        if (campaign := self._campaign(index)) is not None:
            assert services.campaign_resume(campaign=campaign, user=self.launcher) == (
                campaign.can_resume
            )

    @rule(index=campaign_index)
    def cancel(self, index):
        if (campaign := self._campaign(index)) is not None:
            cancelled = services.campaign_cancel(campaign=campaign, user=self.launcher)
            assert (cancelled is not None) == campaign.can_cancel

    @rule(index=campaign_index)
    def resend_unknown(self, index):
        campaign = self._campaign(index)
        if campaign is None:
            return
        from campaigns.selectors import campaign_unknown_estimate, resendable_unknown

        shown = campaign_unknown_estimate(campaign=campaign).phones
        phones = list(resendable_unknown(campaign=campaign).values_list("phone", flat=True))
        try:
            count = services.campaign_resend_unknown(
                campaign=campaign, user=self.launcher, expected=shown
            )
        except ValidationError:
            assert not campaign.can_resend
            return
        assert campaign.can_resend
        assert count == shown == len(phones), "the confirmation's count is what was queued"
        for phone in phones:
            self.allowed[(campaign.pk, phone)] += 1
        campaign.refresh_from_db()
        if campaign.state == Campaign.State.PAUSED:
            assert campaign.pause_reason  # still paused: a re-send never resumes

    @rule(phone=st.sampled_from(AUDIENCE))
    def mark_do_not_call(self, phone):
        services.contacts_set_do_not_call(
            contacts=Contact.objects.filter(phone=phone),
            do_not_call=True,
            reason="Pidió no ser llamada",
            source=DoNotCallChange.Source.FORM,
            user=self.launcher,
        )
        assert not CallResult.objects.filter(phone=phone, state=CallResult.State.QUEUED).exists()

    @rule(phone=st.sampled_from(AUDIENCE))
    def mark_do_not_call_behind_the_back(self, phone):
        """A mark written without the service (a shell, a bulk SQL fix): queued calls to
        the phone stay queued, and only the check when a call leaves stops them."""
        Contact.objects.filter(phone=phone).update(do_not_call=True)

    @rule(phone=st.sampled_from(AUDIENCE))
    def clear_do_not_call(self, phone):
        services.contacts_set_do_not_call(
            contacts=Contact.objects.filter(phone=phone),
            do_not_call=False,
            reason="Pidió volver a recibir recordatorios",
            source=DoNotCallChange.Source.FORM,
            user=self.launcher,
        )

    @rule(index=campaign_index, phone=st.sampled_from(PHONES))
    def test_call(self, index, phone):
        campaign = self._campaign(index)
        if campaign is None:
            return
        do_not_call = self._do_not_call()
        refused = False
        try:
            services.campaign_test_call(campaign=campaign, phone=phone, user=self.launcher)
        except ValidationError:
            refused = True
        calls = self._new_calls()
        if phone in do_not_call or not campaign.can_launch:
            assert refused and calls == []
        for call in calls:
            assert call.phone == phone not in do_not_call

    # -- the worker ------------------------------------------------------------------------

    @rule(fault=st.sampled_from([*FAULTS, "unreachable"]))
    def worker_runs(self, fault):
        """The worker runs each campaign's dispatch once, under one upstream fault."""
        for campaign_id in self.campaigns:
            self._dispatch(Campaign.objects.get(pk=campaign_id), fault)

    @rule(index=campaign_index, fault=st.sampled_from([*FAULTS, "unreachable"]))
    def dispatch(self, index, fault):
        if (campaign := self._campaign(index)) is not None:
            self._dispatch(campaign, fault)

    def _dispatch(self, campaign: Campaign, fault: str) -> None:
        do_not_call = self._do_not_call()
        sending = campaign.state in Campaign.SENDING_STATES
        if fault == "unreachable":
            self.django_settings.ONURIX_BASE_URL = CLOSED_PORT
        else:
            self.sandbox.state.configure(**FAULTS[fault])
        try:
            services.campaign_dispatch(campaign_id=campaign.pk)
        finally:
            self.django_settings.ONURIX_BASE_URL = self.sandbox.url
            self.sandbox.state.configure(**FAULTS["none"])
        calls = self._new_calls()
        if not sending:
            assert calls == [], f"calls for a campaign that was {campaign.state}"
        self._account(calls, may_call=set(AUDIENCE) - do_not_call, campaign_id=campaign.pk)

    @rule()
    def sweep(self):
        services.campaigns_sweep()
        assert self._new_calls() == []  # the sweep wakes work up; it never calls

    # -- promises --------------------------------------------------------------------------

    @invariant()
    def nobody_called_twice_unless_a_person_re_sent(self):
        for key, count in self.calls.items():
            assert count <= 1 + self.allowed[key], f"{key} called {count} times"

    @invariant()
    def campaigns_only_move_along_the_state_machine(self):
        for campaign_id, state in Campaign.objects.values_list("pk", "state"):
            before = self.states.get(campaign_id, Campaign.State.DRAFT)
            assert state == before or (before, state) in REACHABLE, f"{before} -> {state}"
            self.states[campaign_id] = state

    @invariant()
    def totals_equal_a_recount(self):
        for campaign in Campaign.objects.select_related("totals"):
            summed = campaign_totals_from_results(campaign=campaign)
            kept = {field: getattr(campaign.totals, field) for field in summed}
            assert kept == summed, campaign.name


@pytest.mark.django_db(transaction=True)
def test_consent_and_spend_hold_whatever_people_and_the_worker_do(onurix, settings):
    settings.ONURIX_NOT_REACHED_RETRIES = 0  # unreachable pauses at once, no backoff sleep
    settings.ONURIX_CIRCUIT_BREAKER_THRESHOLD = 2
    settings.ONURIX_BATCH_SIZE = 2
    settings.CAMPAIGN_TEST_CALLS_PER_HOUR = 1000
    settings.CAMPAIGN_CONTACT_FREQUENCY_DAYS = 0
    ConsentAndSpend.sandbox = onurix(settle_seconds=3600)
    ConsentAndSpend.django_settings = settings
    examples = int(os.environ.get("CONSENT_MACHINE_EXAMPLES", "25"))
    with translation.override("en"):
        run_state_machine_as_test(
            ConsentAndSpend,
            settings=hypothesis_settings(
                max_examples=examples,
                stateful_step_count=30,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            ),
        )
