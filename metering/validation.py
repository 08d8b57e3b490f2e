"""Validation of readings on arrival — one SQL pipeline for the field sync and the bulk file.

Both paths put their rows, as text, into a staging table (:func:`stage_create`), then call
:func:`stage_resolve` (parse, find the meter and period, reject what cannot be stored, spot
duplicates) and :func:`stage_evaluate` (place each reading in its meter's chain, compute its
consumption, raise flags), and write with :func:`stage_write`. Readings already stored whose
chain changed (a late reading arrived before them, or the one before them was rejected) go
through the same evaluation again with :func:`readings_recheck`. One SQL text, so the two paths
cannot disagree.

Rejected (not stored; the answer says why and where, see :data:`REJECTION_MESSAGES`): bad client
id, no/unknown/uninstalled meter, bad or future time, time before the meter's installation,
unknown observation, bad value or a value with more digits than the dials, a value missing
(or one given with an observation that excludes it), bad position/accuracy/photo/device, no open
period for the date (sync) or a date/cycle outside the file's period (bulk).

Flagged (stored, status ``flagged``, into the review queue) by the rules of the
``ValidationRule`` table; each rule can be disabled and its thresholds set in ``params``
(defaults and meaning in :data:`RULE_PARAMS`):

- ``below_previous``: the value is below the previous reading of the meter and it is not a
  rollover. Rollover: the register wraps at ``10^dials``; a value below the previous one whose
  wrapped difference ``value + 10^dials - previous`` is at most ``rollover_max_fraction`` of
  ``10^dials`` is a rollover: consumption is that wrapped difference, nothing is flagged.
- ``zero_consumption``: consumption 0 now and in the ``periods - 1`` regular readings before.
- ``high_consumption``: consumption above the average of the meter's last
  ``history_readings`` valid/accepted regular readings by more than ``percent`` % AND by more
  than ``min_excess_m3`` m³; needs at least ``min_history`` of them.
- ``gps_far``: the reader's position is farther from the meter (its location, else the
  account's service point) than ``max_distance_m`` plus the reported accuracy (accuracy counted
  up to ``max_accuracy_m``).
- ``photo_missing``: no photo although the observation requires one (or ``always``).
- ``conflict``: another regular reading with a value of the same meter in the same period
  (another device, or the same twice); both are kept and both flagged.
- ``observation``: the observation code is one that needs review (leak, tampered…).

The chain: previous reading = the latest reading with a value of the same meter captured
before (stored readings in chain statuses and earlier rows of the same batch). Consumption of
an installation reading is 0; of a meter's first reading without any before it, unknown (NULL).
"""

from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from metering.models import RuleCode, ValidationRule

# --- Rules ----------------------------------------------------------------------------------

# code → {param: (default, type, minimum, maximum, meaning)}
RULE_PARAMS: dict[str, dict[str, tuple]] = {
    RuleCode.BELOW_PREVIOUS: {
        "rollover_max_fraction": (
            0.1,
            float,
            0.0,
            0.5,
            gettext_lazy("Largest wrapped difference counted as a rollover, share of 10^dials."),
        ),
    },
    RuleCode.ZERO_CONSUMPTION: {
        "periods": (3, int, 2, 24, gettext_lazy("Consecutive zero readings that raise a flag.")),
    },
    RuleCode.HIGH_CONSUMPTION: {
        "history_readings": (6, int, 1, 24, gettext_lazy("Past readings averaged.")),
        "min_history": (3, int, 1, 24, gettext_lazy("Past readings needed to judge.")),
        "percent": (100, float, 0, 10_000, gettext_lazy("Excess over the average, percent.")),
        "min_excess_m3": (10, float, 0, 1_000_000, gettext_lazy("Excess over the average, m³.")),
    },
    RuleCode.GPS_FAR: {
        "max_distance_m": (50, float, 1, 100_000, gettext_lazy("Largest distance, metres.")),
        "max_accuracy_m": (
            50,
            float,
            0,
            100_000,
            gettext_lazy("Reported accuracy counted at most, metres."),
        ),
    },
    RuleCode.PHOTO_MISSING: {
        "always": (False, bool, None, None, gettext_lazy("Every reading needs a photo.")),
    },
    RuleCode.CONFLICT: {},
    RuleCode.OBSERVATION: {},
}

# Flags computed from the chain (recomputed when the chain changes); the others depend only on
# the reading itself or on its period (kept as they are on a recheck).
CHAIN_FLAGS = (RuleCode.BELOW_PREVIOUS, RuleCode.ZERO_CONSUMPTION, RuleCode.HIGH_CONSUMPTION)

# A reading dated later than the server's clock by more than this is refused (device clocks
# drift a little; days ahead is a wrong date).
CLOCK_SKEW_MINUTES = 10


class RuleParamsError(ValueError):
    pass


def rule_params_clean(code: str, params: dict) -> dict:
    """The rule's params with defaults filled in; raises RuleParamsError (translated)."""
    spec = RULE_PARAMS.get(code)
    if spec is None:
        raise RuleParamsError(_("Unknown validation rule: %(code)s.") % {"code": code})
    if not isinstance(params, dict):
        raise RuleParamsError(_("The parameters must be a JSON object."))
    unknown = sorted(set(params) - set(spec))
    if unknown:
        raise RuleParamsError(
            _("Unknown parameters for %(code)s: %(names)s. Known: %(known)s.")
            % {"code": code, "names": ", ".join(unknown), "known": ", ".join(spec) or "-"}
        )
    clean = {}
    for key, (default, kind, low, high, _meaning) in spec.items():
        value = params.get(key, default)
        if kind is bool:
            if not isinstance(value, bool):
                raise RuleParamsError(
                    _("%(code)s.%(key)s must be true or false.") % {"code": code, "key": key}
                )
        else:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise RuleParamsError(
                    _("%(code)s.%(key)s must be a number.") % {"code": code, "key": key}
                )
            if kind is int and value != int(value):
                raise RuleParamsError(
                    _("%(code)s.%(key)s must be a whole number.") % {"code": code, "key": key}
                )
            if not low <= value <= high:
                raise RuleParamsError(
                    _("%(code)s.%(key)s must lie between %(low)s and %(high)s.")
                    % {"code": code, "key": key, "low": low, "high": high}
                )
            value = kind(value)
        clean[key] = value
    return clean


