"""Geometry input shared by every API (gis_core/api_fields.py)."""

ES_MX = {
    "Give the box as min lon,min lat,max lon,max lat in WGS 84 degrees, the minimum below the "
    "maximum, within -180…180 and -90…90.": "Indique la caja como lon mín,lat mín,lon máx,lat "
    "máx en grados WGS 84, el mínimo menor que el máximo, dentro de -180…180 y -90…90.",
}
