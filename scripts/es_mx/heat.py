"""Translations of heat maps and orthophotos (tiles/heat*, tiles/raster*, gis_core orthophotos
and demo step, orders/layers.py) (issue 4)."""

ES_MX = {
    # tiles/heat.py
    "There is no heat map of the layer “%(layer)s”.": "No existe mapa de calor de la capa “%(layer)s”.",
    "You may not see the layer “%(layer)s”.": "Usted no puede ver la capa “%(layer)s”.",
    "The layer “%(layer)s” has no weight “%(weight)s”; it has: %(weights)s.": (
        "La capa “%(layer)s” no tiene el peso “%(weight)s”; tiene: %(weights)s."
    ),
    "The zoom must be between 0 and %(max)s.": "El zoom debe estar entre 0 y %(max)s.",
    "Tile %(x)s/%(y)s does not exist at zoom %(z)s.": (
        "El mosaico %(x)s/%(y)s no existe en el zoom %(z)s."
    ),
    "bbox must be four numbers: min_lon,min_lat,max_lon,max_lat (degrees).": (
        "bbox debe ser cuatro números: lon_mín,lat_mín,lon_máx,lat_máx (grados)."
    ),
    "bbox must have min_lon < max_lon within ±180 and min_lat < max_lat within ±85 degrees.": (
        "bbox debe tener lon_mín < lon_máx dentro de ±180 y lat_mín < lat_máx dentro de ±85 grados."
    ),
    "The area is too large for zoom %(z)s: at most %(max)s tiles across. Zoom out or ask for "
    "a smaller area.": (
        "El área es demasiado grande para el zoom %(z)s: como máximo %(max)s mosaicos de "
        "ancho. Aleje el mapa o pida un área más pequeña."
    ),
    "%(layer)s: %(weight)s per hexagon": "%(layer)s: %(weight)s por hexágono",
    # orders/layers.py ("Open work orders", "Work orders", "Status" and the weight names are
    # translated with the map shell, scripts/es_mx/map.py and core.py)
    "Kind": "Tipo",
    # gis_core/models.py
    "file": "archivo",
    "Path of the Cloud-Optimized GeoTIFF, relative to the media directory.": (
        "Ruta del GeoTIFF optimizado para la nube (COG), relativa al directorio de medios."
    ),
    "bounds": "extensión",
    "resolution (m/pixel)": "resolución (m/píxel)",
    "minimum zoom": "zoom mínimo",
    "maximum zoom": "zoom máximo",
    "width (pixels)": "ancho (píxeles)",
    "height (pixels)": "alto (píxeles)",
    "size (bytes)": "tamaño (bytes)",
    "uploaded file name": "nombre del archivo subido",
    "CRS of the uploaded file": "sistema de referencia del archivo subido",
    "uploaded by": "subida por",
    "active": "activa",
    "Inactive orthophotos are neither listed nor served.": (
        "Las ortofotos inactivas no se listan ni se sirven."
    ),
    "orthophoto": "ortofoto",
    "orthophotos": "ortofotos",
    # gis_core/orthophotos.py
    "“%(name)s” is larger than the %(limit)s MB allowed for an orthophoto.": (
        "“%(name)s” excede los %(limit)s MB permitidos para una ortofoto."
    ),
    "“%(name)s” is not a GeoTIFF: upload a .tif or .tiff file.": (
        "“%(name)s” no es un GeoTIFF: suba un archivo .tif o .tiff."
    ),
    "“%(name)s” is not a readable GeoTIFF (it may be damaged, or another kind of file "
    "renamed .tif). Export the orthophoto as GeoTIFF and upload it again.": (
        "“%(name)s” no es un GeoTIFF legible (puede estar dañado, o ser otro tipo de archivo "
        "renombrado .tif). Exporte la ortofoto como GeoTIFF y súbala de nuevo."
    ),
    "“%(name)s” has no coordinate reference system, so it cannot be placed on the map. "
    "Export it with its CRS (for example EPSG:32614) and upload it again.": (
        "“%(name)s” no tiene sistema de referencia de coordenadas, así que no se puede ubicar "
        "en el mapa. Expórtelo con su sistema de referencia (por ejemplo EPSG:32614) y súbalo "
        "de nuevo."
    ),
    "“%(name)s” has a CRS but no georeferencing (pixel positions).": (
        "“%(name)s” tiene sistema de referencia pero no georreferencia (posición de los píxeles)."
    ),
    "“%(name)s” is %(width)s x %(height)s pixels; at most %(limit)s million pixels are "
    "allowed. Split it or lower its resolution.": (
        "“%(name)s” mide %(width)s x %(height)s píxeles; se permiten como máximo %(limit)s "
        "millones de píxeles. Divídala o reduzca su resolución."
    ),
    "“%(name)s” has %(count)s bands of type %(dtype)s; an orthophoto must be 8-bit grey "
    "(1 band), RGB (3) or RGBA (4).": (
        "“%(name)s” tiene %(count)s bandas de tipo %(dtype)s; una ortofoto debe ser de 8 bits "
        "en gris (1 banda), RGB (3) o RGBA (4)."
    ),
    "The coordinate reference system of “%(name)s” cannot be converted to the map's.": (
        "El sistema de referencia de “%(name)s” no se puede convertir al del mapa."
    ),
    "“%(name)s” lies outside the area a web map can show.": (
        "“%(name)s” queda fuera del área que un mapa web puede mostrar."
    ),
    "“%(name)s” could not be read to the end (%(error)s); the file is probably truncated or "
    "damaged.": (
        "“%(name)s” no se pudo leer completo (%(error)s); probablemente el archivo está "
        "truncado o dañado."
    ),
    # gis_core/demo.py
    "gdal_rasterize failed: %(error)s": "gdal_rasterize falló: %(error)s",
    "The demo orthophoto needs the base map: no colonias found.": (
        "La ortofoto de demostración necesita el mapa base: no se encontraron colonias."
    ),
    "Synthetic orthophoto of the demo city": "Ortofoto sintética de la ciudad de demostración",
    # tiles/raster.py, tiles/raster_views.py
    "The file of the orthophoto “%(name)s” is missing.": (
        "Falta el archivo de la ortofoto “%(name)s”."
    ),
    "You may not see orthophotos.": "Usted no puede ver ortofotos.",
    "You may not upload orthophotos.": "Usted no puede subir ortofotos.",
    "There is no orthophoto %(id)s.": "No existe la ortofoto %(id)s.",
}
