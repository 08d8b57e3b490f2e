from django.contrib import admin
from django.utils.translation import gettext_lazy as _

admin.site.site_header = _("Caudal administration")
admin.site.site_title = "Caudal"
admin.site.index_title = _("Catalogues and users")
