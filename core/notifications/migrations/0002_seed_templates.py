"""The Spanish message templates every utility starts with; staff edit them afterwards (a
re-run adds only the missing ones, it never overwrites an edited wording).

Placeholders: ``{customer}`` and ``{account}`` always; ``{amount}``, ``{due_date}``,
``{date}``, ``{message}``, ``{expected_end}``, ``{ticket}`` when the caller
gives them (see each caller's docstring)."""

from django.db import migrations

EMAIL = {
    "payment_reminder": (
        "Recordatorio de pago — cuenta {account}",
        "Estimado(a) {customer}:\n\n"
        "Le recordamos que su cuenta {account} tiene un saldo pendiente de ${amount} "
        "con vencimiento el {due_date}. Puede pagar en nuestras cajas, en bancos y tiendas "
        "de conveniencia o en línea.\n\n"
        "Si ya realizó su pago, por favor ignore este mensaje.",
    ),
    "formal_notice": (
        "Requerimiento de pago — cuenta {account}",
        "Estimado(a) {customer}:\n\n"
        "Su cuenta {account} presenta un adeudo vencido de ${amount}. Le solicitamos "
        "liquidarlo o acudir a nuestras oficinas a celebrar un convenio antes del {due_date}; "
        "de lo contrario se procederá a la limitación o suspensión del servicio conforme a la "
        "ley.",
    ),
    "suspension_notice": (
        "Aviso de suspensión del servicio — cuenta {account}",
        "Estimado(a) {customer}:\n\n"
        "Por un adeudo de ${amount}, el servicio de la cuenta {account} será limitado o "
        "suspendido a partir del {date}. Para evitarlo, pague su adeudo o celebre un convenio "
        "de pago en nuestras oficinas.",
    ),
    "reconnection_done": (
        "Servicio restablecido — cuenta {account}",
        "Estimado(a) {customer}:\n\n"
        "El servicio de agua de su cuenta {account} fue restablecido el {date}. "
        "Gracias por su pago.",
    ),
    "outage_notice": (
        "Interrupción del servicio de agua — cuenta {account}",
        "Estimado(a) {customer}:\n\n{message}",
    ),
    "promise_reminder": (
        "Recordatorio de su compromiso de pago — cuenta {account}",
        "Estimado(a) {customer}:\n\n"
        "Le recordamos su compromiso de pagar ${amount} a más tardar el {date} en la cuenta "
        "{account}. Gracias por su puntualidad.",
    ),
    "ticket_status": ("Su solicitud {ticket}", "Estimado(a) {customer}:\n\n{message}"),
}
SHORT = {
    "payment_reminder": "Cuenta {account}: saldo de ${amount}, vence el {due_date}. "
    "Si ya pagó, ignore este mensaje.",
    "formal_notice": "Cuenta {account}: adeudo vencido de ${amount}. Pague o acuda a convenio "
    "antes del {due_date} para evitar la suspensión.",
    "suspension_notice": "Cuenta {account}: por un adeudo de ${amount} el servicio será "
    "suspendido a partir del {date}. Pague o celebre un convenio.",
    "reconnection_done": "Cuenta {account}: su servicio de agua fue restablecido el {date}.",
    "outage_notice": "{message}",
    "promise_reminder": "Cuenta {account}: recuerde su compromiso de pagar ${amount} a más "
    "tardar el {date}.",
    "ticket_status": "{message}",
}


def seed(apps, schema_editor):
    template = apps.get_model("notifications", "MessageTemplate")
    for code, (subject, body) in EMAIL.items():
        template.objects.get_or_create(
            code=code, channel="email", language="es", defaults={"subject": subject, "body": body}
        )
    for code, body in SHORT.items():
        for channel in ("sms", "whatsapp"):
            template.objects.get_or_create(
                code=code, channel=channel, language="es", defaults={"body": body}
            )


class Migration(migrations.Migration):
    dependencies = [("notifications", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
