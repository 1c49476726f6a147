import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create a demo administrator when no user exists, and print its password once."

    def handle(self, *args, **options):
        user_model = get_user_model()
        if user_model.objects.exists():
            self.stdout.write("Users exist already: no demo user created.")
            return
        password = secrets.token_urlsafe(12)
        user_model.objects.create_superuser(username="demo", email="", password=password)
        banner = "=" * 60
        self.stdout.write(
            f"{banner}\n"
            f"  Demo user created. Sign in at http://127.0.0.1:8000/\n"
            f"    user:     demo\n"
            f"    password: {password}\n"
            f"  This password is shown only now: write it down.\n"
            f"{banner}"
        )