@dataclass(frozen=True)
class Rules:
    enabled: frozenset
    params: dict

    def sql_params(self) -> dict:
        """Named parameters of the evaluation SQL."""
        p = self.params
        on = self.enabled
        hist = p[RuleCode.HIGH_CONSUMPTION]
        return {
            "rollover_fraction": p[RuleCode.BELOW_PREVIOUS]["rollover_max_fraction"],
            "r_below": RuleCode.BELOW_PREVIOUS in on,
            "r_zero": RuleCode.ZERO_CONSUMPTION in on,
            "zero_before": p[RuleCode.ZERO_CONSUMPTION]["periods"] - 1,
            "r_high": RuleCode.HIGH_CONSUMPTION in on,
            "high_n": hist["history_readings"],
            "high_min": hist["min_history"],
            "high_factor": 1 + hist["percent"] / 100.0,
            "high_excess": hist["min_excess_m3"],
            "r_gps": RuleCode.GPS_FAR in on,
            "gps_max": p[RuleCode.GPS_FAR]["max_distance_m"],
            "gps_acc": p[RuleCode.GPS_FAR]["max_accuracy_m"],
            "r_photo": RuleCode.PHOTO_MISSING in on,
            "photo_always": p[RuleCode.PHOTO_MISSING]["always"],
            "r_conflict": RuleCode.CONFLICT in on,
            "r_observation": RuleCode.OBSERVATION in on,
        }

    @property
    def window(self) -> int:
        """Stored readings looked at behind each reading: enough for every history rule."""
        p = self.params
        return max(
            p[RuleCode.HIGH_CONSUMPTION]["history_readings"],
            p[RuleCode.ZERO_CONSUMPTION]["periods"] - 1,
            1,
        )


def rules_load() -> Rules:
    """The rules as configured (a missing row means the rule is on with its defaults)."""
    rows = {r.code: r for r in ValidationRule.objects.all()}
    enabled, params = set(), {}
    for code in RULE_PARAMS:
        row = rows.get(code)
        try:
            params[code] = rule_params_clean(code, row.params if row else {})
        except RuleParamsError:
            # The admin refuses bad params; a row written around it falls back to defaults
            # rather than stopping every sync.
            params[code] = rule_params_clean(code, {})
        if row is None or row.enabled:
            enabled.add(code)
    return Rules(enabled=frozenset(enabled), params=params)


# --- Rejections -----------------------------------------------------------------------------

# code → message; placeholders %(meter)s (the meter as sent), %(value)s (the offending value),
# %(period)s. Bulk reports fill them in SQL (one translated template per code, no Python loop).
REJECTION_MESSAGES = {
    "malformed": gettext_lazy("The item is not an object with the reading's fields."),
    "client_id_invalid": gettext_lazy(
        "The client id “%(value)s” is not a UUID: the device must give every reading one."
    ),
    "meter_missing": gettext_lazy("Say which meter was read (meter_id or meter_serial)."),
    "unknown_meter": gettext_lazy("There is no meter “%(meter)s”."),
    "meter_not_installed": gettext_lazy("Meter %(meter)s is not installed on any account."),
    "captured_at_invalid": gettext_lazy(
        "“%(value)s” is not a date and time with its UTC offset "
        "(for example 2026-03-04T10:15:00-06:00)."
    ),
    "captured_in_future": gettext_lazy(
        "The reading of meter %(meter)s is dated %(value)s, in the future: check the "
        "device's clock."
    ),
    "before_installation": gettext_lazy(
        "The reading of meter %(meter)s is dated %(value)s, before the meter was installed."
    ),
    "observation_unknown": gettext_lazy("Unknown observation code “%(value)s”."),
    "value_invalid": gettext_lazy(
        "“%(value)s” is not a reading of meter %(meter)s: send a number of cubic metres, "
        "0 or more, with at most 3 decimals."
    ),
    "value_required": gettext_lazy(
        "The reading of meter %(meter)s has neither a value nor an observation."
    ),
    "value_not_allowed": gettext_lazy(
        "The observation “%(value)s” means the meter was not read: send it without a value."
    ),
    "value_too_large": gettext_lazy(
        "The reading %(value)s of meter %(meter)s has more digits than the meter's dials."
    ),
    "position_invalid": gettext_lazy(
        "The position “%(value)s” is not a longitude and latitude in degrees (WGS 84)."
    ),
    "accuracy_invalid": gettext_lazy(
        "The accuracy “%(value)s” is not a number of metres, 0 or more."
    ),
    "photo_invalid": gettext_lazy("The photo field “%(value)s” must be true or false."),
    "device_invalid": gettext_lazy("The device id has more than 64 characters."),
    "no_period": gettext_lazy(
        "No reading period of the meter's billing cycle contains %(value)s: ask the office "
        "to open one."
    ),
    "period_closed": gettext_lazy(
        "The reading period %(period)s of meter %(meter)s is closed: readings are no longer "
        "accepted for it."
    ),
    "outside_period": gettext_lazy(
        "The reading of meter %(meter)s is dated %(value)s, outside the file's period %(period)s."
    ),
    "no_period_code": gettext_lazy(
        "Meter %(meter)s belongs to billing cycle %(value)s, which has no reading period "
        "%(period)s."
    ),
}
REJECTION_CODES = tuple(REJECTION_MESSAGES)


def rejection_message(code: str, *, meter="", value="", period="") -> str:
    return str(REJECTION_MESSAGES[code]) % {
        "meter": meter or "?",
        "value": value or "",
        "period": period or "",
    }


def rejection_templates_sql() -> tuple[str, list]:
    """A VALUES list (code, translated template) for building messages in SQL."""
    rows = ", ".join(["(%s, %s)"] * len(REJECTION_MESSAGES))
    params = []
    for code, message in REJECTION_MESSAGES.items():
        params += [code, str(message)]
    return f"(VALUES {rows}) AS tpl(code, template)", params


