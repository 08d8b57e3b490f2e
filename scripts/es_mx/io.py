"""Translations of layer import/export (gis_core/io, cadastre importers/exporters/API)."""

ES_MX = {
    "GeoPackage": "GeoPackage",
    "Zipped Shapefile": "Shapefile comprimido (zip)",
    "GeoJSON": "GeoJSON",
    "CSV with a WKT column": "CSV con columna WKT",
    "GDAL could not process the layer: %(error)s": "GDAL no pudo procesar la capa: %(error)s",
    "“%(target)s” is not a field of this layer; the fields are: %(fields)s.": (
        "“%(target)s” no es un campo de esta capa; los campos son: %(fields)s."
    ),
    "The file has no attribute “%(source)s”; its attributes are: %(columns)s.": (
        "El archivo no tiene el atributo “%(source)s”; sus atributos son: %(columns)s."
    ),
    "“%(name)s” is not a supported layer file: use a GeoPackage (.gpkg), a zipped "
    "Shapefile (.zip), GeoJSON (.geojson) or CSV with a WKT column (.csv).": (
        "“%(name)s” no es un archivo de capa admitido: use GeoPackage (.gpkg), Shapefile "
        "comprimido (.zip), GeoJSON (.geojson) o CSV con columna WKT (.csv)."
    ),
    "“%(name)s” is larger than the %(limit)s MB allowed for an upload.": (
        "“%(name)s” excede los %(limit)s MB permitidos por archivo."
    ),
    "The file is not a valid zip archive.": "El archivo no es un zip válido.",
    "The zip archive has %(count)s entries; at most %(limit)s are allowed.": (
        "El zip tiene %(count)s entradas; se permiten como máximo %(limit)s."
    ),
    "The zip archive contains “%(member)s”, a path outside the archive or a link; "
    "it was refused.": (
        "El zip contiene “%(member)s”, una ruta fuera del archivo o un enlace; se rechazó."
    ),
    "The zip archive would unpack to %(size)s MB; at most %(limit)s MB are allowed.": (
        "El zip se descomprimiría en %(size)s MB; se permiten como máximo %(limit)s MB."
    ),
    "The zip archive is compressed more than %(limit)s to 1, which is how zip bombs look; "
    "it was refused.": (
        "El zip está comprimido a más de %(limit)s a 1, como una bomba zip; se rechazó."
    ),
    "The zip archive unpacks to more than it declares.": (
        "El zip se descomprime en más de lo que declara."
    ),
    "The zip archive holds several layers (%(names)s); upload one at a time.": (
        "El zip contiene varias capas (%(names)s); suba una a la vez."
    ),
    "The zip archive holds no Shapefile, GeoPackage, GeoJSON or CSV.": (
        "El zip no contiene ningún Shapefile, GeoPackage, GeoJSON ni CSV."
    ),
    "Unsupported file type “%(suffix)s”.": "Tipo de archivo no admitido “%(suffix)s”.",
    "GDAL cannot read the file as a vector layer.": (
        "GDAL no puede leer el archivo como capa vectorial."
    ),
    "The file holds no vector layer.": "El archivo no contiene ninguna capa vectorial.",
    "The file holds several layers (%(names)s); say which one to import.": (
        "El archivo contiene varias capas (%(names)s); indique cuál importar."
    ),
    "The file has no layer “%(name)s”; it has %(names)s.": (
        "El archivo no tiene la capa “%(name)s”; tiene %(names)s."
    ),
    "The layer has %(count)s features; at most %(limit)s are allowed.": (
        "La capa tiene %(count)s elementos; se permiten como máximo %(limit)s."
    ),
    "The feature has no geometry (or an empty one).": (
        "El elemento no tiene geometría (o está vacía)."
    ),
    "The geometry has %(detail)s parts; only single-part features can be imported.": (
        "La geometría tiene %(detail)s partes; solo se importan elementos de una sola parte."
    ),
    "The geometry is a %(detail)s; this layer takes %(expected)s.": (
        "La geometría es de tipo %(detail)s; esta capa admite %(expected)s."
    ),
    "The geometry has %(detail)s vertices; at most %(limit)s are allowed.": (
        "La geometría tiene %(detail)s vértices; se permiten como máximo %(limit)s."
    ),
    "Invalid geometry: %(detail)s.": "Geometría inválida: %(detail)s.",
    "“%(detail)s” is required.": "“%(detail)s” es obligatorio.",
    "Cadastral key “%(detail)s” is not of the form LLLL-MMM-PPP (locality, block, parcel).": (
        "La clave catastral “%(detail)s” no tiene la forma LLLL-MMM-PPP "
        "(localidad, manzana, predio)."
    ),
    "Key “%(detail)s” appears more than once in the file.": (
        "La clave “%(detail)s” aparece más de una vez en el archivo."
    ),
    "Key “%(detail)s” already exists; import with mode “upsert” to update it.": (
        "La clave “%(detail)s” ya existe; importe en modo “upsert” para actualizarla."
    ),
    "Value “%(detail)s” is not allowed here.": "El valor “%(detail)s” no está permitido aquí.",
    "“%(detail)s” is not a non-negative number.": "“%(detail)s” no es un número no negativo.",
    "Text “%(detail)s” is too long.": "El texto “%(detail)s” es demasiado largo.",
    "No block matches the key's locality and block, and none contains the parcel.": (
        "Ninguna manzana coincide con la localidad y manzana de la clave, y ninguna contiene "
        "el predio."
    ),
    "Part of the parcel lies outside its block %(detail)s, wider than the %(tolerance)s m "
    "tolerance: draw the parcel inside the block, or correct the block first.": (
        "Una parte del predio queda fuera de su manzana %(detail)s, más ancha que la tolerancia "
        "de %(tolerance)s m: dibuje el predio dentro de la manzana o corrija antes la manzana."
    ),
    "No locality “%(detail)s” (by code or location).": (
        "No existe la localidad “%(detail)s” (por clave ni por ubicación)."
    ),
    "Block number “%(detail)s” must have 3 digits.": (
        "El número de manzana “%(detail)s” debe tener 3 dígitos."
    ),
    "No parcel “%(detail)s” (by cadastral key or location).": (
        "No existe el predio “%(detail)s” (por clave catastral ni por ubicación)."
    ),
    "No single customer matches “%(detail)s”.": ("Ningún usuario único coincide con “%(detail)s”."),
    "Unknown layer “%(layer)s”; importable layers: %(layers)s.": (
        "Capa desconocida “%(layer)s”; capas importables: %(layers)s."
    ),
    "Unknown mode “%(mode)s”; use create or upsert.": (
        "Modo desconocido “%(mode)s”; use create o upsert."
    ),
    "The layer does not say its coordinate system; give the source EPSG code.": (
        "La capa no indica su sistema de coordenadas; proporcione el código EPSG de origen."
    ),
    "The layer has no features.": "La capa no tiene elementos.",
    "The data changed while importing (%(error)s); nothing was written, try again.": (
        "Los datos cambiaron durante la importación (%(error)s); no se escribió nada, "
        "inténtelo de nuevo."
    ),
    "Filter “%(filter)s” has a bad value: “%(value)s”.": (
        "El filtro “%(filter)s” tiene un valor incorrecto: “%(value)s”."
    ),
    "Unknown layer “%(layer)s”; exportable layers: %(layers)s.": (
        "Capa desconocida “%(layer)s”; capas exportables: %(layers)s."
    ),
    "Layer “%(layer)s” cannot be filtered by “%(filter)s”.": (
        "La capa “%(layer)s” no se puede filtrar por “%(filter)s”."
    ),
    "Unknown format “%(format)s”; use %(formats)s.": (
        "Formato desconocido “%(format)s”; use %(formats)s."
    ),
    "The field mapping is not valid JSON.": "La correspondencia de campos no es JSON válido.",
    "The field mapping must be an object of source attribute → field.": (
        "La correspondencia de campos debe ser un objeto atributo de origen → campo."
    ),
    "Unknown layer “%(layer)s”.": "Capa desconocida “%(layer)s”.",
    "You may not import this layer.": "No tiene permiso para importar esta capa.",
    "Unknown layer or format.": "Capa o formato desconocido.",
    "You may not export this layer.": "No tiene permiso para exportar esta capa.",
}
