"""Translations of the vector tile service (tiles.views, tiles.services, tiles.models)."""

ES_MX = {
    # tile address
    "Zoom %(z)s is out of range; tiles exist for zoom 0 to %(max)s.": "El nivel de zoom %(z)s está fuera de rango; hay teselas del nivel 0 al %(max)s.",
    "Tile %(x)s/%(y)s does not exist at zoom %(z)s: x and y go from 0 to %(last)s.": "La tesela %(x)s/%(y)s no existe en el nivel de zoom %(z)s: x e y van de 0 a %(last)s.",
    # filters
    "Layer “%(layer)s” has no filters; remove “%(name)s” from the address.": "La capa «%(layer)s» no tiene filtros; quite «%(name)s» de la dirección.",
    "Layer “%(layer)s” has no filter “%(name)s”. Filters it accepts: %(known)s.": "La capa «%(layer)s» no tiene el filtro «%(name)s». Filtros que acepta: %(known)s.",
    "Filter “%(name)s” has no value; give one or more, separated by commas.": "El filtro «%(name)s» no tiene valor; indique uno o más, separados por comas.",
    "Filter “%(name)s” has %(count)s values; at most %(max)s are accepted.": "El filtro «%(name)s» tiene %(count)s valores; se aceptan como máximo %(max)s.",
    "“%(value)s” is not a whole number; filter “%(name)s” needs one.": "«%(value)s» no es un número entero; el filtro «%(name)s» requiere uno.",
    "“%(value)s” is not a value of filter “%(name)s”; choose among: %(choices)s.": "«%(value)s» no es un valor del filtro «%(name)s»; elija entre: %(choices)s.",
    # who may see
    "Sign in to see map layers.": "Inicie sesión para ver las capas del mapa.",
    "There is no map layer “%(layer)s”.": "No existe la capa de mapa «%(layer)s».",
    "Your role does not allow you to see the layer “%(layer)s”.": "Su rol no le permite ver la capa «%(layer)s».",
    # model
    "table": "tabla",
    "generation": "generación",
    "table generation": "generación de tabla",
    "table generations": "generaciones de tablas",
}