def message_sql(template: str, *, meter: str, value: str, period: str) -> str:
    """SQL filling a template's placeholders (mirrors :func:`rejection_message`)."""
    return (
        f"replace(replace(replace({template}, '%%(meter)s', coalesce(nullif({meter}, ''), '?')),"
        f" '%%(value)s', coalesce({value}, '')), '%%(period)s', coalesce({period}, ''))"
    )


# --- Staging --------------------------------------------------------------------------------

STAGE_COLUMNS = (
    "client_id",
    "meter_id",
    "meter_serial",
    "value",
    "observation",
    "photo",
    "lon",
    "lat",
    "accuracy_m",
    "captured_at",
    "device_id",
)

# Formats accepted. Each value must have the shape below (tested with LIKE and translate:
# PostgreSQL's regular expressions cost 2-7 µs a row, paid several times over by a million
# rows) and be readable by PostgreSQL's own cast:
# - client id: a UUID, 8-4-4-4-12 hex digits with hyphens, or 32 without;
# - meter id: 1-18 digits;
# - value: digits with at most one ".", not starting with it; below 10^9 and no non-zero
#   digit after the third decimal, so it is exact in NUMERIC(12,3);
# - lon/lat: the same with an optional leading "-", |lon| ≤ 180, |lat| ≤ 90; accuracy: like a
#   value, below 10^7 metres;
# - time: YYYY-MM-DD then "T" or a space, HH:MM, then optional seconds, and a UTC offset ("Z",
#   "+HH", "-HH:MM"…) — naive times are refused: the device's zone is unknown.
# The whole batch is cast at once; when a single value does not cast, the batch is parsed again
# with the exception-safe metering_try_* functions (migration 0004), which give NULL instead:
# that row is rejected, the others kept. Same rules, two speeds.
_DIGITS = "0123456789"
TRUE_WORDS = ("true", "t", "1", "yes", "y", "si", "sí")
FALSE_WORDS = ("false", "f", "0", "no", "n", "")


def _plain_number(col: str, *, signed: bool = False) -> str:
    chars = _DIGITS + ".-" if signed else _DIGITS + "."
    shape = f"(translate({col}, '{chars}', '') = '' AND {col} NOT LIKE '.%%'"
    if signed:
        shape += f" AND {col} NOT LIKE '-.%%' AND strpos(substr({col}, 2), '-') = 0"
    return shape + ")"


def _uuid_shape(col: str) -> str:
    return f"({col} LIKE '________-____-____-____-____________' OR length({col}) = 32)"


def _id_shape(col: str) -> str:
    return f"(length({col}) <= 18 AND translate({col}, '{_DIGITS}', '') = '')"


def _time_shape(col: str) -> str:
    return (
        f"(({col} LIKE '____-__-__T__:__%%' OR {col} LIKE '____-__-__ __:__%%') "
        f"AND length({col}) <= 35 AND ({col} LIKE '%%Z' OR substr({col}, 17) LIKE '%%+%%' "
        f"OR substr({col}, 17) LIKE '%%-%%'))"
    )


def _cast(safe: bool):
    """``cast(expr, type)``: a plain cast, or the exception-safe function of migration 0004."""
    if safe:
        return lambda expr, t: f"metering_try_{t}({expr})"
    return lambda expr, t: f"({expr})::{t}"


def stage_create(cursor, name: str = "metering_stage") -> str:
    """A temporary staging table of raw text rows (dropped at commit); returns its name."""
    cols = ", ".join(f"{c} text" for c in STAGE_COLUMNS)
    # JIT-compiling these one-shot statements over freshly made temp tables costs seconds
    # (their cost estimates are huge) and saves nothing; for this transaction only.
    cursor.execute("SET LOCAL jit = off")
    cursor.execute(f"DROP TABLE IF EXISTS {name}")
    cursor.execute(
        f"CREATE TEMP TABLE {name} (row_no bigint GENERATED BY DEFAULT AS IDENTITY, {cols})"
        " ON COMMIT DROP"
    )
    return name


def stage_resolve(
    cursor,
    *,
    stage: str,
    out: str = "metering_cand",
    period_code: str | None = None,
    columns=STAGE_COLUMNS,
    derive_client_id: bool = False,
) -> None:
    """Parse and resolve the staged rows into ``out`` (typed, one row per staged row).

    ``period_code``: the bulk file's period (e.g. ``2026-03``): each row goes to the period of
    that code of its account's billing cycle, and must be dated in it; None: each row's period
    is the one of its account's cycle that contains its local date (field sync). ``columns``: the
    staged columns that were given (the others are NULL; their joins are skipped).
    ``derive_client_id``: a row without a client id gets one from its content (bulk files), so
    the same row in another file is the same reading.

    Sets ``reject_code``/``reject_detail`` for rows that cannot be stored, ``dup_id`` for rows
    already stored (by client id) and ``dup_row`` for repeats inside the batch.
    """
    from django.db import DataError, transaction

    kwargs = dict(stage=stage, out=out, period_code=period_code, columns=columns)
    params = {"tz": settings.TIME_ZONE, "period_code": period_code}
    cursor.execute(f"DROP TABLE IF EXISTS {out}")
    try:
        with transaction.atomic():
            cursor.execute(_resolve_sql(safe=False, derive=derive_client_id, **kwargs), params)
    except DataError:
        # Some value has the right shape but does not cast (2026-02-30, 1.2.3, a bad hex
        # digit): parse again row by row, exception-safe (see the formats above).
        cursor.execute(_resolve_sql(safe=True, derive=derive_client_id, **kwargs), params)
    _mark_repeats(cursor, out)


def _mark_repeats(cursor, table: str) -> None:
    """Client ids sent twice in the batch: the later rows are duplicates of the first."""
    cursor.execute(
        f"""UPDATE {table} t SET dup_row = TRUE
              FROM (SELECT client_id, min(row_no) AS first_row FROM {table}
                     WHERE client_id IS NOT NULL GROUP BY client_id HAVING count(*) > 1) r
             WHERE t.client_id = r.client_id AND t.row_no > r.first_row"""  # noqa: S608
    )


