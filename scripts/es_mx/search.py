"""Translations of roll search, the cadastre REST API and the customer-roll write services."""

ES_MX = {
    # cadastre/filters.py
    "Give the box as four numbers: min_lon,min_lat,max_lon,max_lat.": "Indique la caja con cuatro números: lon_mín,lat_mín,lon_máx,lat_máx.",
    "The box must be min_lon,min_lat,max_lon,max_lat in degrees, with the minimum below the maximum.": "La caja debe ser lon_mín,lat_mín,lon_máx,lat_máx en grados, con cada mínimo menor que su máximo.",
    "locality code": "clave de la localidad",
    "block id": "id de la manzana",
    "parcel id": "id del predio",
    "customer id": "id del usuario",
    "owner id": "id del propietario",
    # cadastre/roll_services.py
    "Parcel %(key)s is retired; use the parcels it was split or merged into.": "El predio %(key)s está dado de baja; use los predios en que se subdividió o fusionó.",
    "The owners' shares of parcel %(key)s would add up to %(total)s %%; they may not exceed 100 %%.": "Las participaciones de los propietarios del predio %(key)s sumarían %(total)s %%; no pueden pasar de 100 %%.",
    "A share must be more than 0 %% and at most 100 %% (got %(share)s %%).": "Una participación debe ser mayor que 0 %% y a lo más 100 %% (se recibió %(share)s %%).",
    "This owner already has a share of parcel %(key)s; change that share instead.": "Este propietario ya tiene una participación del predio %(key)s; modifique esa participación.",
    "it must have 12 characters (company) or 13 (person)": "debe tener 12 caracteres (persona moral) o 13 (persona física)",
    "the check digit (last character) does not match": "el dígito verificador (último carácter) no corresponde",
    "the date in it (YYMMDD) does not exist": "la fecha que contiene (AAMMDD) no existe",
    "use 3 or 4 letters, a date YYMMDD and 3 characters": "use 3 o 4 letras, una fecha AAMMDD y 3 caracteres",
    "The service point must be one point (got %(type)s).": "El punto de servicio debe ser un solo punto (se recibió %(type)s).",
    "The service point (%(x)s, %(y)s) is not a longitude/latitude; give coordinates in degrees or say their reference system (SRID).": "El punto de servicio (%(x)s, %(y)s) no es una longitud/latitud; indique coordenadas en grados o su sistema de referencia (SRID).",
    "The reference system EPSG:%(srid)s of the service point is unknown.": "El sistema de referencia EPSG:%(srid)s del punto de servicio es desconocido.",
    "The service point is %(distance)s m from parcel %(key)s; it must lie within %(limit)s m of it. Check the coordinates and their reference system.": "El punto de servicio está a %(distance)s m del predio %(key)s; debe quedar a no más de %(limit)s m. Revise las coordenadas y su sistema de referencia.",
    "A service account has water, sewer or both.": "Una cuenta de servicio tiene agua, drenaje o ambos.",
    # cadastre/api.py
    "What to look for.": "Qué buscar.",
}
