"""Demo city, customer roll step: owners, customers, service accounts (set-based SQL).

Who lives where, decided by hashes of (seed, stream, ids) like the base map:
- owners: one per parcel, a second co-owner (50/50) on ~10 % of them; companies own most
  commercial and industrial parcels; public parcels and parks belong to the municipality;
- accounts: one per parcel, several (2-8) on ~4 % of residential parcels (condominiums), one mixed-use account
  or two (domestic + commercial) on mixed-use parcels, none on vacant lots, one on half of the parks
  (irrigation); accounts are numbered in parcel order and cut at ``--accounts``;
- customers: the owner on ~80 % of single-household parcels, otherwise a tenant;
- service points: on the middle of the parcel's street front; a third of them
  1.5 m out on the street side, where connections often are; condominium units in a row;
- RFCs for companies and for ~20 % of persons, with valid check digits (python-stdnum agrees).
"""

from django.db import connection
from stdnum.mx import rfc as stdnum_rfc

from cadastre.demo import _rnd, _sql_array
from cadastre.models import Customer, Owner, Ownership, ServiceAccount
from core.demo import DemoContext, demo_step
from core.history import history_paused

FIRST_NAMES = [
    "José",
    "María",
    "Juan",
    "Guadalupe",
    "Luis",
    "Ana",
    "Jesús",
    "Sofía",
    "Ramón",
    "Andrés",
    "Verónica",
    "Rocío",
    "Miguel",
    "Fernanda",
    "Héctor",
    "Patricia",
    "Jorge",
    "Leticia",
    "Raúl",
    "Mónica",
    "Óscar",
    "Adriana",
    "Víctor",
    "Ximena",
    "Martín",
    "Araceli",
    "Salvador",
    "Itzel",
    "Efraín",
    "Begoña",
]
SURNAMES = [
    "Pérez",
    "Hernández",
    "García",
    "González",
    "Martínez",
    "López",
    "Rodríguez",
    "Sánchez",
    "Ramírez",
    "Flores",
    "Gómez",
    "Díaz",
    "Cruz",
    "Morales",
    "Reyes",
    "Jiménez",
    "Núñez",
    "Ibáñez",
    "Muñoz",
    "Vázquez",
    "Castillo",
    "Ortiz",
    "Rubio",
    "Chávez",
    "Ramos",
    "Ruiz",
    "Aguilar",
    "Mendoza",
    "Guzmán",
    "Ávila",
    "Zúñiga",
    "Peña",
]
COMPANY_WORDS = [
    "Comercializadora",
    "Servicios",
    "Distribuidora",
    "Abarrotes",
    "Industrias",
    "Grupo",
    "Farmacias",
    "Manufacturas",
    "Alimentos",
    "Textiles",
]
COMPANY_NAMES = [
    "del Bajío",
    "Celaya",
    "La Moderna",
    "El Sol",
    "Hermanos Ruiz",
    "Santa Fe",
    "Guanajuato",
    "La Esperanza",
    "San Miguel",
    "Los Arcos",
    "Del Valle",
]
MUNICIPALITY = "Municipio de la Ciudad de Demostración"

RFC_ALPHABET = "0123456789ABCDEFGHIJKLMN&OPQRSTUVWXYZ Ñ"


def _upper_ascii(expr: str) -> str:
    return f"translate(upper({expr}), 'ÁÉÍÓÚÜ', 'AEIOUU')"


@demo_step(
    "cadastre.customer_roll",
    after=("cadastre.base_map",),
    tables=(
        ServiceAccount._meta.db_table,
        Ownership._meta.db_table,
        Customer._meta.db_table,
        Owner._meta.db_table,
    ),
    description="owners, customers and service accounts",
)
def build_customer_roll(ctx: DemoContext) -> dict:
    seed = int(ctx.seed)
    with history_paused(Owner, Ownership, Customer, ServiceAccount), connection.cursor() as cur:
        cur.execute("SET LOCAL jit = off")
        for sql in _roll_sql(seed=seed, accounts=int(ctx.accounts), srid=int(ctx.srid)):
            # Params always passed: the history wrapper adds placeholders, so '%' is doubled.
            cur.execute(sql.replace("%", "%%"), [])
        counts = {}
        for key, model in (
            ("owners", Owner),
            ("ownerships", Ownership),
            ("customers", Customer),
            ("accounts", ServiceAccount),
        ):
            cur.execute(f'SELECT COUNT(*) FROM "{model._meta.db_table}"')
            counts[key] = cur.fetchone()[0]
        for table in ("demo_rp", "demo_owner", "demo_acc"):
            cur.execute(f"DROP TABLE IF EXISTS {table}")
    return counts