def _resolve_sql(*, safe, derive, stage, out, period_code, columns) -> str:
    cast = _cast(safe)
    srid = int(settings.CAUDAL_SRID)
    by_id = "meter_id" in columns
    by_serial = "meter_serial" in columns
    meter_id_expr = f"(CASE WHEN {_id_shape('t.meter_id')} THEN {cast('t.meter_id', 'bigint')} END)"
    joins = []
    if by_id and by_serial:
        joins.append(f"LEFT JOIN metering_meter mi ON mi.id = {meter_id_expr}")
        joins.append("LEFT JOIN metering_meter ms ON ms.serial = t.meter_serial")
        # A serial wins over an id when both are given: it is what the reader saw.
        meter = "(CASE WHEN t.meter_serial IS NOT NULL THEN ms.{c} ELSE mi.{c} END)"
        meter_ref = "coalesce(t.meter_serial, t.meter_id, '')"
    elif by_serial:
        joins.append("LEFT JOIN metering_meter ms ON ms.serial = t.meter_serial")
        meter = "ms.{c}"
        meter_ref = "coalesce(t.meter_serial, '')"
    else:
        joins.append(f"LEFT JOIN metering_meter mi ON mi.id = {meter_id_expr}")
        meter = "mi.{c}"
        meter_ref = "coalesce(t.meter_id, '')"
    m = {
        c: meter.format(c=c)
        for c in ("id", "dials", "status", "account_id", "installed_on", "location")
    }
    parsed_cid = f"(CASE WHEN {_uuid_shape('t.client_id')} THEN {cast('t.client_id', 'uuid')} END)"
    if derive:
        # The row's period, then a 64-bit hash of its content (PostgreSQL's own text hash,
        # stable as hash partitioning needs it; md5 costs several times more).
        client_id = (
            "(CASE WHEN p1.raw_client_id IS NULL THEN (lpad(to_hex(coalesce(p.id, 0)), 16, '0')"
            " || lpad(to_hex(hashtextextended(concat_ws('|', p1.meter_ref, p1.raw_captured_at,"
            " p1.raw_value, p1.raw_observation), 0)), 16, '0'))::uuid ELSE p1.client_id END)"
        )
    else:
        client_id = "p1.client_id"
    local_day = "((p1.captured_at AT TIME ZONE %(tz)s)::date)"
    if period_code is None:
        period_join = (
            f"LEFT JOIN metering_readingperiod p ON p.cycle = p1.cycle "
            f"AND {local_day} BETWEEN p.starts_on AND p.ends_on"
        )
        period_rejects = """
            WHEN q.period_id IS NULL THEN 'no_period'
            WHEN q.period_status <> 'open' THEN 'period_closed'"""
        period_detail = """
            WHEN q.period_id IS NULL THEN to_char(q.local_day, 'YYYY-MM-DD')
            WHEN q.period_status <> 'open' THEN NULL"""
        # A batch of the field app: probes of the client-id index.
        stored = "metering_reading"
    else:
        period_join = (
            "LEFT JOIN metering_readingperiod p ON p.cycle = p1.cycle AND p.code = %(period_code)s"
        )
        period_rejects = """
            WHEN q.period_id IS NULL THEN 'no_period_code'
            WHEN q.period_status <> 'open' THEN 'period_closed'
            WHEN q.local_day NOT BETWEEN q.starts_on AND q.ends_on THEN 'outside_period'"""
        period_detail = """
            WHEN q.period_id IS NULL THEN q.cycle
            WHEN q.period_status <> 'open' THEN NULL
            WHEN q.local_day NOT BETWEEN q.starts_on AND q.ends_on THEN q.raw_captured_at"""
        # A file's rows are looked up among its periods' readings only (an index range, not a
        # million probes of the client-id index): derived client ids contain the period, and a
        # device-made id stored in another period is still caught by stage_write's ON CONFLICT.
        # (= ANY(ARRAY(…)): a list of ids the index on (period_id, account_id) can look up;
        # IN (subquery) is planned as a join and scans every stored reading.)
        stored = """(SELECT r.id, r.client_id FROM metering_reading r
                     WHERE r.period_id = ANY(ARRAY(SELECT id FROM metering_readingperiod
                                                   WHERE code = %(period_code)s)))"""
    bool_words = ", ".join(f"'{w}'" for w in TRUE_WORDS + FALSE_WORDS)
    true_words = ", ".join(f"'{w}'" for w in TRUE_WORDS)
    return f"""
        CREATE TEMP TABLE {out} ON COMMIT DROP AS
        WITH t AS (
            SELECT s.row_no, nullif(trim(s.client_id), '') AS client_id,
                   nullif(trim(s.meter_id), '') AS meter_id,
                   nullif(trim(s.meter_serial), '') AS meter_serial,
                   nullif(trim(s.value), '') AS value,
                   nullif(lower(trim(s.observation)), '') AS observation,
                   lower(coalesce(trim(s.photo), '')) AS photo,
                   nullif(trim(s.lon), '') AS lon, nullif(trim(s.lat), '') AS lat,
                   nullif(trim(s.accuracy_m), '') AS accuracy,
                   nullif(trim(s.captured_at), '') AS captured_at,
                   coalesce(trim(s.device_id), '') AS device_id
            FROM {stage} s
            OFFSET 0
        ),
        p0 AS (
            SELECT t.row_no, t.client_id AS raw_client_id, {parsed_cid} AS client_id,
                   {meter_ref} AS meter_ref,
                   {m["id"]} AS meter_id, {m["dials"]} AS dials,
                   {m["status"]} AS meter_status, {m["account_id"]} AS account_id,
                   {m["installed_on"]} AS installed_on, {m["location"]} AS meter_location,
                   t.value AS raw_value,
                   CASE WHEN {_plain_number("t.value")} THEN {cast("t.value", "numeric")}
                   END AS value_num,
                   t.observation AS raw_observation, t.photo AS raw_photo,
                   t.lon AS raw_lon, t.lat AS raw_lat,
                   CASE WHEN {_plain_number("t.lon", signed=True)}
                             AND {_plain_number("t.lat", signed=True)}
                        THEN {cast("t.lon", "float8")} END AS lon,
                   CASE WHEN {_plain_number("t.lon", signed=True)}
                             AND {_plain_number("t.lat", signed=True)}
                        THEN {cast("t.lat", "float8")} END AS lat,
                   t.accuracy AS raw_accuracy,
                   CASE WHEN {_plain_number("t.accuracy")} THEN {cast("t.accuracy", "float8")}
                   END AS accuracy_num,
                   t.captured_at AS raw_captured_at,
                   CASE WHEN {_time_shape("t.captured_at")}
                        THEN {cast("t.captured_at", "timestamptz")} END AS captured_at,
                   t.device_id
            FROM t
            {" ".join(joins)}
            OFFSET 0
        ),
        p1 AS (
            SELECT p0.*, a.billing_cycle AS cycle,
                   CASE WHEN p0.value_num < 1000000000 AND p0.value_num = round(p0.value_num, 3)
                        THEN p0.value_num::numeric(12, 3) END AS value,
                   CASE WHEN abs(p0.lon) <= 180 AND abs(p0.lat) <= 90
                        THEN ST_Transform(ST_SetSRID(ST_MakePoint(p0.lon, p0.lat), 4326),
                                          {srid}) END AS position,
                   CASE WHEN p0.accuracy_num < 10000000 THEN p0.accuracy_num END AS accuracy,
                   coalesce(p0.meter_location, a.service_point) AS check_location,
                   o.code AS observation_id, o.value_allowed, o.requires_photo, o.needs_review
            FROM p0
            LEFT JOIN cadastre_serviceaccount a ON a.id = p0.account_id
            LEFT JOIN metering_observationcode o ON o.code = p0.raw_observation AND o.active
            OFFSET 0
        ),
        p2 AS (
            SELECT p1.*, {client_id} AS cid, p.id AS period_id, p.code AS period_code,
                   p.status AS period_status, p.starts_on, p.ends_on,
                   {local_day} AS local_day
            FROM p1
            {period_join}
            OFFSET 0
        ),
        -- Repeats inside the batch are marked afterwards (_mark_repeats): a second read of
        -- p2 here would keep all of its wide rows in a spilled tuplestore.
        q AS (
            SELECT p2.*, d.id AS dup_id, FALSE AS dup_row
            FROM p2
            LEFT JOIN {stored} d ON d.client_id = p2.cid
        )
        SELECT q.row_no, q.raw_client_id, q.cid AS client_id, q.meter_ref, q.meter_id, q.dials,
               q.account_id, q.check_location AS meter_location, q.value, q.observation_id,
               coalesce(q.requires_photo, FALSE) AS requires_photo,
               coalesce(q.needs_review, FALSE) AS needs_review,
               q.raw_photo IN ({true_words}) AS photo_expected,
               q.position, q.accuracy, q.captured_at, q.device_id,
               q.period_id, q.period_code, q.dup_id, q.dup_row,
               CASE
                 WHEN q.cid IS NULL THEN 'client_id_invalid'
                 WHEN q.dup_id IS NOT NULL THEN NULL
                 WHEN q.meter_ref = '' THEN 'meter_missing'
                 WHEN q.meter_id IS NULL THEN 'unknown_meter'
                 WHEN q.meter_status <> 'installed' OR q.account_id IS NULL
                      THEN 'meter_not_installed'
                 WHEN q.captured_at IS NULL THEN 'captured_at_invalid'
                 WHEN q.captured_at > now() + interval '{CLOCK_SKEW_MINUTES} minutes'
                      THEN 'captured_in_future'
                 WHEN q.installed_on IS NOT NULL AND q.local_day < q.installed_on
                      THEN 'before_installation'
                 WHEN q.raw_observation IS NOT NULL AND q.observation_id IS NULL
                      THEN 'observation_unknown'
                 WHEN q.raw_value IS NOT NULL AND q.value IS NULL THEN 'value_invalid'
                 WHEN q.value IS NULL AND q.observation_id IS NULL THEN 'value_required'
                 WHEN q.value IS NOT NULL AND q.observation_id IS NOT NULL
                      AND NOT q.value_allowed THEN 'value_not_allowed'
                 WHEN q.value >= power(10::numeric, q.dials) THEN 'value_too_large'
                 WHEN (q.raw_lon IS NOT NULL OR q.raw_lat IS NOT NULL)
                      AND q.position IS NULL THEN 'position_invalid'
                 WHEN q.raw_accuracy IS NOT NULL AND q.accuracy IS NULL
                      THEN 'accuracy_invalid'
                 WHEN q.raw_photo NOT IN ({bool_words}) THEN 'photo_invalid'
                 WHEN length(q.device_id) > 64 THEN 'device_invalid'
                 {period_rejects}
               END AS reject_code,
               CASE
                 WHEN q.cid IS NULL THEN q.raw_client_id
                 WHEN q.dup_id IS NOT NULL THEN NULL
                 WHEN q.meter_ref = '' OR q.meter_id IS NULL THEN NULL
                 WHEN q.meter_status <> 'installed' OR q.account_id IS NULL THEN NULL
                 WHEN q.captured_at IS NULL THEN q.raw_captured_at
                 WHEN q.captured_at > now() + interval '{CLOCK_SKEW_MINUTES} minutes'
                      THEN q.raw_captured_at
                 WHEN q.installed_on IS NOT NULL AND q.local_day < q.installed_on
                      THEN q.raw_captured_at
                 WHEN q.raw_observation IS NOT NULL AND q.observation_id IS NULL
                      THEN q.raw_observation
                 WHEN q.raw_value IS NOT NULL AND q.value IS NULL THEN q.raw_value
                 WHEN q.value IS NULL AND q.observation_id IS NULL THEN NULL
                 WHEN q.value IS NOT NULL AND q.observation_id IS NOT NULL
                      AND NOT q.value_allowed THEN q.raw_observation
                 WHEN q.value >= power(10::numeric, q.dials) THEN q.raw_value
                 WHEN (q.raw_lon IS NOT NULL OR q.raw_lat IS NOT NULL)
                      AND q.position IS NULL
                      THEN concat_ws(', ', q.raw_lon, q.raw_lat)
                 WHEN q.raw_accuracy IS NOT NULL AND q.accuracy IS NULL THEN q.raw_accuracy
                 WHEN q.raw_photo NOT IN ({bool_words}) THEN q.raw_photo
                 WHEN length(q.device_id) > 64 THEN NULL
                 {period_detail}
               END AS reject_detail
        FROM q
    """  # noqa: S608 (constants and column names of this module; values are bound)


