import os

from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "onurix_site.settings")

application = get_wsgi_application()

# gunicorn runs no system checks: run them here, so a server with unsafe production
# settings (campaigns/checks.py) refuses to start instead of serving.
_errors = [
    message
    for message in checks.run_checks(include_deployment_checks=True)
    if message.is_serious() and not message.is_silenced()
]
if _errors:
    raise ImproperlyConfigured("Refusing to start:\n" + "\n".join(str(error) for error in _errors))
