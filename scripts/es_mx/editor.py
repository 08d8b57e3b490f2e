"""Translations of the parcel editor: its API (cadastre/edit_api.py) and page (cadastre/views.py,
cadastre/templates/cadastre/editor.html)."""

ES_MX = {
    # API input errors (gis_core/edit_api.py, shared by every map API). {field} is a geometry
    # field's label: every label is a feminine noun in Spanish («La {field}»).
    "Send the {field} as a GeoJSON geometry object with 'type' and 'coordinates'.": (
        "Envíe la {field} como un objeto de geometría GeoJSON con 'type' y 'coordinates'."
    ),
    "The {field} must be a GeoJSON {expected}, not {got}.": (
        "La {field} debe ser un {expected} de GeoJSON, no {got}."
    ),
    "The {field} is not valid GeoJSON: {reason}": "La {field} no es GeoJSON válido: {reason}",
    "The {field} is empty.": "La {field} está vacía.",
    "The {field} has {count} vertices; at most {max} are accepted.": (
        "La {field} tiene {count} vértices; se aceptan como máximo {max}."
    ),
    "The {field} has coordinates outside longitude -180…180 / latitude -90…90: "
    "send WGS 84 degrees (longitude first).": (
        "La {field} tiene coordenadas fuera de longitud -180…180 / latitud -90…90: envíe grados "
        "WGS 84 (primero la longitud)."
    ),
    "%(types)s or %(last)s": "%(types)s o %(last)s",
    "geometry": "geometría",
    "split line": "línea de corte",
    "Give bbox=minlon,minlat,maxlon,maxlat in WGS 84 degrees.": (
        "Indique bbox=minlon,minlat,maxlon,maxlat en grados WGS 84."
    ),
    "The bbox must have minlon < maxlon and minlat < maxlat, within -180…180 and -90…90.": (
        "El bbox debe cumplir minlon < maxlon y minlat < maxlat, dentro de -180…180 y -90…90."
    ),
    "Block %(id)s does not exist.": "La manzana %(id)s no existe.",
    "Select at least two different parcels to merge.": (
        "Seleccione al menos dos predios distintos para fusionar."
    ),
    "These parcels do not exist: %(ids)s.": "Estos predios no existen: %(ids)s.",
    # Editor page
    "Parcel editor": "Editor de predios",
    "Parcel map": "Mapa de predios",
    "Dismiss": "Cerrar aviso",
    "Editing tools": "Herramientas de edición",
    "Tools": "Herramientas",
    "Draw parcel": "Dibujar predio",
    "Edit outline": "Editar contorno",
    "Split parcel": "Subdividir",
    "Merge parcels": "Fusionar",
    "Save outline": "Guardar contorno",
    "Cancel": "Cancelar",
    "Cancel drawing": "Cancelar dibujo",
    "Parcel": "Predio",
    "Save": "Guardar",
    "Discard new parcel": "Descartar predio nuevo",
    "Land use": "Uso de suelo",
    "land area (m²)": "superficie de terreno (m²)",
    "Zoom in to see and edit parcels.": "Acerque el mapa para ver y editar los predios.",
    "Loading parcels…": "Cargando predios…",
    "%(count)s parcels in view.": "%(count)s predios en la vista.",
    "Showing the first %(count)s parcels of this view: zoom in to see all.": (
        "Se muestran los primeros %(count)s predios de esta vista: acerque el mapa para verlos "
        "todos."
    ),
    "The parcels could not be loaded. Try again.": (
        "No se pudieron cargar los predios. Intente de nuevo."
    ),
    "Saving…": "Guardando…",
    "Saved.": "Guardado.",
    "Parcel %(key)s created.": "Predio %(key)s creado.",
    "New outline of parcel %(key)s saved.": "Nuevo contorno del predio %(key)s guardado.",
    "Parcel split into %(count)s parcels: %(keys)s.": (
        "Predio subdividido en %(count)s predios: %(keys)s."
    ),
    "Parcels merged into %(key)s.": "Predios fusionados en %(key)s.",
    "The server could not be reached; nothing was saved.": (
        "No se pudo contactar al servidor; no se guardó nada."
    ),
    "The server could not save the change (error %(status)s).": (
        "El servidor no pudo guardar el cambio (error %(status)s)."
    ),
    "New parcel": "Predio nuevo",
    "Click to place the vertices; click the first vertex to close it.": (
        "Haga clic para colocar los vértices; haga clic en el primer vértice para cerrarlo."
    ),
    "Draw a line across the selected parcel; click its last point again to finish.": (
        "Trace una línea que atraviese el predio seleccionado; haga clic de nuevo en su último "
        "punto para terminar."
    ),
    "Drag the vertices (they snap to neighbours); then save the outline.": (
        "Arrastre los vértices (se ajustan a los colindantes); después guarde el contorno."
    ),
    "Ctrl-click (or ⌘-click) to select more parcels to merge.": (
        "Use Ctrl+clic (o ⌘+clic) para seleccionar más predios a fusionar."
    ),
    "Select a parcel on the map.": "Seleccione un predio en el mapa.",
    "%(count)s parcels selected.": "%(count)s predios seleccionados.",
    "No parcel selected.": "Ningún predio seleccionado.",
    "The change was rejected": "El cambio fue rechazado",
    "Draw a new parcel": "Dibujar un predio nuevo",
    "Edit the outline of the selected parcel": "Editar el contorno del predio seleccionado",
    "Split the selected parcel with a line": "Subdividir el predio seleccionado con una línea",
    "Merge the selected parcels": "Fusionar los predios seleccionados",
}