# --- Evaluation (the chain and the rules) ------------------------------------------------

_CHAIN = "('valid', 'flagged', 'accepted')"
_COUNTED = "('valid', 'accepted')"


def _window_sql(stored: bool, window: int, *, bounded: bool) -> str:
    """The last ``window`` chain readings of the candidate's meter (newest first), aggregated:
    before the candidate (``bounded``) or simply the newest (the one-probe fast path).

    Arrays are filled in the index's order: the aggregate reads the ordered subquery as it
    comes, with no join in between. The filters on ``c``/``o`` alone become one-time filters:
    a candidate without a value, or one the fast path served, costs no probe.
    """
    self_id = "c.reading_id" if stored else "9223372036854775807"
    if bounded:
        where = f"""NOT o.in_order AND c.value IS NOT NULL AND r.meter_id = c.meter_id
                    AND r.captured_at <= c.captured_at
                    AND (r.captured_at < c.captured_at OR r.id < {self_id})"""
    else:
        where = "c.value IS NOT NULL AND r.meter_id = c.meter_id"
        if stored:
            where += " AND r.id <> c.reading_id"
    return f"""
        SELECT (array_agg(y.value))[1] AS prev_value,
               (array_agg(y.captured_at))[1] AS prev_at,
               (array_agg(y.captured_at))[1] AS newest_at,
               (array_agg(y.id))[1] AS newest_id,
               array_agg(y.consumption) FILTER (WHERE y.kind = 'regular') AS reg_cons,
               array_agg(y.consumption) FILTER (
                   WHERE y.kind = 'regular' AND y.status IN {_COUNTED}
                     AND y.consumption IS NOT NULL) AS cnt_cons,
               bool_or(y.period_id = c.period_id AND y.kind = 'regular') AS partner
        FROM (
            SELECT r.id, r.value, r.captured_at, r.kind, r.status, r.consumption, r.period_id
            FROM metering_reading r
            WHERE {where}
              AND r.value IS NOT NULL AND r.status IN {_CHAIN}
            ORDER BY r.captured_at DESC, r.id DESC
            LIMIT {int(window) + 1}
        ) y
    """  # noqa: S608


