"""OpenAPI schema generation shared by every app's API."""

from drf_spectacular.drainage import has_override
from drf_spectacular.openapi import AutoSchema


class CaudalAutoSchema(AutoSchema):
    """Names a view's nested serializers after the view.

    Views keep their serializers inside them (``SomeApi.InputSerializer``), so many are called
    "Input" or "Output"; drf-spectacular would give them one component name and warn. The
    outer class names make them unique: ``MeterChangeApiInput``. A name given explicitly
    (``@extend_schema_serializer(component_name=…)``) is kept as given.
    """

    def _get_serializer_name(self, serializer, direction, bypass_extensions=False):
        name = super()._get_serializer_name(serializer, direction, bypass_extensions)
        if has_override(serializer, "component_name"):
            return name
        cls = serializer if isinstance(serializer, type) else type(serializer)
        outer = cls.__qualname__.split(".")[:-1]
        if outer and not name.startswith(outer[-1]):
            name = "".join(outer) + name
        return name
