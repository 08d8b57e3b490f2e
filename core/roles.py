"""The roles of a water utility's staff, kept as Django groups.

A role is a stable code (the group's name) and a translatable label. Permissions are attached
by migrations: core's migration creates the groups; each app's migration grants its own
permissions with :func:`grant`, so adding a role's rights never edits this module.
"""

from django.utils.translation import gettext_lazy as _

CADASTRE_EDITOR = "cadastre_editor"
PLANNER = "planner"
FIELD_CREW = "field_crew"
METER_READER = "meter_reader"
BILLING_CLERK = "billing_clerk"
CASHIER = "cashier"
COLLECTOR = "collector"
CUSTOMER_SERVICE = "customer_service"
MANAGER = "manager"
AUDITOR = "auditor"
ADMIN = "admin"

ROLE_LABELS = {
    CADASTRE_EDITOR: _("Cadastre editor"),
    PLANNER: _("Planner"),
    FIELD_CREW: _("Field crew"),
    METER_READER: _("Meter reader"),
    BILLING_CLERK: _("Billing clerk"),
    CASHIER: _("Cashier"),
    COLLECTOR: _("Collector"),
    CUSTOMER_SERVICE: _("Customer service"),
    MANAGER: _("Manager"),
    AUDITOR: _("Auditor"),
    ADMIN: _("Administrator"),
}
ROLES = tuple(ROLE_LABELS)

# Roles that may read every domain table (dashboards, audits). Apps grant `view_*` to these.
READ_ALL_ROLES = (MANAGER, AUDITOR, ADMIN)


def role_label(code: str) -> str:
    return str(ROLE_LABELS.get(code, code))


def grant(
    apps,
    role: str,
    *,
    app_label: str,
    codenames: list[str] | None = None,
    actions: tuple[str, ...] = ("view",),
) -> None:
    """Give ``role`` permissions on ``app_label``'s models, from inside a data migration.

    ``codenames`` names permissions exactly; otherwise every model of the app gets the given
    ``actions`` (view/add/change/delete). Permissions are created first: on a fresh database
    Django only creates them after all migrations ran (post_migrate), too late for a grant.
    Idempotent: re-running adds nothing twice.
    """
    from django.contrib.auth.management import create_permissions

    app_config = apps.get_app_config(app_label)
    app_config.models_module = True  # historical app configs lack it; create_permissions checks it
    create_permissions(app_config, verbosity=0, apps=apps)

    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    group, _created = group_model.objects.get_or_create(name=role)
    perms = permission_model.objects.filter(content_type__app_label=app_label)
    if codenames is not None:
        perms = perms.filter(codename__in=codenames)
    else:
        wanted = [f"{action}_" for action in actions]
        perms = [p for p in perms if p.codename.startswith(tuple(wanted))]
    group.permissions.add(*perms)
