import os

from django.core.asgi import get_asgi_application

from onurix_site.startup import refuse_unsafe_settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "onurix_site.settings")

application = get_asgi_application()
refuse_unsafe_settings()
