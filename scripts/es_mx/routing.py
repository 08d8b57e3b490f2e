"""Translations of route optimization (routing.models, matrix, services, api, tasks, views and
the route planner page)."""

ES_MX = {
    "Route optimization": "Optimización de rutas",
    "Reading routes": "Rutas de lectura",
    "reading sequence": "orden de lectura",
    "Routing graph: %(vertices)s vertices, %(edges)s edges in %(seconds).1f s.": (
        "Grafo de ruteo: %(vertices)s vértices, %(edges)s aristas en %(seconds).1f s."
    ),
    # models
    "position": "posición",
    "routing vertex": "vértice de ruteo",
    "routing vertices": "vértices de ruteo",
    "source vertex": "vértice de origen",
    "target vertex": "vértice de destino",
    "length (m)": "longitud (m)",
    "routing edge": "arista de ruteo",
    "routing edges": "aristas de ruteo",
    "Meter reading": "Lectura de medidores",
    "Collector visits": "Visitas de cobranza",
    "Crew day": "Jornada de cuadrilla",
    "Waiting for a worker": "En espera de un proceso",
    "Running": "En ejecución",
    "Published": "Publicada",
    "progress (%)": "avance (%)",
    "previous plan (stable mode)": "plan anterior (modo estable)",
    "result": "resultado",
    "started at": "iniciado el",
    "published at": "publicado el",
    "optimization run": "optimización de rutas",
    "optimization runs": "optimizaciones de rutas",
    # matrix
    "Unknown travel profile: %(name)s.": "Perfil de traslado desconocido: %(name)s.",
    "The speed must be greater than zero.": "La velocidad debe ser mayor que cero.",
    "There are no points to route.": "No hay puntos que rutear.",
    "There are no streets to route on: load the street layer first.": (
        "No hay calles sobre las cuales rutear: cargue primero la capa de calles."
    ),
    "At most %(max)s points per cost matrix.": "Como máximo %(max)s puntos por matriz de costos.",
    # services
    "Unknown parameters: %(names)s.": "Parámetros desconocidos: %(names)s.",
    "Give a whole number of at least 1.": "Indique un número entero de 1 o más.",
    "Give a number greater than zero.": "Indique un número mayor que cero.",
    "Give the number of readers (or days), or a cap on meters or minutes per route.": (
        "Indique el número de lecturistas (o días), o un tope de medidores o de minutos por ruta."
    ),
    "The method is “partition” or “vrp”.": "El método es «partition» o «vrp».",
    "The start is the first meter or the office.": "El inicio es el primer medidor o la oficina.",
    "Place the office on the map, or start at the first meter.": (
        "Ubique la oficina en el mapa, o inicie en el primer medidor."
    ),
    "The balance tolerance is between 1% and 50%.": ("La tolerancia de balance va de 1% a 50%."),
    "The time limit is at most one hour.": "El tiempo límite es de una hora como máximo.",
    "Pick a reading book, a sector, a cycle or a list of accounts.": (
        "Elija un libro de lectura, un sector, un ciclo o una lista de cuentas."
    ),
    "Stable mode and locked routes need the previous plan.": (
        "El modo estable y las rutas bloqueadas necesitan el plan anterior."
    ),
    "The previous plan has no routes yet.": "El plan anterior todavía no tiene rutas.",
    "There are no meters to read in the selection.": ("No hay medidores que leer en la selección."),
    "At most %(max)s meters per plan: pick a smaller area.": (
        "Como máximo %(max)s medidores por plan: elija un área más pequeña."
    ),
    "Snapping meters to the streets…": "Ubicando los medidores sobre las calles…",
    "A locked route is not in the previous plan.": (
        "Una ruta bloqueada no está en el plan anterior."
    ),
    "Optimizing routes…": "Optimizando rutas…",
    "Every route is locked: unlock one to place the other meters.": (
        "Todas las rutas están bloqueadas: desbloquee una para acomodar los demás medidores."
    ),
    "Measuring the routes…": "Midiendo las rutas…",
    "No plan fits the caps: allow more readers, more meters or more minutes per route.": (
        "Ningún plan cabe en los topes: permita más lecturistas, más medidores o más minutos "
        "por ruta."
    ),
    "A published plan is not edited: run a new one.": (
        "Un plan publicado no se edita: ejecute uno nuevo."
    ),
    "The plan is not ready yet.": "El plan todavía no está listo.",
    "There is no such route.": "No existe esa ruta.",
    "The meter is not in this plan.": "El medidor no está en este plan.",
    "The route is locked: unlock it to change it.": (
        "La ruta está bloqueada: desbloquéela para cambiarla."
    ),
    "There are no visits to plan.": "No hay visitas que planear.",
    "A time window ends before it starts.": "Una ventana horaria termina antes de empezar.",
    "The visits do not fit the day: add crews, widen the windows or make them optional.": (
        "Las visitas no caben en la jornada: agregue cuadrillas, amplíe las ventanas o "
        "márquelas como opcionales."
    ),
    "The optimization stopped on an unexpected error: %(error)s": (
        "La optimización se detuvo por un error inesperado: %(error)s"
    ),
    "The optimization took too long and was stopped.": (
        "La optimización tardó demasiado y se detuvo."
    ),
    # planner page
    "Route planner": "Planificador de rutas",
    "Route map": "Mapa de rutas",
    "The request was rejected": "La solicitud fue rechazada",
    "Readers (or days)": "Lecturistas (o días)",
    "or at most meters per route": "o como máximo medidores por ruta",
    "or at most minutes per route": "o como máximo minutos por ruta",
    "Minutes at each meter": "Minutos en cada medidor",
    "Travel": "Traslado",
    "Walking": "A pie",
    "Driving": "En vehículo",
    "Time limit (seconds)": "Tiempo límite (segundos)",
    "Stable: keep the previous plan, add new meters": (
        "Estable: conservar el plan anterior y agregar los medidores nuevos"
    ),
    "Optimize": "Optimizar",
    "Compact: routes do not cross": "Compactas: las rutas no se cruzan",
    "Shortest total walk (routes may cross)": "Menor recorrido total (las rutas pueden cruzarse)",
    "Plan": "Plan",
    "Proposed routes beside the current books": "Rutas propuestas frente a los libros actuales",
    "km": "km",
    "minutes": "minutos",
    "imbalance": "desbalance",
    "Routes": "Rutas",
    "route": "ruta",
    "lock": "bloquear",
    "Move to route": "Mover a la ruta",
    "Move": "Mover",
    "Publish": "Publicar",
    "Pick a reading book.": "Elija un libro de lectura.",
    "Waiting for a worker…": "En espera de un proceso…",
    "Optimizing… %(progress)s%%": "Optimizando… %(progress)s%%",
    "Plan ready: %(routes)s routes, %(km)s km, %(minutes)s minutes.": (
        "Plan listo: %(routes)s rutas, %(km)s km, %(minutes)s minutos."
    ),
    "The optimization failed: %(message)s": "La optimización falló: %(message)s",
    "Published: the field app reads the book in this order.": (
        "Publicado: la app de campo lee el libro en este orden."
    ),
    "Route %(n)s": "Ruta %(n)s",
    "Meter %(number)s selected: pick the route to move it to.": (
        "Medidor %(number)s seleccionado: elija la ruta a la que se moverá."
    ),
    "Meter moved.": "Medidor movido.",
    "locked": "bloqueada",
    "current books": "libros actuales",
    "proposed routes": "rutas propuestas",
    "saved": "ahorro",
    "Publish these routes? They become the reading order of the field app.": (
        "¿Publicar estas rutas? Serán el orden de lectura de la app de campo."
    ),
}
