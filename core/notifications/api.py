"""Notifications API under /api/notifications/: read the record of notices and templates,
send a failed notice again. Queueing is done by the services of the apps that notify."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import domain_error_response, require_perms
from core.notifications import services
from core.notifications.models import (
    ChannelKind,
    MessageTemplate,
    Notice,
    NoticeStatus,
    NotifyError,
)

LIST_LIMIT = 500


@extend_schema_field({"type": "string", "pattern": "^(" + "|".join(ChannelKind.values) + ")$"})
class NotifyChannelField(serializers.ChoiceField):
    """The channel, described by a pattern in the schema: an enum becomes a component named
    after the field, which would clash with the service desk's "channel" (counter, phone…)."""

    def __init__(self, **kwargs):
        super().__init__(choices=ChannelKind.choices, **kwargs)


class NotifyNoticeOutputSerializer(serializers.ModelSerializer):
    account_number = serializers.CharField(source="account.number")
    channel = NotifyChannelField()

    class Meta:
        model = Notice
        fields = [
            "id",
            "account",
            "account_number",
            "customer",
            "channel",
            "address",
            "template_code",
            "subject",
            "body",
            "status",
            "attempts",
            "provider_id",
            "error",
            "source",
            "created_at",
            "sent_at",
        ]


class NotifyTemplateOutputSerializer(serializers.ModelSerializer):
    channel = NotifyChannelField()

    class Meta:
        model = MessageTemplate
        fields = ["id", "code", "channel", "language", "subject", "body", "active"]


class NotifyNoticeFilterSerializer(serializers.Serializer):
    account = serializers.IntegerField(required=False)
    status = serializers.ChoiceField(choices=NoticeStatus.choices, required=False)
    channel = NotifyChannelField(required=False)
    source = serializers.CharField(required=False, max_length=120)


class NoticeListApi(APIView):
    """GET the notices, newest first (``?account=&status=&channel=&source=`` prefix)."""

    permission_classes = [require_perms("notifications.view_notice")]

    @extend_schema(
        parameters=[NotifyNoticeFilterSerializer],
        responses={200: NotifyNoticeOutputSerializer(many=True)},
    )
    def get(self, request):
        filters = NotifyNoticeFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        args = filters.validated_data
        notices = Notice.objects.select_related("account").order_by("-created_at", "-pk")
        if "account" in args:
            notices = notices.filter(account_id=args["account"])
        if "status" in args:
            notices = notices.filter(status=args["status"])
        if "channel" in args:
            notices = notices.filter(channel=args["channel"])
        if "source" in args:
            notices = notices.filter(source__startswith=args["source"])
        return Response(NotifyNoticeOutputSerializer(notices[:LIST_LIMIT], many=True).data)


class NoticeRetryApi(APIView):
    """POST: put a failed notice back in the queue."""

    permission_classes = [require_perms("notifications.change_notice")]

    @extend_schema(request=None, responses={200: NotifyNoticeOutputSerializer})
    def post(self, request, pk: int):
        notice = get_object_or_404(Notice, pk=pk)
        try:
            notice = services.notice_retry(notice=notice)
        except NotifyError as error:
            return domain_error_response(error, conflict_codes=("not_failed",))
        return Response(NotifyNoticeOutputSerializer(notice).data)


class TemplateListApi(APIView):
    permission_classes = [require_perms("notifications.view_messagetemplate")]

    @extend_schema(responses={200: NotifyTemplateOutputSerializer(many=True)})
    def get(self, request):
        templates = MessageTemplate.objects.order_by("code", "channel", "language")
        return Response(NotifyTemplateOutputSerializer(templates, many=True).data)
