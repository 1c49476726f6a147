"""What a server process checks before serving. gunicorn and ASGI servers run no system
checks: wsgi.py and asgi.py call `refuse_unsafe_settings`, so a server with unsafe
production settings (campaigns/checks.py) refuses to start instead of serving."""

from django.core import checks
from django.core.exceptions import ImproperlyConfigured


def refuse_unsafe_settings() -> None:
    errors = [
        message
        for message in checks.run_checks(include_deployment_checks=True)
        if message.is_serious() and not message.is_silenced()
    ]
    if errors:
        raise ImproperlyConfigured(
            "Refusing to start:\n" + "\n".join(str(error) for error in errors)
        )
