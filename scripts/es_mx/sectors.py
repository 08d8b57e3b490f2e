"""Translations of sectorization (sectors.models, services, selectors, api, admin, layers, demo).

Kinds of area are inserted into sentences in lower case (“sector”, “zona”…); the Spanish
sentences name them as «de tipo …» or after a colon so that no article has to agree with them.
"""

ES_MX = {
    # kinds and levels
    "Zone": "Zona",
    "Sector": "Sector",
    "Reading book": "Libro de lectura",
    "District metered area (DMA)": "Distrito hidrométrico (DMA)",
    "Tariff zone": "Zona tarifaria",
    "Zones": "Zonas",
    "Sectors": "Sectores",
    "Reading books": "Libros de lectura",
    "District metered areas (DMAs)": "Distritos hidrométricos (DMA)",
    "Tariff zones": "Zonas tarifarias",
    # model fields and names
    "level": "nivel",
    "parent level": "nivel del área superior",
    "parent": "área superior",
    "commercial area": "área comercial",
    "commercial areas": "áreas comerciales",
    "district metered area": "distrito hidrométrico",
    "district metered areas": "distritos hidrométricos",
    "tariff zone": "zona tarifaria",
    "tariff zones": "zonas tarifarias",
    "assigned at": "asignado el",
    "account sectors": "sectorización de la cuenta",
    "piece": "fragmento",
    "area piece": "fragmento de área",
    "area pieces": "fragmentos de área",
    "zone": "zona",
    "sector": "sector",
    "reading book": "libro de lectura",
    "Short code used on routes, bills and reports.": "Clave corta que aparece en rutas, recibos y reportes.",
    # services: input
    "“%(kind)s” is not a kind of area; use one of: %(kinds)s.": "«%(kind)s» no es un tipo de área; use uno de: %(kinds)s.",
    "%(what)s: a polygon or multipolygon boundary is required.": "%(what)s: se requiere un límite de tipo polígono o multipolígono.",
    "%(what)s: the boundary has no coordinate reference system (SRID); send it with one, e.g. EPSG:4326 for longitude/latitude.": "%(what)s: el límite no tiene sistema de referencia de coordenadas (SRID); envíelo con uno, p. ej. EPSG:4326 para longitud/latitud.",
    "%(what)s: the boundary is empty; draw it before saving.": "%(what)s: el límite está vacío; dibújelo antes de guardar.",
    "%(what)s: the boundary must be a polygon or multipolygon, not a %(got)s.": "%(what)s: el límite debe ser un polígono o multipolígono, no un %(got)s.",
    "%(what)s: the boundary has %(count)s vertices; at most %(max)s are accepted.": "%(what)s: el límite tiene %(count)s vértices; se aceptan como máximo %(max)s.",
    "%(what)s: the coordinate reference system EPSG:%(srid)s is unknown.": "%(what)s: el sistema de referencia de coordenadas EPSG:%(srid)s es desconocido.",
    "%(what)s: the boundary cannot be transformed from EPSG:%(source)s to EPSG:%(target)s; its coordinates lie outside the area of the source system.": "%(what)s: el límite no puede transformarse de EPSG:%(source)s a EPSG:%(target)s; sus coordenadas quedan fuera del área del sistema de origen.",
    "%(what)s: the boundary is not a valid polygon: %(reason)s (%(detail)s). Fix it at the marked point and try again.": "%(what)s: el límite no es un polígono válido: %(reason)s (%(detail)s). Corríjalo en el punto marcado e intente de nuevo.",
    "“%(code)s” is not a valid code for a %(kind)s: use 1 to 20 capital letters, digits, dots, dashes or underscores (pattern %(pattern)s).": "«%(code)s» no es una clave válida para un área de tipo %(kind)s: use de 1 a 20 letras mayúsculas, dígitos, puntos, guiones o guiones bajos (patrón %(pattern)s).",
    "%(what)s: give a name of 1 to 120 characters.": "%(what)s: indique un nombre de 1 a 120 caracteres.",
    "There is no %(kind)s with id %(id)s.": "No existe un área de tipo %(kind)s con id %(id)s.",
    "A %(kind)s has no parent area; leave the parent empty.": "Las áreas de tipo %(kind)s no tienen área superior; deje vacía el área superior.",
    "A %(kind)s belongs to a %(parent)s: choose it.": "Cada área de tipo %(kind)s pertenece a un área de tipo %(parent)s: elíjala.",
    "There is no %(parent)s with id %(id)s to hold this %(kind)s.": "No existe un área de tipo %(parent)s con id %(id)s que pueda contener esta área de tipo %(kind)s.",
    "%(code)s is a %(level)s; a %(kind)s belongs to a %(parent)s.": "%(code)s es de tipo %(level)s; un área de tipo %(kind)s pertenece a una de tipo %(parent)s.",
    "“%(action)s” is not an edit; use create, update or delete.": "«%(action)s» no es una edición; use create, update o delete.",
    "“%(value)s” is not a policy for the areas below; use reparent or drop.": "«%(value)s» no es una regla para las áreas inferiores; use reparent (reubicar) o drop (eliminar).",
    "The proposal has no areas; a proposal replaces the areas with at least one.": "La propuesta no tiene áreas; una propuesta reemplaza las áreas con al menos una.",
    # services: rules
    "The code %(code)s is given to two areas; each %(kind)s needs its own code.": "La clave %(code)s está asignada a dos áreas; cada área de tipo %(kind)s necesita su propia clave.",
    "The code %(codes)s is already used by another %(kind)s; choose another code.": "La clave %(codes)s ya la usa otra área de tipo %(kind)s; elija otra clave.",
    "%(what)s overlaps %(others)s by %(area)s m²; areas of the same level may not overlap by more than %(tolerance)s m. Move the boundary onto the neighbour's edge.": "%(what)s se traslapa con %(others)s en %(area)s m²; las áreas del mismo nivel no pueden traslaparse más de %(tolerance)s m. Lleve el límite al borde del área vecina.",
    "%(area)s m² of %(what)s lie outside %(parent)s (tolerance %(tolerance)s m). Keep it inside its parent, or enlarge the parent first.": "%(area)s m² de %(what)s quedan fuera de %(parent)s (tolerancia %(tolerance)s m). Manténgala dentro de su área superior o amplíe primero el área superior.",
    "With this boundary, %(area)s m² of %(children)s would lie outside %(parent)s (tolerance %(tolerance)s m). Reshape or move them first.": "Con este límite, %(area)s m² de %(children)s quedarían fuera de %(parent)s (tolerancia %(tolerance)s m). Modifíquelas o muévalas primero.",
    "%(what)s still holds %(children)s; delete or move them first, or replace them with a proposal.": "%(what)s todavía contiene áreas de tipo %(children)s; elimínelas o muévalas primero, o reemplácelas con una propuesta.",
    "%(count)s %(kind)s(s) (%(codes)s) would not lie whole inside any of the proposed areas. Make the proposal follow their boundaries, redraw them first, or drop them with the proposal.": "%(count)s área(s) de tipo %(kind)s (%(codes)s) no quedarían completas dentro de ninguna de las áreas propuestas. Haga que la propuesta siga sus límites, redibújelas primero o elimínelas con la propuesta.",
    "The accounts or boundaries changed since the preview, so applying it now would not do what was shown. Preview the change again, then apply it.": "Las cuentas o los límites cambiaron desde la vista previa, así que aplicarla ahora no haría lo que se mostró. Genere de nuevo la vista previa y luego aplíquela.",
    # api
    # feminine, unlike «límite»: the geometry field messages say «La {field}»
    "area boundary": "delimitación del área",
    "Your role does not allow you to change %(kind)s areas.": "Su rol no le permite modificar áreas de tipo %(kind)s.",
    "Give bbox=minlon,minlat,maxlon,maxlat in WGS 84 degrees, with min < max within -180…180 and -90…90.": "Indique bbox=minlon,minlat,maxlon,maxlat en grados WGS 84, con mín < máx dentro de -180…180 y -90…90.",
    "Unknown layer “%(kind)s”; use one of: %(kinds)s.": "Capa desconocida «%(kind)s»; use una de: %(kinds)s.",
    "Give the parent area or a bbox: gaps are looked for inside them.": "Indique el área superior o un bbox: los huecos se buscan dentro de ellos.",
    "Say which area to change (its id).": "Indique qué área modificar (su id).",
    "“%(value)s” is not a whole number.": "«%(value)s» no es un número entero.",
    # demo
    "The demo sectors need the base map: no colonias found.": "Los sectores de demostración necesitan el mapa base: no se encontraron colonias.",
}
