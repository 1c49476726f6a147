"""Who a sign-in attempt comes from, and when an address is locked (django-axes).

- The client address: behind `DJANGO_TRUSTED_PROXY_COUNT` proxies that each append the
  address they received the request from to X-Forwarded-For, the client is the Nth entry
  from the right. Entries further left are written by the client and could be anything.
  Without enough entries the request did not come through the proxies, and its peer
  address (REMOTE_ADDR) is the client.
- Locks: a username is locked from one address after AXES_FAILURE_LIMIT failures (axes'
  own rule); an address is locked for every username after
  DJANGO_LOGIN_FAILURE_LIMIT_PER_ADDRESS failures across usernames, so one address cannot
  try a few passwords on many accounts. Axes compares one count to one limit, so an
  address over its own limit reports the username limit as its count.
"""

import ipaddress

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum


def client_address(request):
    """Return the client's IP address, read through the trusted proxies."""
    remote_addr = request.META.get("REMOTE_ADDR")
    proxy_count = settings.DJANGO_TRUSTED_PROXY_COUNT
    if proxy_count <= 0:
        return remote_addr
    forwarded = [entry.strip() for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [entry for entry in forwarded if entry]
    if len(forwarded) < proxy_count:
        return remote_addr
    candidate = forwarded[-proxy_count]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote_addr


class AddressLimitDatabaseHandler(AxesDatabaseHandler):
    """Axes' database handler, plus a failure limit per address across usernames."""

    def get_failures(self, request, credentials=None):
        failures = super().get_failures(request, credentials)
        address_failures = (
            AccessAttempt.objects.filter(
                ip_address=request.axes_ip_address,
                attempt_time__gte=get_cool_off_threshold(request),
            ).aggregate(total=Sum("failures_since_start"))["total"]
            or 0
        )
        if address_failures >= settings.DJANGO_LOGIN_FAILURE_LIMIT_PER_ADDRESS:
            return max(failures, get_failure_limit(request, credentials))
        return failures
