from django.db import models
from django.utils.translation import gettext_lazy as _


class DemoStepRun(models.Model):
    """One demo-city step applied to this database: makes ``demo_city`` safe to run twice."""

    step = models.CharField(_("step"), max_length=100, unique=True)
    accounts = models.PositiveIntegerField(_("accounts"))
    seed = models.IntegerField(_("seed"))
    counts = models.JSONField(_("rows written"), default=dict)
    seconds = models.FloatField(_("seconds"))
    finished_at = models.DateTimeField(_("finished at"), auto_now_add=True)

    class Meta:
        verbose_name = _("demo step run")
        verbose_name_plural = _("demo step runs")

    def __str__(self):
        return self.step
