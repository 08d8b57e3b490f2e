"""What the tile cache keys on: one generation number per table that feeds a map layer.

A row per tracked table, written only by the ``tiles_generation_bump()`` trigger function
(installed with :func:`tiles.invalidation.track_tables`). See ``tiles.invalidation`` for why the
number is bumped by a statement-level trigger and why it is never reused.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class TableGeneration(models.Model):
    table_name = models.CharField(_("table"), max_length=63, primary_key=True)
    generation = models.BigIntegerField(_("generation"))

    class Meta:
        verbose_name = _("table generation")
        verbose_name_plural = _("table generations")

    def __str__(self):
        return f"{self.table_name}@{self.generation}"