def _evaluate_sql(*, cand: str, out: str, stored: bool, window: int) -> str:
    """The chain and the rules, over candidate rows of ``cand`` (see :func:`stage_evaluate`).

    Candidates have: key, reading_id (stored mode), meter_id, account_id, period_id, dials,
    value, captured_at, kind, requires_photo, needs_review, photo_expected, position, accuracy,
    meter_location. ``stored``: the candidates are stored readings being rechecked (each is
    left out of its own chain; no batch neighbours).

    Per candidate with a value, two index probes on (meter_id, captured_at, id): the last
    ``window`` chain readings before it (previous value; the history rules read their
    consumption) and the first one after it (a late arrival: that one's previous reading
    changes). Arrays are filled in the index's order (newest first): the aggregate reads the
    ordered subquery as it comes, with no join in between. ``OFFSET 0`` keeps each derived
    column computed once instead of inlined into every use.
    """
    # For a new row every stored reading at the same instant comes first; for a stored one,
    # those with a smaller id (the same order as the chain's ORDER BY captured_at, id).
    self_id = "c.reading_id" if stored else "9223372036854775807"
    if stored:
        batch = """SELECT c.key, NULL::numeric AS bprev_value, NULL::timestamptz AS bprev_at,
                          1::bigint AS same_period
                   FROM {cand} c""".format(cand=cand)  # noqa: S608, UP032
    else:
        batch = f"""SELECT c.key,
                   lag(c.value) OVER w AS bprev_value, lag(c.captured_at) OVER w AS bprev_at,
                   count(*) FILTER (WHERE c.kind = 'regular')
                       OVER (PARTITION BY c.meter_id, c.period_id) AS same_period
            FROM {cand} c WHERE c.value IS NOT NULL
            WINDOW w AS (PARTITION BY c.meter_id ORDER BY c.captured_at, c.key)"""  # noqa: S608
    return f"""
        CREATE TEMP TABLE {out} ON COMMIT DROP AS
        SELECT f.*,
               array_remove(ARRAY[
                 CASE WHEN %(r_below)s AND f.kind = 'regular' AND f.diff < 0
                           AND NOT f.new_rollover THEN 'below_previous' END,
                 CASE WHEN %(r_zero)s AND f.kind = 'regular' AND f.new_consumption = 0
                           AND cardinality(f.reg_cons) >= %(zero_before)s
                           AND f.reg_cons[1:%(zero_before)s]
                               = array_fill(0::numeric, ARRAY[%(zero_before)s])
                      THEN 'zero_consumption' END,
                 CASE WHEN %(r_high)s AND f.kind = 'regular' AND f.new_consumption > 0
                           AND f.hist_count >= %(high_min)s
                           AND f.new_consumption > f.hist_avg * %(high_factor)s
                           AND f.new_consumption - f.hist_avg > %(high_excess)s
                      THEN 'high_consumption' END,
                 CASE WHEN %(r_gps)s AND f.position IS NOT NULL
                           AND f.meter_location IS NOT NULL
                           AND ST_Distance(f.position, f.meter_location)
                               > %(gps_max)s + least(coalesce(f.accuracy, 0), %(gps_acc)s)
                      THEN 'gps_far' END,
                 CASE WHEN %(r_photo)s AND NOT f.photo_expected
                           AND (f.requires_photo OR %(photo_always)s) THEN 'photo_missing' END,
                 CASE WHEN %(r_conflict)s AND f.kind = 'regular' AND f.value IS NOT NULL
                           AND (f.same_period > 1 OR f.stored_partner) THEN 'conflict' END,
                 CASE WHEN %(r_observation)s AND f.needs_review THEN 'observation' END
               ]::varchar[], NULL) AS new_flags
        FROM (
            SELECT e.*,
                   coalesce(e.diff < 0 AND e.diff + e.cap <= e.cap * %(rollover_fraction)s,
                            FALSE) AS new_rollover,
                   CASE WHEN e.kind = 'installation' THEN 0::numeric
                        WHEN e.diff IS NULL THEN NULL
                        WHEN e.diff < 0 AND e.diff + e.cap <= e.cap * %(rollover_fraction)s
                             THEN e.diff + e.cap
                        ELSE e.diff END AS new_consumption,
                   (SELECT avg(x) FROM unnest(e.cnt_cons[1:%(high_n)s]) x) AS hist_avg,
                   least(cardinality(e.cnt_cons), %(high_n)s) AS hist_count
            FROM (
                SELECT c.*, nx.next_id,
                       coalesce(k.reg_cons, '{{}}') AS reg_cons,
                       coalesce(k.cnt_cons, '{{}}') AS cnt_cons,
                       coalesce(k.partner, FALSE) OR coalesce(nx.partner, FALSE)
                           AS stored_partner,
                       coalesce(b.same_period, 1) AS same_period,
                       c.value - CASE WHEN b.bprev_at IS NOT NULL
                                           AND (k.prev_at IS NULL OR b.bprev_at >= k.prev_at)
                                      THEN b.bprev_value ELSE k.prev_value END AS diff,
                       power(10::numeric, c.dials) AS cap
                FROM {cand} c
                LEFT JOIN ({batch}) b ON b.key = c.key
                -- The meter's newest chain readings, whatever their time: for a reading that
                -- comes after all of them (nearly always) they are exactly the ones before it,
                -- and nothing follows it — one probe instead of two.
                LEFT JOIN LATERAL ({_window_sql(stored, window, bounded=False)}) h0 ON TRUE
                CROSS JOIN LATERAL (
                    SELECT h0.newest_at IS NULL
                           OR (h0.newest_at, h0.newest_id) < (c.captured_at, {self_id}) AS in_order
                ) o
                -- A late arrival (something stored follows it): the exact window before it,
                -- and the reading after it, whose previous reading changes.
                LEFT JOIN LATERAL ({_window_sql(stored, window, bounded=True)}) h ON TRUE
                LEFT JOIN LATERAL (
                    SELECT r.id AS next_id,
                           r.period_id = c.period_id AND r.kind = 'regular' AS partner
                    FROM metering_reading r
                    WHERE NOT o.in_order AND r.meter_id = c.meter_id
                      AND r.captured_at >= c.captured_at
                      AND (r.captured_at > c.captured_at OR r.id > {self_id})
                      AND r.value IS NOT NULL AND r.status IN {_CHAIN}
                    ORDER BY r.captured_at, r.id
                    LIMIT 1
                ) nx ON TRUE
                -- The window that applies (plain expressions: PostgreSQL folds this in).
                CROSS JOIN LATERAL (
                    SELECT CASE WHEN o.in_order THEN h0.prev_value ELSE h.prev_value END
                               AS prev_value,
                           CASE WHEN o.in_order THEN h0.prev_at ELSE h.prev_at END AS prev_at,
                           CASE WHEN o.in_order THEN h0.reg_cons ELSE h.reg_cons END AS reg_cons,
                           CASE WHEN o.in_order THEN h0.cnt_cons ELSE h.cnt_cons END AS cnt_cons,
                           CASE WHEN o.in_order THEN h0.partner ELSE h.partner END AS partner
                ) k
                OFFSET 0
            ) e
            OFFSET 0
        ) f
    """  # noqa: S608


