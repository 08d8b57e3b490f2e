"""Translations of the water network (network.models, services, selectors, api, epanet,
layers, admin, demo)."""

ES_MX = {
    # materials, statuses, kinds
    "PVC": "PVC",
    "Polyethylene (HDPE)": "Polietileno (PEAD)",
    "Ductile iron": "Hierro dúctil",
    "Cast iron": "Hierro fundido",
    "Steel": "Acero",
    "Asbestos cement": "Asbesto-cemento",
    "Concrete": "Concreto",
    "Unknown": "Desconocido",
    "In service": "En servicio",
    "Abandoned": "Abandonada",
    "Valve open": "Válvula abierta",
    "Valve closed": "Válvula cerrada",
    "Inoperable": "Inoperable",
    "Well": "Pozo",
    "Surface water intake": "Toma de agua superficial",
    "Spring": "Manantial",
    "Reservoir (fixed head)": "Embalse (carga fija)",
    "Ongoing": "En curso",
    "Service restored": "Servicio restablecido",
    "Waiting to be sent": "En espera de envío",
    "Sent to the customer": "Enviado al usuario",
    "Could not be sent": "No se pudo enviar",
    # fields and model names
    "pipe route": "trazo de la tubería",
    "install year": "año de instalación",
    "roughness (Hazen-Williams C)": "rugosidad (C de Hazen-Williams)",
    "pipe": "tubería",
    "pipes": "tuberías",
    "elevation (m)": "elevación (m)",
    "base demand (l/s)": "demanda base (l/s)",
    "junction": "nodo",
    "junctions": "nodos",
    "normal status": "posición normal",
    "current status": "posición actual",
    "operable": "operable",
    "False when the valve is seized or buried.": "Desmarcar si la válvula está trabada o enterrada.",
    "EPANET type": "tipo EPANET",
    "EPANET setting": "consigna EPANET",
    "EPANET start node": "nodo inicial EPANET",
    "EPANET end node": "nodo final EPANET",
    "valve": "válvula",
    "valves": "válvulas",
    "hydrant": "hidrante",
    "hydrants": "hidrantes",
    "bottom elevation (m)": "elevación de fondo (m)",
    "initial level (m)": "nivel inicial (m)",
    "minimum level (m)": "nivel mínimo (m)",
    "maximum level (m)": "nivel máximo (m)",
    "diameter (m)": "diámetro (m)",
    "tank": "tanque",
    "tanks": "tanques",
    "power (kW)": "potencia (kW)",
    "EPANET parameters": "parámetros EPANET",
    "pump": "bomba",
    "pumps": "bombas",
    "total head (m)": "carga total (m)",
    "water source": "fuente de abastecimiento",
    "water sources": "fuentes de abastecimiento",
    "tap on the pipe": "punto de toma en la tubería",
    "service connection": "toma domiciliaria",
    "service connections": "tomas domiciliarias",
    "sewer pipe": "tubería de alcantarillado",
    "sewer pipes": "tuberías de alcantarillado",
    "depth (m)": "profundidad (m)",
    "manhole": "pozo de visita",
    "manholes": "pozos de visita",
    "network vertex": "vértice de la red",
    "network vertices": "vértices de la red",
    "network edge": "tramo de la red",
    "network edges": "tramos de la red",
    "broken pipe": "tubería dañada",
    "break point": "punto de la fuga",
    "valves to close": "válvulas por cerrar",
    "isolated pipes": "tuberías aisladas",
    "isolated section": "sección aislada",
    "expected end": "fin previsto",
    "ended at": "terminó el",
    "repair work order": "orden de reparación",
    "outage": "corte de servicio",
    "outages": "cortes de servicio",
    "account in an outage": "cuenta en un corte de servicio",
    "accounts in an outage": "cuentas en un corte de servicio",
    "outage notice": "aviso de corte",
    "outage notices": "avisos de corte",
    # selectors and services
    "The point has no coordinate system (SRID).": "El punto no tiene sistema de coordenadas (SRID).",
    "The point's coordinate system (SRID %(srid)s) cannot be converted.": (
        "El sistema de coordenadas del punto (SRID %(srid)s) no se puede convertir."
    ),
    "Pipe %(pipe)s is not in service or not in the network graph.": (
        "La tubería %(pipe)s no está en servicio o no forma parte del grafo de la red."
    ),
    "No pipe in service within %(m)s m of the break point; click on a pipe.": (
        "No hay tubería en servicio a menos de %(m)s m del punto de la fuga; haga clic sobre "
        "una tubería."
    ),
    "Water service is interrupted at your address to repair a leak in the network. "
    "Service is expected back by %(end)s. We apologise for the inconvenience.": (
        "El servicio de agua en su domicilio está suspendido para reparar una fuga en la red. "
        "Se prevé restablecerlo a más tardar el %(end)s. Disculpe las molestias."
    ),
    "The expected end of the outage must be in the future.": (
        "El fin previsto del corte debe ser posterior a este momento."
    ),
    "Repair of pipe %(pipe)s: %(accounts)s accounts without water; close valves %(valves)s.": (
        "Reparación de la tubería %(pipe)s: %(accounts)s cuentas sin agua; cerrar las válvulas "
        "%(valves)s."
    ),
    "Outage %(id)s is already closed.": "El corte de servicio %(id)s ya está cerrado.",
    # api
    "connection_max_m must be a number of metres between 0 and 1000.": (
        "connection_max_m debe ser un número de metros entre 0 y 1000."
    ),
    "The file is larger than 100 MB.": "El archivo pesa más de 100 MB.",
    "The file is not UTF-8 text.": "El archivo no es texto UTF-8.",
    # demo
    "The demo water network needs the base map: no streets found.": (
        "La red hidráulica de demostración necesita el mapa base: no hay calles."
    ),
    # epanet
    "line %(line)s: %(message)s": "línea %(line)s: %(message)s",
    "The EPANET file has %(count)s errors; nothing was imported. %(errors)s": (
        "El archivo EPANET tiene %(count)s errores; no se importó nada. %(errors)s"
    ),
    "The coordinate transform must be finite and invertible.": (
        "La transformación de coordenadas debe ser finita e invertible."
    ),
    "%(what)s “%(value)s” is not a number.": "%(what)s: «%(value)s» no es un número.",
    "%(what)s “%(value)s” is out of range.": "%(what)s: «%(value)s» está fuera de rango.",
    "“%(id)s” is defined twice (first on line %(first)s).": (
        "«%(id)s» está definido dos veces (la primera en la línea %(first)s)."
    ),
    "section [%(section)s] needs at least %(count)s values on a line.": (
        "la sección [%(section)s] requiere al menos %(count)s valores por línea."
    ),
    "a section header must end with “]”.": "el encabezado de una sección debe terminar en «]».",
    "unknown flow units “%(units)s”.": "unidades de caudal desconocidas: «%(units)s».",
    "elevation": "elevación",
    "demand": "demanda",
    "head": "carga",
    "diameter": "diámetro",
    "a tank's levels must be minimum ≤ initial ≤ maximum.": (
        "los niveles de un tanque deben cumplir mínimo ≤ inicial ≤ máximo."
    ),
    "length": "longitud",
    "roughness": "rugosidad",
    "unknown valve type “%(type)s”.": "tipo de válvula desconocido: «%(type)s».",
    "node “%(id)s” has coordinates twice.": "el nodo «%(id)s» tiene coordenadas dos veces.",
    "data before the first [SECTION] header.": "datos antes del primer encabezado [SECCIÓN].",
    "link “%(link)s” names node “%(node)s”, which is not defined.": (
        "el enlace «%(link)s» menciona el nodo «%(node)s», que no está definido."
    ),
    "link “%(link)s” starts and ends at the same node.": (
        "el enlace «%(link)s» empieza y termina en el mismo nodo."
    ),
    "node “%(node)s” has no coordinates in [COORDINATES].": (
        "el nodo «%(node)s» no tiene coordenadas en [COORDINATES]."
    ),
    "coordinates for “%(node)s”, which is not a node.": (
        "coordenadas de «%(node)s», que no es un nodo."
    ),
    "vertices for “%(link)s”, which is not a pipe.": (
        "vértices de «%(link)s», que no es una tubería."
    ),
    "The transform gives coordinates that are not finite.": (
        "La transformación produce coordenadas no finitas."
    ),
    "pipe “%(id)s” has no length on the map (its nodes coincide).": (
        "la tubería «%(id)s» no tiene longitud en el mapa (sus nodos coinciden)."
    ),
    "pipe “%(id)s”: a diameter of %(mm)s mm is out of range.": (
        "tubería «%(id)s»: un diámetro de %(mm)s mm está fuera de rango."
    ),
    "%(what)s “%(id)s”, %(field)s: %(message)s": "%(what)s «%(id)s», %(field)s: %(message)s",
    "%(what)s “%(id)s”: its diameter rounds to zero.": (
        "%(what)s «%(id)s»: su diámetro se redondea a cero."
    ),
    "“%(id)s” already exists in the network.": "«%(id)s» ya existe en la red.",
    "An id in the file already exists in the network; nothing was imported (%(detail)s).": (
        "Un identificador del archivo ya existe en la red; no se importó nada (%(detail)s)."
    ),
    # layers
    "Pipes by material": "Tuberías por material",
    "Pipes by diameter": "Tuberías por diámetro",
    "under 100 mm": "menos de 100 mm",
    "100 to 249 mm": "de 100 a 249 mm",
    "250 to 499 mm": "de 250 a 499 mm",
    "500 mm and over": "500 mm o más",
    "Valves": "Válvulas",
    "Hydrants": "Hidrantes",
    "Tanks": "Tanques",
    "Water sources": "Fuentes de abastecimiento",
    "Manholes": "Pozos de visita",
    "Service connections": "Tomas domiciliarias",
    "Sewers": "Alcantarillado",
    "Active outages": "Cortes de servicio en curso",
}
