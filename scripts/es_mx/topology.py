"""Translations of the parcel editing services and their topology rules (cadastre.services,
cadastre.topology)."""

ES_MX = {
    # GEOS validity reasons
    "the outline crosses itself": "el contorno se cruza a sí mismo",
    "a ring touches itself": "un anillo se toca a sí mismo",
    "too few distinct vertices": "tiene muy pocos vértices distintos",
    "a hole lies outside the outline": "un hueco queda fuera del contorno",
    "a hole lies inside another hole": "un hueco queda dentro de otro hueco",
    "the holes cut the parcel in pieces": "los huecos parten el predio en pedazos",
    "one outline lies inside another": "un contorno queda dentro de otro",
    "a ring is repeated": "un anillo está repetido",
    "a coordinate is not a number": "una coordenada no es un número",
    "a ring is not closed": "un anillo no está cerrado",
    # geometry types
    "polygon": "polígono",
    "line": "línea",
    # normalize / validity
    "A %(expected)s geometry is required, not “%(got)s”.": "Se requiere una geometría de tipo %(expected)s, no «%(got)s».",
    "A %(expected)s geometry is required, not a %(got)s.": "Se requiere una geometría de tipo %(expected)s, no de tipo %(got)s.",
    "The geometry has no coordinate reference system (SRID); send it with one, e.g. EPSG:4326 for longitude/latitude.": "La geometría no tiene sistema de referencia de coordenadas (SRID); envíela con uno, p. ej. EPSG:4326 para longitud/latitud.",
    "The geometry is empty; draw it on the map before saving.": "La geometría está vacía; dibújela en el mapa antes de guardar.",
    "The geometry has %(count)s separate parts; draw a single %(expected)s.": "La geometría tiene %(count)s partes separadas; dibuje una sola geometría de tipo %(expected)s.",
    "The geometry has %(count)s vertices; at most %(max)s are accepted. Simplify it.": "La geometría tiene %(count)s vértices; se aceptan como máximo %(max)s. Simplifíquela.",
    "The coordinate reference system EPSG:%(srid)s is unknown.": "El sistema de referencia de coordenadas EPSG:%(srid)s es desconocido.",
    "The geometry cannot be transformed from EPSG:%(source)s to EPSG:%(target)s: its coordinates lie outside the area of the source system.": "La geometría no se puede transformar de EPSG:%(source)s a EPSG:%(target)s: sus coordenadas quedan fuera del área del sistema de origen.",
    "Snapped onto the neighbouring parcels, the outline is no longer a valid polygon: %(reason)s (%(detail)s). Move the marked vertices farther from each other.": "Al ajustarse a los predios vecinos, el contorno deja de ser un polígono válido: %(reason)s (%(detail)s). Separe más los vértices marcados.",
    "The outline is not a valid polygon: %(reason)s (%(detail)s). Fix it at the marked point and save again.": "El contorno no es un polígono válido: %(reason)s (%(detail)s). Corríjalo en el punto marcado y vuelva a guardar.",
    # block and neighbours
    "The parcel lies in no block. Draw it inside a block, or choose its block.": "El predio no está dentro de ninguna manzana. Dibújelo dentro de una manzana o elija su manzana.",
    "The parcel straddles blocks %(blocks)s; a parcel belongs to exactly one block. Split it along the block edge or redraw it.": "El predio abarca las manzanas %(blocks)s; un predio pertenece a una sola manzana. Subdivídalo por el límite de la manzana o vuelva a dibujarlo.",
    "The parcel overlaps parcel(s) %(keys)s by %(area)s m²; only overlaps thinner than %(tolerance)s m are tolerated. Move the boundary onto the neighbour's edge.": "El predio se superpone con el/los predio(s) %(keys)s en %(area)s m²; solo se toleran traslapes de menos de %(tolerance)s m de ancho. Mueva el lindero sobre el borde del vecino.",
    "%(area)s m² of the parcel lie outside block %(block)s (tolerance %(tolerance)s m). Keep the parcel inside its block.": "%(area)s m² del predio quedan fuera de la manzana %(block)s (tolerancia %(tolerance)s m). Mantenga el predio dentro de su manzana.",
    # split
    "The line does not cross parcel %(key)s from side to side. Draw it from outside the parcel, across it, to outside again.": "La línea no atraviesa el predio %(key)s de lado a lado. Trácela desde fuera del predio, cruzándolo, hasta salir de nuevo.",
    "The line would cut off a sliver of %(area)s m², thinner than %(tolerance)s m. Move the line.": "La línea separaría una franja de %(area)s m² de menos de %(tolerance)s m de ancho. Mueva la línea.",
    # services
    "A parcel of this edit no longer exists.": "Un predio de esta edición ya no existe.",
    "The cadastral key “%(key)s” does not have the form LLLL-MMM-PPP (locality, block, parcel), e.g. 0012-045-007.": "La clave catastral «%(key)s» no tiene la forma LLLL-MMM-PPP (localidad, manzana, predio), p. ej. 0012-045-007.",
    "The cadastral key %(key)s is already used by another parcel (retired parcels keep their keys). Choose another key or leave it empty to number the parcel.": "La clave catastral %(key)s ya la usa otro predio (los predios dados de baja conservan su clave). Elija otra clave o déjela vacía para numerar el predio.",
    "Parcels of block %(block)s cannot be numbered: its locality and block codes do not give a key of the form LLLL-MMM-PPP. Give the cadastral key explicitly.": "Los predios de la manzana %(block)s no se pueden numerar: los códigos de su localidad y manzana no dan una clave de la forma LLLL-MMM-PPP. Indique la clave catastral.",
    "Block %(block)s has no free parcel number left (001 to 999).": "La manzana %(block)s ya no tiene números de predio libres (001 a 999).",
    "Parcel %(key)s is retired (split, merged or cancelled) and can no longer be edited. Edit the parcels that replaced it.": "El predio %(key)s está dado de baja (subdividido, fusionado o cancelado) y ya no se puede editar. Edite los predios que lo sustituyeron.",
    "Choose at least two different parcels to merge.": "Elija al menos dos predios distintos para fusionar.",
    "Parcels %(keys)s belong to different blocks (%(blocks)s); only parcels of one block can be merged.": "Los predios %(keys)s pertenecen a manzanas distintas (%(blocks)s); solo se pueden fusionar predios de una misma manzana.",
    "Parcels %(keys)s do not form one piece: each must share an edge with another to be merged.": "Los predios %(keys)s no forman una sola pieza: cada uno debe compartir un lindero con otro para fusionarse.",
    "The merged parcel would measure %(area)s m² but the parcels add up to %(expected)s m²: they overlap each other or leave a gap between them. Fix their outlines first.": "El predio fusionado mediría %(area)s m², pero los predios suman %(expected)s m²: se superponen o dejan un hueco entre ellos. Corrija primero sus contornos.",
    "“%(value)s” is not a land use; choose one of: %(choices)s.": "«%(value)s» no es un uso de suelo; elija uno de: %(choices)s.",
    "The address has %(count)s characters; at most %(max)s are allowed.": "La dirección tiene %(count)s caracteres; se permiten como máximo %(max)s.",
    "The built area must be a number of square metres, zero or more (got “%(value)s”).": "La superficie construida debe ser un número de metros cuadrados, cero o más (se recibió «%(value)s»).",
    "Parcels %(keys)s have different owners or shares. Record the change of ownership first; only parcels with the same owners can be merged.": (
        "Los predios %(keys)s tienen propietarios o porcentajes distintos. Registre primero el "
        "cambio de propiedad; solo se fusionan predios con los mismos propietarios."
    ),
}
