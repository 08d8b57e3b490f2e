"""Translations of the OGC API - Features endpoints (gis_core/ogc.py, gis_core/ogc_views.py)."""

ES_MX = {
    # gis_core/ogc.py: errors in request parameters
    "“%(crs)s” is not a supported %(parameter)s; use one of: %(supported)s.": (
        "“%(crs)s” no es un %(parameter)s admitido; use uno de: %(supported)s."
    ),
    "Give bbox as four numbers separated by commas: min_lon,min_lat,max_lon,max_lat (or six, with heights).": (
        "Indique bbox con cuatro números separados por comas: lon_mín,lat_mín,lon_máx,lat_máx "
        "(o seis, con alturas)."
    ),
    "This page link is not valid (cursor); start again from the first page.": (
        "El enlace a esta página no es válido (cursor); comience de nuevo desde la primera página."
    ),
    "The bbox must be in degrees: longitudes between -180 and 180, latitudes between -90 and 90, the minimum latitude below the maximum.": (
        "La bbox debe estar en grados: longitudes entre -180 y 180, latitudes entre -90 y 90, "
        "con la latitud mínima menor que la máxima."
    ),
    "The bbox's minimum longitude must be below its maximum (boxes across the antimeridian are not supported).": (
        "La longitud mínima de la bbox debe ser menor que la máxima (no se admiten cajas que "
        "crucen el antimeridiano)."
    ),
    "The bbox's minimum coordinates must be below its maximum ones.": (
        "Las coordenadas mínimas de la bbox deben ser menores que las máximas."
    ),
    "limit must be a whole number from 1 to %(max)s.": (
        "limit debe ser un número entero de 1 a %(max)s."
    ),
    "There is no feature “%(id)s” in this collection.": (
        "No existe el elemento “%(id)s” en esta colección."
    ),
    "Unknown query parameter “%(name)s”; this resource accepts: %(allowed)s.": (
        "Parámetro de consulta desconocido “%(name)s”; este recurso acepta: %(allowed)s."
    ),
    "Format “%(format)s” is not available; use f=%(accepted)s.": (
        "El formato “%(format)s” no está disponible; use f=%(accepted)s."
    ),
    "%(name)s takes whole numbers separated by commas.": (
        "%(name)s acepta números enteros separados por comas."
    ),
    "“%(value)s” is not a valid %(name)s; use one of: %(choices)s.": (
        "“%(value)s” no es un valor válido de %(name)s; use uno de: %(choices)s."
    ),
    # gis_core/ogc_views.py: documents, links and authentication
    "Caudal — OGC API Features": "Caudal — OGC API Features",
    "The map layers of Caudal (cadastre, network, commercial) for GIS clients.": (
        "Las capas del mapa de Caudal (catastro, red, comercial) para clientes SIG."
    ),
    "This document": "Este documento",
    "The API definition": "La definición de la API",
    "Conformance classes implemented by this server": (
        "Clases de conformidad que implementa este servidor"
    ),
    "The collections": "Las colecciones",
    "This collection": "Esta colección",
    "The features of this collection": "Los elementos de esta colección",
    "The collection": "La colección",
    "This page": "Esta página",
    "The next page": "La página siguiente",
    "This feature": "Este elemento",
    "There is no collection “%(id)s”, or you may not see it.": (
        "No existe la colección “%(id)s”, o no tiene permiso para verla."
    ),
    "The user name or password is wrong.": "El usuario o la contraseña son incorrectos.",
    "Sign in: send the user name and password of a Caudal user (HTTP Basic).": (
        "Inicie sesión: envíe el usuario y la contraseña de un usuario de Caudal (HTTP Basic)."
    ),
    # gis_core/ogc_views.py: the OpenAPI definition
    "Features per page.": "Elementos por página.",
    "Features that intersect this box: min_lon,min_lat,max_lon,max_lat (bbox-crs).": (
        "Elementos que tocan esta caja: lon_mín,lat_mín,lon_máx,lat_máx (bbox-crs)."
    ),
    "Coordinate reference system of bbox.": "Sistema de referencia de coordenadas de bbox.",
    "Coordinate reference system of the geometries.": (
        "Sistema de referencia de coordenadas de las geometrías."
    ),
    "Where a page starts; take it from the next link.": (
        "Dónde empieza una página; tómelo del enlace next."
    ),
    "Accepted for compatibility; the layers have no time dimension and ignore it.": (
        "Se acepta por compatibilidad; las capas no tienen dimensión temporal y lo ignoran."
    ),
    "The document.": "El documento.",
    "Landing page": "Página de inicio",
    "Conformance classes": "Clases de conformidad",
    "Features of %(layer)s": "Elementos de %(layer)s",
    "One feature of %(layer)s": "Un elemento de %(layer)s",
    "A page of features.": "Una página de elementos.",
    "The feature.": "El elemento.",
}
