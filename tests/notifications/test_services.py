"""Notices: queued once per source, sent through the configured channels, results recorded."""

import pytest
from django.core import mail

from core.notifications import services
from core.notifications.models import MessageTemplate, Notice, NoticeStatus, NotifyError
from tests.cadastre.factories_census import CustomerFactory, ServiceAccountFactory

pytestmark = pytest.mark.django_db


def account_of(**customer):
    return ServiceAccountFactory(customer=CustomerFactory(**customer))


def queue(account, source="collection:action:1", **kwargs):
    return services.notice_queue(
        account=account,
        template=kwargs.pop("template", "payment_reminder"),
        context=kwargs.pop("context", {"amount": "1,250.00", "due_date": "15/06/2026"}),
        source=source,
        **kwargs,
    )


def test_spanish_templates_are_seeded_for_every_message_and_channel():
    codes = {
        "payment_reminder",
        "formal_notice",
        "suspension_notice",
        "reconnection_done",
        "outage_notice",
        "promise_reminder",
        "ticket_status",
    }
    for channel in ("email", "sms", "whatsapp"):
        seeded = set(
            MessageTemplate.objects.filter(channel=channel, language="es").values_list(
                "code", flat=True
            )
        )
        assert seeded >= codes


def test_queueing_the_same_source_twice_records_one_notice():
    account = account_of(email="ana@example.com")
    first = queue(account)
    second = queue(account)
    assert first.pk == second.pk
    assert Notice.objects.count() == 1


def test_notice_is_rendered_when_queued_in_spanish_with_the_context():
    account = account_of(name="Ana", first_surname="López", email="ana@example.com")
    notice = queue(account)
    assert notice.channel == "email"
    assert notice.address == "ana@example.com"
    assert notice.subject == f"Recordatorio de pago — cuenta {account.number}"
    assert "Ana López" in notice.body
    assert "$1,250.00" in notice.body and "15/06/2026" in notice.body
    assert notice.status == NoticeStatus.PENDING


def test_a_missing_placeholder_stays_visible_instead_of_failing():
    assert services.render("{customer} debe {amount}", {"customer": "Ana"}) == "Ana debe {amount}"
    assert services.render("llave suelta { y {0}", {}) == "llave suelta { y {0}"


def test_customer_without_email_is_notified_by_sms_to_their_phone():
    account = account_of(email="", phone="55 1234 5678")
    notice = queue(account)
    assert (notice.channel, notice.address) == ("sms", "5512345678")


def test_customer_without_email_or_phone_cannot_be_notified():
    account = account_of(email="", phone="")
    with pytest.raises(NotifyError) as refused:
        queue(account)
    assert refused.value.code == "no_address"
    assert Notice.objects.count() == 0


def test_same_source_may_reach_the_customer_through_two_channels():
    account = account_of(email="ana@example.com", phone="5512345678")
    queue(account)
    queue(account, channel="whatsapp")
    assert sorted(Notice.objects.values_list("channel", flat=True)) == ["email", "whatsapp"]


def test_email_notice_is_sent_through_the_email_backend_and_recorded_sent():
    account = account_of(email="ana@example.com")
    notice = queue(account)
    assert services.notices_send() == {"sent": 1, "failed": 0}
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["ana@example.com"]
    assert mail.outbox[0].subject == notice.subject
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.SENT
    assert notice.sent_at is not None and notice.attempts == 1
    assert notice.provider_id == mail.outbox[0].extra_headers["Message-ID"]


def test_sms_and_whatsapp_go_through_the_recording_double_by_default(recording):
    account = account_of(email="", phone="5512345678")
    queue(account)
    queue(account, channel="whatsapp")
    assert services.notices_send() == {"sent": 2, "failed": 0}
    assert sorted((m["channel"], m["to"]) for m in recording.sent) == [
        ("sms", "5512345678"),
        ("whatsapp", "5512345678"),
    ]
    assert all(
        p.startswith("recorded:") for p in Notice.objects.values_list("provider_id", flat=True)
    )
    assert len(mail.outbox) == 0


def test_a_failing_address_is_recorded_failed_with_the_providers_error(recording):
    recording.fail_for("5500000000", "número inexistente")
    bad = queue(account_of(email="", phone="5500000000"))
    good = queue(account_of(email="", phone="5511111111"), source="collection:action:2")
    assert services.notices_send() == {"sent": 1, "failed": 1}
    bad.refresh_from_db()
    good.refresh_from_db()
    assert (bad.status, bad.error, bad.sent_at) == (NoticeStatus.FAILED, "número inexistente", None)
    assert good.status == NoticeStatus.SENT
    # A failed notice is not retried on its own; sent again only when asked.
    assert services.notices_send() == {"sent": 0, "failed": 0}
    services.notice_retry(notice=bad)
    recording.failing.clear()
    assert services.notices_send() == {"sent": 1, "failed": 0}
    bad.refresh_from_db()
    assert (bad.status, bad.attempts) == (NoticeStatus.SENT, 2)


def test_sent_notices_are_not_sent_again():
    queue(account_of(email="ana@example.com"))
    services.notices_send()
    assert services.notices_send() == {"sent": 0, "failed": 0}
    assert len(mail.outbox) == 1


def test_unknown_template_is_refused():
    with pytest.raises(NotifyError) as refused:
        queue(account_of(email="ana@example.com"), template="nope")
    assert refused.value.code == "template_unknown"
