from django.contrib.auth import views as auth_views
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core.health import system_health
from core.roles import role_label
from core.selectors import city_summary


@require_GET
@never_cache
def healthz(request):
    report = system_health()
    return JsonResponse(report, status=200 if report["status"] == "ok" else 503)


@require_GET
def landing(request):
    roles = []
    if request.user.is_authenticated:
        roles = [role_label(name) for name in request.user.groups.values_list("name", flat=True)]
    return render(request, "core/landing.html", {"roles": roles, "city": city_summary()})


class LoginView(auth_views.LoginView):
    template_name = "core/login.html"
    redirect_authenticated_user = True
