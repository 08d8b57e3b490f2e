"""Translations of the automatic balanced sectors (sectors.balancing, sectors.balancing_api)."""

ES_MX = {
    # names of proposed areas
    "Zone %(number)s": "Zona %(number)s",
    "Sector %(number)s": "Sector %(number)s",
    "Reading book %(number)s": "Libro de lectura %(number)s",
    # the request
    "“%(level)s” is not a level of the commercial hierarchy; use one of: %(levels)s.": (
        "«%(level)s» no es un nivel de la jerarquía comercial; use uno de: %(levels)s."
    ),
    "Give either an area (a polygon) or a list of blocks.": (
        "Indique un área (un polígono) o una lista de manzanas, no ambas."
    ),
    "Give either the number of sectors or a target number of accounts per sector.": (
        "Indique el número de sectores o una meta de cuentas por sector, no ambos."
    ),
    "The number of sectors must be 1 or more.": "El número de sectores debe ser 1 o más.",
    "The target number of accounts per sector must be 1 or more.": (
        "La meta de cuentas por sector debe ser 1 o más."
    ),
    # the area
    "The area must be a polygon or a multipolygon, not a %(kind)s.": (
        "El área debe ser un polígono o un multipolígono, no de tipo %(kind)s."
    ),
    "The area is empty; draw it on the map.": "El área está vacía; dibújela en el mapa.",
    "The area is not a valid polygon (%(reason)s). Redraw it without crossing lines.": (
        "El área no es un polígono válido (%(reason)s). Vuelva a dibujarla sin líneas que se "
        "crucen."
    ),
    "The area cannot be transformed from EPSG:%(srid)s: its coordinates lie outside that system's area. Send longitude/latitude (EPSG:4326).": (
        "El área no se puede transformar desde EPSG:%(srid)s: sus coordenadas quedan fuera del "
        "área de ese sistema. Envíe longitud/latitud (EPSG:4326)."
    ),
    "The area holds no blocks. Draw it over the blocks to divide, or choose blocks.": (
        "El área no contiene manzanas. Dibújela sobre las manzanas por dividir o elija las "
        "manzanas."
    ),
    "There is no block with id %(ids)s.": "No existe la manzana con id %(ids)s.",
    "The blocks of the area hold no active service accounts; there is nothing to balance. Choose an area with accounts.": (
        "Las manzanas del área no tienen cuentas activas; no hay nada que equilibrar. Elija un "
        "área con cuentas."
    ),
    # barrier streets
    "No street is named %(names)s. Give barrier streets by their names as the map shows them.": (
        "Ninguna calle se llama %(names)s. Indique las calles barrera por su nombre, como "
        "aparecen en el mapa."
    ),
    "There is no street segment with id %(ids)s.": "No existe el tramo de calle con id %(ids)s.",
    # why a division cannot be made
    "%(n)s sectors were asked for, but the area has only %(count)s blocks with accounts and a sector is made of whole blocks. Choose at most %(count)s sectors.": (
        "Se pidieron %(n)s sectores, pero el área solo tiene %(count)s manzanas con cuentas y un "
        "sector se forma con manzanas completas. Elija como máximo %(count)s sectores."
    ),
    "Block %(block)s has %(accounts)s accounts, more than one sector may hold (%(high)s: the mean of %(mean)s plus %(tolerance)s%%). A sector is made of whole blocks: choose fewer sectors.": (
        "La manzana %(block)s tiene %(accounts)s cuentas, más de las que admite un sector "
        "(%(high)s: el promedio de %(mean)s más %(tolerance)s%%). Un sector se forma con "
        "manzanas completas: elija menos sectores."
    ),
    "Blocks %(blocks)s face no other block of the area across a street or a crossing (or a barrier street cuts them off) and hold no accounts, so they cannot join any sector. Leave them out of the area or drop the barrier.": (
        "Las manzanas %(blocks)s no quedan frente a ninguna otra manzana del área, ni al otro "
        "lado de una calle ni de un cruce (o una calle barrera las separa), y no tienen cuentas, "
        "así que no pueden unirse a ningún sector. Déjelas fuera del área o quite la barrera."
    ),
    "Blocks %(blocks)s are cut off from the rest of the area (by a barrier street, or by gaps wider than %(gap)s m) and hold %(accounts)s accounts: no whole number of sectors of %(low)s to %(high)s accounts can be made of them. Choose another number of sectors, change the area or drop a barrier.": (
        "Las manzanas %(blocks)s quedan separadas del resto del área (por una calle barrera o por "
        "espacios de más de %(gap)s m) y tienen %(accounts)s cuentas: con ellas no se puede formar "
        "un número entero de sectores de %(low)s a %(high)s cuentas. Elija otro número de "
        "sectores, cambie el área o quite una barrera."
    ),
    "The area falls into %(pieces)s pieces not connected to each other (barrier streets or wide gaps separate them); sectors cannot span two pieces, and within ±%(tolerance)s%% of the mean these pieces need between %(low)s and %(high)s sectors, not %(n)s.": (
        "El área queda dividida en %(pieces)s partes no conectadas entre sí (las separan calles "
        "barrera o espacios amplios); un sector no puede abarcar dos partes y, dentro de "
        "±%(tolerance)s%% del promedio, estas partes necesitan entre %(low)s y %(high)s "
        "sectores, no %(n)s."
    ),
    "Blocks %(blocks)s cannot be divided into %(k)s contiguous sectors. Choose another number of sectors or change the area.": (
        "Las manzanas %(blocks)s no se pueden dividir en %(k)s sectores contiguos. Elija otro "
        "número de sectores o cambie el área."
    ),
    "No division into %(n)s contiguous sectors within ±%(tolerance)s%% of the mean (%(mean)s accounts) was found; the best one found is %(worst)s%% off. Try another number of sectors or fewer barrier streets.": (
        "No se encontró una división en %(n)s sectores contiguos dentro de ±%(tolerance)s%% del "
        "promedio (%(mean)s cuentas); la mejor encontrada se desvía %(worst)s%%. Pruebe otro "
        "número de sectores o menos calles barrera."
    ),
}
