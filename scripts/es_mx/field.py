"""Translations of the meter readers' field app: its pages (metering/field_views.py,
metering/templates/metering/field_app.html, the sentences of static/js/field-app.js) and its API
(metering/field_api.py)."""

ES_MX = {
    # Page
    "Readings": "Lecturas",
    "Today's readings": "Lecturas de hoy",
    "Back to Caudal": "Volver a Caudal",
    "Sync status": "Estado del envío",
    "Not sent": "Sin enviar",
    "Sent": "Enviadas",
    "Refused": "Rechazadas",
    "Send now": "Enviar ahora",
    "Sign in again": "Iniciar sesión de nuevo",
    "Sign out": "Cerrar sesión",
    "Views": "Vistas",
    "Route": "Ruta",
    "Map": "Mapa",
    "Captured": "Capturadas",
    "Loading today's work…": "Cargando el trabajo de hoy…",
    "Map of today's route": "Mapa de la ruta de hoy",
    "Nothing captured yet.": "Todavía no hay capturas.",
    "Account": "Cuenta",
    "Meter": "Medidor",
    "This meter already has a capture today; saving adds another one.": (
        "Este medidor ya tiene una captura hoy; al guardar se agrega otra."
    ),
    "Reading (m³)": "Lectura (m³)",
    "Observation": "Observación",
    "No observation": "Sin observación",
    "Photo": "Foto",
    "Photo of the meter": "Foto del medidor",
    "Take a photo of the meter for this observation.": (
        "Tome una foto del medidor para esta observación."
    ),
    "Cancel": "Cancelar",
    "Save reading": "Guardar lectura",
    # Sentences of the script
    "Online": "En línea",
    "Offline": "Sin conexión",
    "Pending": "Pendiente",
    "Synced": "Enviada",
    "Synced · conflict": "Enviada · conflicto",
    "Rejected": "Rechazada",
    "Not read": "Sin leer",
    "Already read": "Ya leído",
    "Sending…": "Enviando…",
    "Readings sent: %(count)s.": "Lecturas enviadas: %(count)s.",
    "Reading saved on the phone.": "Lectura guardada en el teléfono.",
    "No network: the readings stay on the phone and are sent when it returns.": (
        "Sin red: las lecturas se quedan en el teléfono y se envían cuando vuelva."
    ),
    "The server could not be reached; trying again shortly.": (
        "No se pudo contactar al servidor; se reintentará en breve."
    ),
    "Your session has ended: sign in again to send the readings.": (
        "Su sesión terminó: inicie sesión de nuevo para enviar las lecturas."
    ),
    "The server did not accept the sending; trying again shortly.": (
        "El servidor no aceptó el envío; se reintentará en breve."
    ),
    "Today's work could not be loaded and there is no copy on this phone.": (
        "No se pudo cargar el trabajo de hoy y no hay una copia en este teléfono."
    ),
    "You have no route assigned today.": "Hoy no tiene ruta asignada.",
    "Meters to read today: %(count)s.": "Medidores por leer hoy: %(count)s.",
    "(copy from %(time)s, no network)": "(copia de las %(time)s, sin red)",
    "No address": "Sin domicilio",
    "Account %(account)s · meter %(serial)s": "Cuenta %(account)s · medidor %(serial)s",
    "reading %(value)s": "lectura %(value)s",
    "Preparing the photo…": "Preparando la foto…",
    "The photo could not be read. Take it again.": "No se pudo leer la foto. Tómela de nuevo.",
    "The reading arrived; its photo was refused: %(reason)s": (
        "La lectura llegó; su foto fue rechazada: %(reason)s"
    ),
    "Some readings have not been sent yet. They stay on this phone and are sent when you "
    "sign in again. Sign out anyway?": (
        "Hay lecturas sin enviar. Se quedan en este teléfono y se envían cuando vuelva a "
        "iniciar sesión. ¿Cerrar sesión de todos modos?"
    ),
    "Getting the GPS position…": "Obteniendo la posición GPS…",
    "GPS position within %(accuracy)s m.": "Posición GPS con precisión de %(accuracy)s m.",
    "GPS not allowed: the reading is saved without a position.": (
        "GPS no permitido: la lectura se guarda sin posición."
    ),
    "No GPS position: the reading is saved without one.": (
        "Sin posición GPS: la lectura se guarda sin ella."
    ),
    "Type only the digits of the meter.": "Escriba solo los dígitos del medidor.",
    "This meter has %(dials)s digits.": "Este medidor tiene %(dials)s dígitos.",
    "Type the reading or choose an observation.": "Escriba la lectura o elija una observación.",
    # Access, manifest
    "The field app is for meter readers. Ask an administrator for the role.": (
        "La aplicación de campo es para lecturistas. Pida el rol a un administrador."
    ),
    "Caudal — meter readings": "Caudal — lecturas",
    "Today's reading routes, offline capture of readings and photos.": (
        "Las rutas de lectura de hoy; captura de lecturas y fotos sin conexión."
    ),
}