def _roll_sql(*, seed: int, accounts: int, srid: int) -> list[str]:
    r = lambda stream, *a: _rnd(seed, stream, *a)  # noqa: E731
    first = "ARRAY" + _sql_array(FIRST_NAMES)
    sur = "ARRAY" + _sql_array(SURNAMES)
    cw = "ARRAY" + _sql_array(COMPANY_WORDS)
    cn = "ARRAY" + _sql_array(COMPANY_NAMES)
    blacklist = "ARRAY" + _sql_array(sorted(stdnum_rfc._name_blacklist))

    def pick(arr: str, n: int, stream: str, *a: str) -> str:
        return f"({arr})[1 + floor({r(stream, *a)} * {n})::int]"

    # RFC check digit as python-stdnum computes it (mod 11 over a 12-character, space-padded
    # prefix), written in SQL so a million customers need no Python loop.
    check_fn = f"""CREATE FUNCTION pg_temp.rfc_check(prefix text) RETURNS text
        LANGUAGE sql IMMUTABLE AS $$
        SELECT substr(a, (((11 - (SELECT SUM((strpos(a, substr(p, i, 1)) - 1) * (14 - i))
                                  FROM generate_series(1, 12) i)) % 11) + 11)::int % 11 + 1, 1)
        FROM (SELECT '{RFC_ALPHABET}'::text AS a, lpad(prefix, 12, ' ') AS p) s $$"""
    homoclave = (
        f"substr('123456789ABCDEFGHIJKLMNPQRSTUV', 1 + floor({r('h1', 'k')} * 30)::int, 1)"
        f" || substr('123456789ABCDEFGHIJKLMNPQRSTUVWXYZ', 1 + floor({r('h2', 'k')} * 34)::int, 1)"
    )
    birth = f"to_char(DATE '1950-01-01' + floor({r('born', 'k')} * 18000)::int, 'YYMMDD')"
    # Person RFC letters: first surname's initial and first inner vowel, second surname's
    # initial, first name's initial; a blacklisted word gets an X, as the SAT does.
    person_letters = (
        f"(SELECT CASE WHEN w = ANY({blacklist}) THEN substr(w, 1, 3) || 'X' ELSE w END FROM ("
        f"SELECT substr({_upper_ascii('s1')}, 1, 1)"
        f" || COALESCE(substring(substr({_upper_ascii('s1')}, 2) FROM '[AEIOU]'), 'X')"
        f" || substr({_upper_ascii('s2')}, 1, 1) || substr({_upper_ascii('fn')}, 1, 1) AS w) q)"
    )
    company_letters = f"substr(regexp_replace({_upper_ascii('cname')}, '[^A-Z]', '', 'g'), 1, 3)"

    def rfc(letters: str) -> str:
        prefix = f"({letters} || {birth} || {homoclave})"
        return f"({prefix} || pg_temp.rfc_check({prefix}))"

    return [
        "DROP FUNCTION IF EXISTS pg_temp.rfc_check(text)",
        check_fn,
        # Parcels with what they need: how many accounts, the front point of the parcel.
        f"""CREATE TEMP TABLE demo_rp AS
            SELECT p.id AS parcel_id, p.land_use, l.code AS loc_code,
                   ST_Centroid(p.geom) AS centre,
                   -- The generator draws each parcel from its front-left corner: edge 1-2
                   -- is the front when it lies on the block outline, else edge 3-4.
                   CASE WHEN ST_DWithin(ST_LineInterpolatePoint(ST_MakeLine(
                               ST_PointN(ST_ExteriorRing(p.geom), 1),
                               ST_PointN(ST_ExteriorRing(p.geom), 2)), 0.5),
                             ST_Boundary(b.geom), 0.01)
                        THEN ST_LineInterpolatePoint(ST_MakeLine(
                               ST_PointN(ST_ExteriorRing(p.geom), 1),
                               ST_PointN(ST_ExteriorRing(p.geom), 2)), 0.5)
                        ELSE ST_LineInterpolatePoint(ST_MakeLine(
                               ST_PointN(ST_ExteriorRing(p.geom), 3),
                               ST_PointN(ST_ExteriorRing(p.geom), 4)), 0.5) END AS front,
                   CASE p.land_use
                     WHEN 'residential' THEN CASE WHEN {r("condo", "p.id")} < 0.04
                                             THEN 2 + floor({r("units", "p.id")} * 7)::int ELSE 1 END
                     WHEN 'mixed' THEN CASE WHEN {r("mix", "p.id")} < 0.5 THEN 1 ELSE 2 END
                     WHEN 'green' THEN CASE WHEN {r("park", "p.id")} < 0.5 THEN 1 ELSE 0 END
                     WHEN 'vacant' THEN 0
                     ELSE 1 END AS n_acc,
                   CASE WHEN p.land_use IN ('public', 'green') THEN 'municipal'
                        WHEN p.land_use IN ('commercial', 'industrial')
                             AND {r("okind", "p.id")} < 0.6 THEN 'company'
                        ELSE 'person' END AS owner_kind,
                   CASE WHEN p.land_use NOT IN ('public', 'green')
                             AND {r("coown", "p.id")} < 0.1 THEN 2 ELSE 1 END AS n_owners
            FROM cadastre_parcel p
            JOIN cadastre_block b ON b.id = p.block_id
            JOIN cadastre_locality l ON l.id = b.locality_id
            WHERE p.status = 'active'""",
        "ANALYZE demo_rp",
        # Owners with ids taken from the sequence up front, so ownerships can refer to them.
        """CREATE TEMP TABLE demo_owner AS
            SELECT nextval(pg_get_serial_sequence('cadastre_owner', 'id')) AS id,
                   q.parcel_id, q.k, q.ord, q.n_owners, q.owner_kind
            FROM (SELECT rp.parcel_id, rp.parcel_id * 2 + o AS k, o AS ord, rp.n_owners,
                         rp.owner_kind
                  FROM demo_rp rp CROSS JOIN LATERAL generate_series(1, rp.n_owners) o
                  WHERE rp.owner_kind <> 'municipal'
                  ORDER BY rp.parcel_id, o) q""",
        f"""INSERT INTO cadastre_owner (id, kind, name, first_surname, second_surname, rfc, email, phone)
            SELECT id, kind, name, s1, s2,
                   CASE WHEN kind = 'company' THEN {rfc(company_letters)}
                        WHEN {r("hasrfc", "k")} < 0.2 THEN {rfc(person_letters)} ELSE '' END,
                   '', ''
            FROM (SELECT o.id, o.k,
                    CASE WHEN o.owner_kind = 'company' AND o.ord = 1 THEN 'company' ELSE 'person' END AS kind,
                    CASE WHEN o.owner_kind = 'company' AND o.ord = 1
                         THEN {pick(cw, len(COMPANY_WORDS), "cw", "o.k")} || ' '
                              || {pick(cn, len(COMPANY_NAMES), "cn", "o.k")} || ' S.A. de C.V.'
                         ELSE {pick(first, len(FIRST_NAMES), "fn", "o.k")} END AS name,
                    CASE WHEN o.owner_kind = 'company' AND o.ord = 1 THEN ''
                         ELSE {pick(sur, len(SURNAMES), "s1", "o.k")} END AS s1,
                    CASE WHEN o.owner_kind = 'company' AND o.ord = 1 THEN ''
                         ELSE {pick(sur, len(SURNAMES), "s2", "o.k")} END AS s2
                  FROM demo_owner o) x
            CROSS JOIN LATERAL (SELECT x.name AS cname, x.name AS fn) names""",
        f"""INSERT INTO cadastre_owner (kind, name, first_surname, second_surname, rfc, email, phone)
            VALUES ('company', '{MUNICIPALITY}', '', '', 'XAXX010101000', '', '')""",
        f"""INSERT INTO cadastre_ownership (owner_id, parcel_id, share_percent, since)
            SELECT o.id, o.parcel_id, 100.0 / o.n_owners,
                   DATE '1970-01-01' + floor({r("since", "o.k")} * 20000)::int
            FROM demo_owner o
            UNION ALL
            SELECT (SELECT id FROM cadastre_owner WHERE name = '{MUNICIPALITY}'), rp.parcel_id,
                   100, NULL
            FROM demo_rp rp WHERE rp.owner_kind = 'municipal'""",
        # Accounts: units per parcel in parcel order, cut at the requested number.
        f"""CREATE TEMP TABLE demo_acc AS
            SELECT nextval(pg_get_serial_sequence('cadastre_customer', 'id')) AS customer_id, q.*
            FROM (SELECT rp.*, u AS unit, rp.parcel_id * 10 + u AS k,
                         ROW_NUMBER() OVER (ORDER BY rp.parcel_id, u) AS seq
                  FROM demo_rp rp CROSS JOIN LATERAL generate_series(1, rp.n_acc) u) q
            WHERE q.seq <= {accounts}""",
        # Customers: the first owner for most single households, a tenant otherwise.
        f"""INSERT INTO cadastre_customer (id, kind, name, first_surname, second_surname, rfc,
                                          email, phone, tax_regime, cfdi_use, tax_postal_code,
                                          mailing_address)
            SELECT a.customer_id,
                   COALESCE(ow.kind, CASE WHEN a.land_use IN ('public', 'green') THEN 'company'
                                          ELSE 'person' END),
                   COALESCE(ow.name, CASE WHEN a.land_use IN ('public', 'green')
                                          THEN '{MUNICIPALITY}'
                                          ELSE {pick(first, len(FIRST_NAMES), "cfn", "a.k")} END),
                   COALESCE(ow.first_surname, CASE WHEN a.land_use IN ('public', 'green') THEN ''
                                          ELSE {pick(sur, len(SURNAMES), "cs1", "a.k")} END),
                   COALESCE(ow.second_surname, CASE WHEN a.land_use IN ('public', 'green') THEN ''
                                          ELSE {pick(sur, len(SURNAMES), "cs2", "a.k")} END),
                   COALESCE(ow.rfc, CASE WHEN a.land_use IN ('public', 'green')
                                         THEN 'XAXX010101000' ELSE '' END),
                   '', '', '', '', '', ''
            FROM demo_acc a
            LEFT JOIN demo_owner dow ON dow.parcel_id = a.parcel_id AND dow.ord = 1
                 AND a.n_acc = 1 AND {r("same", "a.k")} < 0.8
            LEFT JOIN cadastre_owner ow ON ow.id = dow.id""",
        f"""INSERT INTO cadastre_serviceaccount (number, customer_id, parcel_id, service_point,
                    use_type, water, sewer, sanitation, status, billing_cycle, connected_on)
            SELECT lpad(a.seq::text, 9, '0'), a.customer_id, a.parcel_id,
                   ST_SetSRID(CASE
                     WHEN a.n_acc > 1 THEN ST_LineInterpolatePoint(ST_MakeLine(a.front, a.centre),
                                                                  (a.unit - 1.0) / (a.n_acc + 1))
                     WHEN {r("street", "a.k")} < 0.33 AND NOT ST_Equals(a.front, a.centre) THEN
                       ST_Translate(a.front,
                         1.5 * (ST_X(a.front) - ST_X(a.centre)) / ST_Distance(a.front, a.centre),
                         1.5 * (ST_Y(a.front) - ST_Y(a.centre)) / ST_Distance(a.front, a.centre))
                     ELSE ST_LineInterpolatePoint(ST_MakeLine(a.front, a.centre), 0.05)
                   END, {srid}),
                   CASE a.land_use WHEN 'residential' THEN 'domestic'
                        WHEN 'commercial' THEN 'commercial' WHEN 'industrial' THEN 'industrial'
                        WHEN 'mixed' THEN CASE WHEN a.n_acc = 1 THEN 'mixed'
                                               WHEN a.unit = 1 THEN 'domestic' ELSE 'commercial' END
                        ELSE 'public' END,
                   TRUE, a.land_use <> 'green', a.land_use <> 'green',
                   CASE WHEN {r("st", "a.k")} < 0.93 THEN 'active'
                        WHEN {r("st", "a.k")} < 0.96 THEN 'suspended'
                        WHEN {r("st", "a.k")} < 0.98 THEN 'cut' ELSE 'inactive' END,
                   (1 + (a.loc_code::int % 6))::text,
                   DATE '1985-01-01' + floor({r("conn", "a.k")} * 14600)::int
            FROM demo_acc a""",
        "SELECT setval(pg_get_serial_sequence('cadastre_customer', 'id'),"
        " GREATEST((SELECT MAX(id) FROM cadastre_customer), 1))",
        "SELECT setval(pg_get_serial_sequence('cadastre_owner', 'id'),"
        " GREATEST((SELECT MAX(id) FROM cadastre_owner), 1))",
    ]
