"""One `call/send` request in our terms: send it (HTTP only), say what it means for each
phone, and keep its audit record.

The dispatcher (dispatch.py) and the test call use these. Nothing here holds a database
transaction while Onurix is called: the caller commits the request's intent before
`send_phones` and records what came back after it (`record_request`).
"""

import json
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext_lazy

from .. import onurix, onurix_codes
from ..bulk_sql import fit_instance
from ..models import CallResult, Campaign, OnurixRequest

Outcome = OnurixRequest.Outcome


@dataclass
class SendOutcome:
    """What one `call/send` request did, in the model's words."""

    outcome: str  # an OnurixRequest.Outcome value
    phones: list[str]  # the phones requested
    calls: dict[str, onurix.CallItem] = field(default_factory=dict)  # by requested phone
    dispatch_id: str = ""
    error_code: int | None = None
    error_message: str = ""  # our description, with Onurix's words in it
    onurix_message: str = ""  # Onurix's own words, for the campaign's page
    # A Campaign.PauseReason and its message when the whole campaign must stop at once
    # (credentials, credits): a refusal of the account, not of these phones.
    pause_reason: str = ""
    pause_message: str = ""
    # The one requested phone a refusal named (in any format): that phone is the problem.
    invalid_phone: str = ""
    http_status: int | None = None
    raw: dict | None = None  # Onurix's answer, for the audit record (never holds the key)

    @property
    def refused_whole(self) -> bool:
        """A refusal that names no phone and is not about the account: counts toward the
        refusal breaker, and is split to find a bad phone."""
        return self.outcome == Outcome.REFUSED and not self.pause_reason and not self.invalid_phone

    def state_for(self, phone: str) -> str:
        """A phone's state after this request alone (a test call). An accepted phone
        Onurix did not list is sent (its call id unknown) when the dispatch id allows
        reading its state later, unknown otherwise."""
        if self.outcome == Outcome.ACCEPTED:
            known = phone in self.calls or self.dispatch_id
            return CallResult.State.SENT if known else CallResult.State.UNKNOWN
        if self.outcome == Outcome.REFUSED:
            return CallResult.State.FAILED
        if self.outcome == Outcome.NOT_REACHED:
            return CallResult.State.QUEUED
        return CallResult.State.UNKNOWN


def send_phones(*, campaign: Campaign, phones: list[str], message: str) -> SendOutcome:
    """One `call/send` for phones sharing a message. HTTP only: touches no database."""
    client = onurix.get_onurix_client()
    content = (
        {"audio_code": campaign.audio_code.code}
        if campaign.uses_audio
        else {"voice": campaign.voice, "message": message}
    )
    try:
        result = client.send_call(
            phones=phones,
            retries=campaign.retries,
            leave_voicemail=campaign.leave_voicemail,
            **content,
        )
    except onurix.OnurixAuthError as error:
        return _refusal(
            phones,
            error,
            pause_reason=Campaign.PauseReason.CREDENTIALS,
            pause_message=gettext_lazy(
                "Onurix rejected the client id or key, or this server's IP: fix "
                "ONURIX_CLIENT_ID / ONURIX_KEY or allow the IP in the Onurix portal (menu "
                "“Seguridad”), then resume. Onurix said: “%(said)s”"
            ),
        )
    except onurix.OnurixInsufficientCredits as error:
        return _refusal(
            phones,
            error,
            pause_reason=Campaign.PauseReason.CREDITS,
            pause_message=gettext_lazy(
                "Onurix says the credits ran out: buy credits, then resume. Onurix said: “%(said)s”"
            ),
        )
    except (onurix.OnurixRefused, onurix.OnurixInvalidRequest) as error:
        return _refusal(phones, error)
    except onurix.OnurixNotReached as error:
        return SendOutcome(Outcome.NOT_REACHED, phones, error_message=error.message)
    except onurix.OnurixUnknownOutcome as error:
        return SendOutcome(
            Outcome.UNKNOWN,
            phones,
            error_code=error.code,
            error_message=error.message,
            http_status=error.status,
        )
    return SendOutcome(
        Outcome.ACCEPTED,
        phones,
        calls=onurix.match_calls(phones, result.calls),
        dispatch_id=result.dispatch_id,
        http_status=200,
        raw=result.raw,
    )


def _refusal(
    phones: list[str],
    error: onurix.OnurixError,
    *,
    pause_reason: str = "",
    pause_message: str = "",
) -> SendOutcome:
    said = error.onurix_message or error.message
    named = "" if pause_reason else onurix_codes.named_phone(said, phones) or ""
    return SendOutcome(
        Outcome.REFUSED,
        phones,
        error_code=error.code,
        error_message=error.message,
        onurix_message=said,
        pause_reason=pause_reason,
        # Lazy, put in words by the thread that records it (not the pool thread).
        pause_message=pause_message,
        invalid_phone=named,
        http_status=error.status,
    )


def record_request(*, request: OnurixRequest, outcome: SendOutcome) -> None:
    """Write what Onurix answered onto the request's audit record."""
    request.outcome = outcome.outcome
    request.dispatch_id = outcome.dispatch_id
    request.error_code = outcome.error_code
    request.error_message = outcome.error_message
    request.finished_at = timezone.now()
    request.http_status = outcome.http_status
    if outcome.raw is not None:
        request.response_body = json.dumps(outcome.raw, ensure_ascii=False)
    request.credits = sum((call.credits for call in outcome.calls.values()), Decimal(0))
    fit_instance(request, ["dispatch_id", "error_message", "response_body"])
    request.save(
        update_fields=[
            "outcome",
            "dispatch_id",
            "error_code",
            "error_message",
            "finished_at",
            "http_status",
            "response_body",
            "credits",
        ]
    )