def stage_evaluate(cursor, *, cand: str = "metering_cand", out: str = "metering_eval", rules):
    """Evaluate the resolved rows that can be stored (no rejection, no duplicate) into ``out``.

    ``out`` has every candidate column plus ``new_consumption``, ``new_rollover``,
    ``new_flags``, ``next_id`` (the stored reading that follows in the chain, whose previous
    reading changes) and ``stored_partner`` (a stored reading of the same meter and period
    that becomes a conflict partner).
    """
    cursor.execute("DROP TABLE IF EXISTS metering_cand_ok")
    cursor.execute(
        f"""CREATE TEMP TABLE metering_cand_ok ON COMMIT DROP AS
            SELECT row_no AS key, NULL::bigint AS reading_id, client_id, meter_id, account_id,
                   period_id, dials, value, captured_at, 'regular'::varchar AS kind,
                   observation_id, requires_photo, needs_review, photo_expected, position,
                   accuracy, meter_location, device_id
            FROM {cand}
            WHERE reject_code IS NULL AND dup_id IS NULL AND NOT dup_row"""  # noqa: S608
    )
    cursor.execute("ANALYZE metering_cand_ok")
    cursor.execute(f"DROP TABLE IF EXISTS {out}")
    cursor.execute(
        _evaluate_sql(cand="metering_cand_ok", out=out, stored=False, window=rules.window),
        rules.sql_params(),
    )


def stage_write(
    cursor,
    *,
    evaluated: str = "metering_eval",
    source: str,
    reader_id=None,
    batch_id=None,
    returning: bool = False,
    ids_checked: bool = False,
):
    """Insert the evaluated rows; returns how many were inserted (``returning``: the set of
    their client ids as text, for answers of a few thousand rows).

    A row whose client id was inserted meanwhile by a concurrent request is skipped (ON
    CONFLICT): the caller reports it as a duplicate. ``ids_checked``: the caller has looked up
    every row's client id among all the readings that could hold it, under a lock that keeps
    other writers out (a bulk file of derived ids); the arbiter's probe of the client-id index
    before each row is then skipped (~2 s of a million rows' 13 s), and a collision it would
    have caught fails the whole statement instead. Then: conflict partners already stored get
    the ``conflict`` flag, and stored readings whose previous reading changed are rechecked.
    """
    conflict = "" if ids_checked else "ON CONFLICT (client_id) DO NOTHING"
    cursor.execute(
        f"""INSERT INTO metering_reading (client_id, meter_id, account_id, period_id, kind,
                source, value, observation_id, captured_at, received_at, device_id, reader_id,
                batch_id, position, position_accuracy_m, photo_expected, photo, consumption,
                rollover, flags, status, review_note)
            SELECT e.client_id, e.meter_id, e.account_id, e.period_id, 'regular', %(source)s,
                   e.value, e.observation_id, e.captured_at, now(), e.device_id, %(reader)s,
                   %(batch)s, e.position, e.accuracy, e.photo_expected, '', e.new_consumption,
                   e.new_rollover, e.new_flags,
                   CASE WHEN cardinality(e.new_flags) > 0 THEN 'flagged' ELSE 'valid' END, ''
            FROM {evaluated} e
            ORDER BY e.meter_id, e.captured_at
            {conflict}"""  # noqa: S608
        + (" RETURNING client_id::text" if returning else ""),
        {"source": source, "reader": reader_id, "batch": batch_id},
    )
    inserted = {row[0] for row in cursor.fetchall()} if returning else cursor.rowcount
    _flag_stored_partners(cursor, evaluated=evaluated)
    cursor.execute(
        f"SELECT DISTINCT next_id FROM {evaluated} WHERE next_id IS NOT NULL ORDER BY next_id"  # noqa: S608
    )
    successors = [row[0] for row in cursor.fetchall()]
    if successors:
        readings_recheck(cursor, reading_ids=successors)
    return inserted


