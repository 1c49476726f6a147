"""Whether Onurix answers, in words a person can act on."""

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import onurix

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class OnurixHealth:
    """Whether Onurix answers with our credentials, and what to do when it does not."""

    ok: bool
    checked_at: datetime
    balance: Decimal | None = None
    problem: str = ""
    fix: str = ""


def onurix_health() -> OnurixHealth:
    """Ask Onurix for the balance and turn any failure into a diagnosis a person can act on.

    Never raises for an Onurix failure and never puts the key in what it returns.
    """
    now = timezone.now()
    if not settings.ONURIX_CLIENT_ID or not settings.ONURIX_KEY:
        return OnurixHealth(
            ok=False,
            checked_at=now,
            problem=_("Onurix is not configured."),
            fix=_("Set ONURIX_CLIENT_ID and ONURIX_KEY in the .env file and restart."),
        )
    try:
        balance = onurix.get_onurix_client().balance()
    except onurix.OnurixAuthError:
        return OnurixHealth(
            ok=False,
            checked_at=now,
            problem=_("Onurix rejected the client id or the key."),
            fix=_(
                "Check ONURIX_CLIENT_ID and ONURIX_KEY in the .env file against the Onurix "
                "portal, and allow this server's public IP in the portal's menu “Seguridad”."
            ),
        )
    except onurix.OnurixNotReached:
        return OnurixHealth(
            ok=False,
            checked_at=now,
            problem=_("Onurix cannot be reached at %(url)s.") % {"url": settings.ONURIX_BASE_URL},
            fix=_(
                "Check this server's network connection and ONURIX_BASE_URL in the .env file. "
                "For a local run, start the sandbox with make run."
            ),
        )
    except onurix.OnurixUnknownOutcome:
        return OnurixHealth(
            ok=False,
            checked_at=now,
            problem=_("Onurix did not give a usable answer in time."),
            fix=_("Onurix may be busy or down: try again in a few minutes."),
        )
    except onurix.OnurixError as error:
        logger.warning("Onurix balance check refused: status=%s code=%s", error.status, error.code)
        return OnurixHealth(
            ok=False,
            checked_at=now,
            problem=_("Onurix refused the request (code %(code)s): %(message)s")
            % {"code": error.code, "message": error.message},
            fix=_("Check the Onurix account in its portal, or contact Onurix support."),
        )
    return OnurixHealth(ok=True, checked_at=now, balance=balance.credits)
