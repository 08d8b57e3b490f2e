"""Translations of the network editor: its services (network/editing.py), API
(network/edit_api.py), GIS-file import (network/imports.py) and page (network/views.py,
network/templates/network/editor.html)."""

ES_MX = {
    # Services: geometry and attribute rules
    "A pipe must be drawn as one line (a LineString).": (
        "Una tubería se traza como una sola línea (un LineString)."
    ),
    "The pipe has no vertices.": "La tubería no tiene vértices.",
    "The pipe has %(count)s vertices; at most %(max)s are allowed.": (
        "La tubería tiene %(count)s vértices; se permiten como máximo %(max)s."
    ),
    "The pipe has no coordinate system (SRID).": (
        "La tubería no tiene sistema de coordenadas (SRID)."
    ),
    "The pipe's coordinate system (SRID %(srid)s) cannot be converted.": (
        "El sistema de coordenadas de la tubería (SRID %(srid)s) no se puede convertir."
    ),
    "Pipe %(code)s: the line is not valid (%(reason)s).": (
        "Tubería %(code)s: la línea no es válida (%(reason)s)."
    ),
    "Pipe %(code)s crosses itself; draw it without loops.": (
        "La tubería %(code)s se cruza a sí misma; trácela sin rizos."
    ),
    "Pipe %(code)s would be %(length)s m long near %(xy)s; a pipe must be at least %(min)s m "
    "long.": (
        "La tubería %(code)s mediría %(length)s m cerca de %(xy)s; una tubería debe medir al "
        "menos %(min)s m."
    ),
    "“%(value)s” is not a valid %(what)s; choose one of: %(choices)s.": (
        "«%(value)s» no es válido como %(what)s; elija uno de: %(choices)s."
    ),
    "The diameter must be a whole number of millimetres from 1 to %(max)s.": (
        "El diámetro debe ser un número entero de milímetros de 1 a %(max)s."
    ),
    "The install year must be between 1850 and 2100 (or empty if unknown).": (
        "El año de instalación debe estar entre 1850 y 2100 (o vacío si se desconoce)."
    ),
    "The code must have 1 to %(max)s characters.": "La clave debe tener de 1 a %(max)s caracteres.",
    "Code %(code)s is already used by another %(what)s; choose another.": (
        "La clave %(code)s ya la usa otro elemento (%(what)s); elija otra."
    ),
    "No free code is left for a piece of %(code)s.": (
        "No queda ninguna clave libre para un tramo de %(code)s."
    ),
    "The pipe no longer exists.": "La tubería ya no existe.",
    "The new route of pipe %(code)s passes more than %(max)s m from the service connection of "
    "account %(account)s at %(xy)s. Connect that account to another pipe first, or draw the "
    "route closer to it.": (
        "El nuevo trazo de la tubería %(code)s pasa a más de %(max)s m de la toma de la cuenta "
        "%(account)s en %(xy)s. Conecte primero esa cuenta a otra tubería o trace el recorrido "
        "más cerca de ella."
    ),
    "Pipe %(code)s (near %(xy)s) supplies %(count)s service connections; connect them to "
    "another pipe before deleting it, or mark it abandoned.": (
        "La tubería %(code)s (cerca de %(xy)s) abastece %(count)s tomas; conéctelas a otra "
        "tubería antes de eliminarla, o márquela como abandonada."
    ),
    "Pipe %(code)s is part of recorded outages and is kept for their history; mark it "
    "abandoned instead.": (
        "La tubería %(code)s forma parte de cortes registrados y se conserva para su "
        "historial; márquela como abandonada."
    ),
    "There is no pipe within %(tol)s m of the %(what)s at %(xy)s; place it on a pipe (in "
    "service or planned).": (
        "No hay tubería a menos de %(tol)s m del punto %(xy)s (%(what)s); colóquelo sobre una "
        "tubería (en servicio o proyectada)."
    ),
    "The %(what)s no longer exists.": "El elemento (%(what)s) ya no existe.",
    "valve state": "estado de la válvula",
    "Say whether the valve can be operated.": "Indique si la válvula se puede operar.",
    # Import reasons
    "Diameter “%(detail)s” is not a whole number of millimetres from 1 to %(max)s.": (
        "El diámetro «%(detail)s» no es un número entero de milímetros de 1 a %(max)s."
    ),
    "Install year “%(detail)s” is not a year from 1850 to 2100.": (
        "El año de instalación «%(detail)s» no es un año de 1850 a 2100."
    ),
    "The pipe is %(detail)s m long; a pipe must be at least %(min)s m long.": (
        "La tubería mide %(detail)s m; una tubería debe medir al menos %(min)s m."
    ),
    "No pipe within %(tol)s m of the valve (nearest: %(detail)s m); import the pipes first or "
    "move the valve onto one.": (
        "No hay tubería a menos de %(tol)s m de la válvula (la más cercana: %(detail)s m); "
        "importe primero las tuberías o mueva la válvula sobre una."
    ),
    # Editor page
    "Network editor": "Editor de red",
    "Network map": "Mapa de la red",
    "Draw pipe": "Trazar tubería",
    "Place valve": "Colocar válvula",
    "Edit route": "Editar trazo",
    "Delete": "Eliminar",
    "Save route": "Guardar trazo",
    "Selection": "Selección",
    "Select a pipe or a valve on the map.": "Seleccione una tubería o una válvula en el mapa.",
    "numbered when empty": "se numera si se deja vacía",
    "Zoom in to see and edit the network.": "Acerque el mapa para ver y editar la red.",
    "Loading the network…": "Cargando la red…",
    "%(pipes)s pipes and %(valves)s valves in view.": (
        "%(pipes)s tuberías y %(valves)s válvulas a la vista."
    ),
    "Showing part of the network in this view: zoom in to see all of it.": (
        "Se muestra parte de la red de esta vista: acerque el mapa para verla completa."
    ),
    "The network could not be loaded. Try again.": "No se pudo cargar la red. Intente de nuevo.",
    "Pipe %(code)s created.": "Tubería %(code)s creada.",
    "Pipe %(code)s created; the pipes it joins were split to connect it.": (
        "Tubería %(code)s creada; las tuberías a las que se une se dividieron para conectarla."
    ),
    "New route of pipe %(code)s saved.": "Nuevo trazo de la tubería %(code)s guardado.",
    "Pipe %(code)s deleted.": "Tubería %(code)s eliminada.",
    "Valve %(code)s placed on the pipe.": "Válvula %(code)s colocada sobre la tubería.",
    "Valve %(code)s moved.": "Válvula %(code)s movida.",
    "Valve %(code)s deleted.": "Válvula %(code)s eliminada.",
    "Delete %(code)s? This cannot be undone here.": (
        "¿Eliminar %(code)s? Esto no se puede deshacer aquí."
    ),
    "New pipe": "Tubería nueva",
    "New valve": "Válvula nueva",
    "Pipe %(code)s": "Tubería %(code)s",
    "Valve %(code)s": "Válvula %(code)s",
    "Click to place the vertices; click the last one again to finish. Ends within %(tol)s m "
    "of a pipe join it.": (
        "Haga clic para colocar los vértices; vuelva a hacer clic en el último para terminar. "
        "Los extremos a menos de %(tol)s m de una tubería se unen a ella."
    ),
    "Click on a pipe to place the valve.": "Haga clic sobre una tubería para colocar la válvula.",
    "Drag the vertices (ends snap onto other pipes); then save the route.": (
        "Arrastre los vértices (los extremos se ajustan a otras tuberías); luego guarde el trazo."
    ),
    "Drag the valve along its pipe; then save.": (
        "Arrastre la válvula a lo largo de su tubería; luego guarde."
    ),
}