def _flag_stored_partners(cursor, *, evaluated: str) -> None:
    """Stored readings of the same meter and period as a new regular reading: flag them
    ``conflict`` too (both are kept; a clerk decides)."""
    cursor.execute(
        f"""UPDATE metering_reading r
               SET flags = array_append(r.flags, 'conflict'), status = 'flagged'
              FROM (SELECT DISTINCT meter_id, account_id, period_id FROM {evaluated}
                     WHERE stored_partner AND 'conflict' = ANY(new_flags)) n
             WHERE r.account_id = n.account_id AND r.period_id = n.period_id
               AND r.meter_id = n.meter_id AND r.kind = 'regular' AND r.value IS NOT NULL
               AND r.status IN {_CHAIN} AND NOT 'conflict' = ANY(r.flags)
               AND NOT EXISTS (SELECT 1 FROM {evaluated} e2 WHERE e2.client_id = r.client_id)"""  # noqa: S608
    )


def readings_recheck(cursor, *, reading_ids, rules=None) -> int:
    """Evaluate stored readings again after their chain changed; returns how many changed.

    Consumption and rollover are recomputed; the chain flags (below_previous, zero/high
    consumption) are replaced, the others kept. Unreviewed readings become flagged or valid by
    their flags; a reviewed one keeps its decision.
    """
    if not reading_ids:
        return 0
    rules = rules or rules_load()
    cursor.execute("SET LOCAL jit = off")  # see stage_create
    cursor.execute("DROP TABLE IF EXISTS metering_recheck_cand")
    cursor.execute(
        f"""CREATE TEMP TABLE metering_recheck_cand ON COMMIT DROP AS
            SELECT r.id AS key, r.id AS reading_id, r.client_id, r.meter_id, r.account_id,
                   r.period_id, m.dials, r.value, r.captured_at, r.kind::varchar AS kind,
                   r.observation_id, coalesce(o.requires_photo, FALSE) AS requires_photo,
                   coalesce(o.needs_review, FALSE) AS needs_review, r.photo_expected,
                   r.position, r.position_accuracy_m AS accuracy,
                   coalesce(m.location, a.service_point) AS meter_location, r.device_id,
                   r.flags AS old_flags
            FROM metering_reading r
            JOIN metering_meter m ON m.id = r.meter_id
            JOIN cadastre_serviceaccount a ON a.id = r.account_id
            LEFT JOIN metering_observationcode o ON o.code = r.observation_id
            WHERE r.id = ANY(%s) AND r.value IS NOT NULL AND r.status IN {_CHAIN}""",  # noqa: S608
        [list(reading_ids)],
    )
    cursor.execute("DROP TABLE IF EXISTS metering_recheck_eval")
    cursor.execute(
        _evaluate_sql(
            cand="metering_recheck_cand",
            out="metering_recheck_eval",
            stored=True,
            window=rules.window,
        ),
        rules.sql_params(),
    )
    chain_flags = "ARRAY[" + ", ".join(f"'{c}'" for c in CHAIN_FLAGS) + "]::varchar[]"
    cursor.execute(
        f"""WITH n AS (
                SELECT e.reading_id, e.new_consumption, e.new_rollover,
                       ARRAY(SELECT f FROM unnest(e.old_flags) f
                              WHERE NOT f = ANY({chain_flags})
                             UNION
                             SELECT f FROM unnest(e.new_flags) f
                              WHERE f = ANY({chain_flags})
                             ORDER BY 1)::varchar[] AS flags
                FROM metering_recheck_eval e)
            UPDATE metering_reading r
               SET consumption = n.new_consumption, rollover = n.new_rollover, flags = n.flags,
                   status = CASE WHEN r.status IN ('valid', 'flagged')
                                 THEN CASE WHEN cardinality(n.flags) > 0 THEN 'flagged'
                                           ELSE 'valid' END
                                 ELSE r.status END
              FROM n
             WHERE r.id = n.reading_id
               AND (r.consumption IS DISTINCT FROM n.new_consumption
                    OR r.rollover IS DISTINCT FROM n.new_rollover
                    OR r.flags IS DISTINCT FROM n.flags)"""  # noqa: S608
    )
    return cursor.rowcount


def chain_successors(cursor, *, reading_ids) -> list[int]:
    """The stored chain reading right after each of ``reading_ids`` (same meter)."""
    cursor.execute(
        f"""SELECT DISTINCT nx.id
            FROM metering_reading c
            CROSS JOIN LATERAL (
                SELECT r.id FROM metering_reading r
                WHERE r.meter_id = c.meter_id AND r.captured_at >= c.captured_at
                  AND (r.captured_at > c.captured_at OR r.id > c.id)
                  AND r.value IS NOT NULL AND r.status IN {_CHAIN}
                ORDER BY r.captured_at, r.id LIMIT 1) nx
            WHERE c.id = ANY(%s)
            ORDER BY nx.id""",  # noqa: S608
        [list(reading_ids)],
    )
    return [row[0] for row in cursor.fetchall()]
