from django.core.management.base import BaseCommand

from core.history import command_context
from core.services import demo_users_ensure


class Command(BaseCommand):
    help = "Creates one demo user per role (idempotent)."

    def handle(self, *args, **options):
        with command_context("demo_users"):
            users = demo_users_ensure()
        self.stdout.write(f"demo users: {len(users)}")
