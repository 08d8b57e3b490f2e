import os

from django.core.management.base import BaseCommand

from core.roles import ROLES, role_label
from core.services import DEMO_PASSWORD


class Command(BaseCommand):
    help = "Prints where the demo is served and how to sign in."

    def handle(self, *args, **options):
        port = os.environ.get("CAUDAL_PORT", "8000")
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Caudal demo: http://127.0.0.1:{port}/"))
        self.stdout.write(f"  health: http://127.0.0.1:{port}/healthz")
        self.stdout.write(f"  logins (password for all: {DEMO_PASSWORD}):")
        for role in ROLES:
            self.stdout.write(f"    {role:<18} {role_label(role)}")
        self.stdout.write("  stop everything: make stop")
