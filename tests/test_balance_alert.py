"""The low-balance alert: the sweep reads the balance from the sandbox over HTTP, emails the
administrators once per fall under ONURIX_LOW_BALANCE_ALERT, and the dashboard warns."""

import socket

import pytest
from django.core import mail
from django.urls import reverse

from campaigns import services
from campaigns.models import BalanceAlert
from tests.factories import make_user
from tests.onurix_fixtures import SANDBOX_KEY


@pytest.fixture
def alert(settings, onurix):
    """A sandbox with 400 credits, an alert under 500, and one administrator."""
    settings.ONURIX_LOW_BALANCE_ALERT = 500
    settings.ONURIX_CREDITS_PER_CALL = 2.0
    settings.ADMINS = [("andres@clinica.example", "andres@clinica.example")]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    return onurix(balance=400)


def _sweep() -> str:
    return services.campaigns_sweep()["balance_alert"]


def test_falling_under_the_alert_emails_the_administrators_once(db, alert):
    assert _sweep() == "alerted"
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["andres@clinica.example"]
    assert email.subject == "Saldo de Onurix bajo: 400 créditos"
    # 400 credits at 2 credits a call (the configured price: no calls yet).
    assert "Todavía alcanza para unas 200 llamadas" in email.body
    assert SANDBOX_KEY not in email.body + email.subject

    # Still low, minute after minute: no second email.
    assert _sweep() == "still_low"
    assert _sweep() == "still_low"
    assert len(mail.outbox) == 1


def test_a_new_fall_after_the_balance_went_back_above_alerts_again(db, alert):
    assert _sweep() == "alerted"
    alert.state.configure(balance=5000)  # credits bought
    assert _sweep() == "recovered"
    assert _sweep() == "ok"
    alert.state.configure(balance=120)
    assert _sweep() == "alerted"
    assert [email.subject for email in mail.outbox] == [
        "Saldo de Onurix bajo: 400 créditos",
        "Saldo de Onurix bajo: 120 créditos",
    ]


def test_an_email_that_could_not_leave_is_tried_again_at_the_next_sweep(db, alert, settings):
    with socket.socket() as closed:  # a port nobody listens on: the SMTP server is down
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", port, False
    settings.EMAIL_TIMEOUT = 2

    assert _sweep() == "not_sent"
    assert not BalanceAlert.objects.get().low

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert _sweep() == "alerted"
    assert len(mail.outbox) == 1


def test_without_admins_the_superusers_get_it(db, alert, settings):
    settings.ADMINS = []
    make_user(username="camila", email="camila@clinica.example", is_superuser=True)
    make_user(username="laura", email="laura@clinica.example")
    assert _sweep() == "alerted"
    assert mail.outbox[0].to == ["camila@clinica.example"]


def test_no_alert_set_reads_nothing_and_sends_nothing(db, alert, settings):
    settings.ONURIX_LOW_BALANCE_ALERT = 0
    assert _sweep() == "off"
    assert mail.outbox == []
    assert not BalanceAlert.objects.exists()


def test_onurix_not_answering_is_not_a_low_balance(db, alert):
    alert.state.configure(key="another-key")  # our key is refused now
    assert _sweep() == "unknown"
    assert mail.outbox == []


def test_the_dashboard_warns_with_the_calls_the_balance_still_buys(auth_client, alert):
    page = auth_client.get(reverse("dashboard")).content.decode()
    assert 'data-testid="low-balance"' not in page  # the sweep has not seen it yet

    _sweep()
    page = auth_client.get(reverse("dashboard")).content.decode()
    assert 'data-testid="low-balance"' in page
    assert "Saldo bajo: quedan 400 créditos, por debajo de los 500 de la alerta." in page
    assert "Todavía alcanza para unas 200 llamadas" in page

    alert.state.configure(balance=9000)
    _sweep()
    assert 'data-testid="low-balance"' not in auth_client.get(reverse("dashboard")).content.decode()
