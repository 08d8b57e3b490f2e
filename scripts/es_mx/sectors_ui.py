"""Translations of the planner's sector map (sectors.views, sectors/templates/sectors/planner.html).

Strings shared with other pages (“Cancel”, “Dismiss”, “code”, “name”, “accounts”, “Legend”…)
live in their modules; only the planner's own are here.
"""

ES_MX = {
    # page
    "Sector planner": "Planificador de sectores",
    "Sector map": "Mapa de sectores",
    "Layer": "Capa",
    "Highlight coverage gaps": "Resaltar huecos de cobertura",
    "Area": "Área",
    "Edit boundary": "Editar límite",
    "Preview": "Vista previa",
    "Accounts that change area": "Cuentas que cambian de área",
    "Accounts per area": "Cuentas por área",
    "before": "antes",
    "after": "después",
    "gained": "entran",
    "lost": "salen",
    "Moves": "Movimientos",
    "account": "cuenta",
    "layer": "capa",
    "from": "de",
    "to": "a",
    "Apply": "Aplicar",
    "Discard": "Descartar",
    "Balance": "Balancear",
    "Draw area": "Dibujar área",
    "Areas to propose": "Áreas a proponer",
    "number of areas": "número de áreas",
    "or accounts per area": "o cuentas por área",
    "barrier streets (names, separated by commas)": "calles barrera (nombres, separados por comas)",
    "code prefix (optional)": "prefijo de clave (opcional)",
    "Propose": "Proponer",
    "Proposal beside the current areas": "Propuesta frente a las áreas actuales",
    "proposed": "propuesta",
    "current": "actual",
    "Proposed areas": "Áreas propuestas",
    "deviation": "desviación",
    "compactness": "compacidad",
    "Adopt": "Adoptar",
    "Area of the layer": "Área de la capa",
    "Coverage gap": "Hueco de cobertura",
    "Account entering the area": "Cuenta que entra al área",
    "Account leaving the area": "Cuenta que sale del área",
    "Other move": "Otro movimiento",
    # map messages
    "Loading areas…": "Cargando áreas…",
    "%(count)s areas of the layer in view.": "%(count)s áreas de la capa a la vista.",
    "The areas could not be loaded. Try again.": "No se pudieron cargar las áreas. Intente de nuevo.",
    "%(count)s coverage gaps in view (%(accounts)s accounts in them).": (
        "Huecos de cobertura a la vista: %(count)s (con %(accounts)s cuentas)."
    ),
    "The coverage gaps could not be loaded.": "No se pudieron cargar los huecos de cobertura.",
    "Select an area on the map.": "Seleccione un área en el mapa.",
    "%(count)s accounts": "%(count)s cuentas",
    "Working…": "Procesando…",
    "Drag the vertices of the boundary, then preview the change.": (
        "Arrastre los vértices del límite y luego vea la vista previa del cambio."
    ),
    "Edit the boundary first: it is still the stored one.": (
        "Primero edite el límite: sigue siendo el guardado."
    ),
    "Preview: %(accounts)s accounts would change area (%(moves)s moves). Nothing is saved until "
    "you apply it.": (
        "Vista previa: %(accounts)s cuentas cambiarían de área (%(moves)s movimientos). No se "
        "guarda nada hasta que lo aplique."
    ),
    "The table lists the first %(count)s moves of %(total)s.": (
        "La tabla muestra los primeros %(count)s movimientos de %(total)s."
    ),
    "Change applied: %(accounts)s accounts reassigned (%(moves)s moves).": (
        "Cambio aplicado: %(accounts)s cuentas reasignadas (%(moves)s movimientos)."
    ),
    "No account changes area.": "Ninguna cuenta cambia de área.",
    "no area": "sin área",
    "created": "creada",
    "changed": "modificada",
    "deleted": "eliminada",
    "moved to another parent": "movida a otra área superior",
    "The server could not do it (error %(status)s).": (
        "El servidor no pudo hacerlo (error %(status)s)."
    ),
    "Select an area or draw the area to balance.": "Seleccione un área o dibuje el área a balancear.",
    "Give the number of sectors or the accounts per sector.": (
        "Indique el número de sectores o las cuentas por sector."
    ),
    "Area drawn: it will be balanced.": "Área dibujada: es la que se balanceará.",
    "The selected area (%(code)s) will be balanced.": "Se balanceará el área seleccionada (%(code)s).",
    "%(count)s areas proposed.": "Áreas propuestas: %(count)s.",
    "To adopt a proposal, select the zone (for sectors) or the sector (for books) whose areas it "
    "replaces.": (
        "Para adoptar una propuesta, seleccione la zona (para sectores) o el sector (para libros) "
        "cuyas áreas reemplaza."
    ),
    "areas": "áreas",
    "accounts in all": "cuentas en total",
    "fewest accounts": "mínimo de cuentas",
    "most accounts": "máximo de cuentas",
    "mean accounts": "promedio de cuentas",
    "largest deviation (%)": "mayor desviación (%)",
    "mean compactness": "compacidad promedio",
    "lowest compactness": "compacidad mínima",
    "Within tolerance": "Dentro de la tolerancia",
    "Outside tolerance": "Fuera de la tolerancia",
}
