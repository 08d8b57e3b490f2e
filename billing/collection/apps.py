from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CollectionConfig(AppConfig):
    """Collections (control de rezago): aging, the collection policy and its actions,
    suspensions and reconnections, delinquency on the map."""

    name = "billing.collection"
    label = "collection"
    verbose_name = _("Collections")
