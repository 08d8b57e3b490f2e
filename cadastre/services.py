"""Writes of the base cadastre: create, reshape, split, merge and re-attribute parcels.

Every service is one transaction (``transaction.atomic()``): it locks what it edits, checks the
topology rules (``cadastre.topology``) and either writes everything or raises
:class:`~cadastre.errors.CadastreError` having written nothing. Geometries may arrive in any
SRID; they are stored in ``gis_core.srid.storage_srid()``.

Locks are taken in one fixed order so two editors never deadlock: first the block(s) of the
edit (``FOR NO KEY UPDATE``, ordered by pk), then the parcels (``FOR UPDATE``, ordered by pk),
re-read inside the transaction. The block lock serializes edits inside one block, so two
editors cannot each pass the overlap check with parcels that overlap each other, nor draw the
same next parcel number; inserts of parcels by other code only take ``KEY SHARE`` on the block
and are not blocked by it.

Every write is recorded by the pghistory triggers, with the user and the service's name in the
event's context.
"""

import re
from decimal import Decimal, InvalidOperation

import pghistory
from django.contrib.gis.geos import LineString, MultiPolygon, Polygon
from django.db import IntegrityError, connection, transaction
from django.utils.translation import gettext as _

from cadastre import topology
from cadastre.errors import CadastreError
from cadastre.models import (
    CADASTRAL_KEY_PATTERN,
    Block,
    LandUse,
    LineageOperation,
    Ownership,
    Parcel,
    ParcelLineage,
    ParcelStatus,
)

ADDRESS_MAX_LENGTH = Parcel._meta.get_field("address").max_length
KEY_PREFIX_PATTERN = r"^[0-9]{4}-[0-9]{3}$"
LAST_PARCEL_NUMBER = 999


# --- shared steps ----------------------------------------------------------------------------


def _user_pk(user):
    return getattr(user, "pk", None)


def _history(service: str, user):
    """Attribute the writes of ``service`` to ``user`` in the history events.

    Without a user the key is left out rather than set to None, so the user an enclosing
    context (the request's ``HistoryMiddleware``) recorded is kept.
    """
    metadata = {"service": service}
    if _user_pk(user) is not None:
        metadata["user"] = _user_pk(user)
    return pghistory.context(**metadata)


def _lock_blocks(block_ids) -> dict[int, Block]:
    blocks = (
        Block.objects.select_for_update(no_key=True, of=("self",))
        .select_related("locality")
        .filter(pk__in=set(block_ids))
        .order_by("pk")
    )
    return {block.pk: block for block in blocks}


def _lock_parcels(pks) -> list[Parcel]:
    """The parcels re-read and locked (ordered by pk); raise if one is retired or gone."""
    pks = sorted(set(pks))
    parcels = list(
        Parcel.objects.select_for_update(of=("self",))
        .select_related("block__locality")
        .filter(pk__in=pks)
        .order_by("pk")
    )
    if len(parcels) != len(pks):
        raise CadastreError("not_found", _("A parcel of this edit no longer exists."))
    for parcel in parcels:
        if parcel.status == ParcelStatus.RETIRED:
            raise CadastreError(
                "retired_parcel",
                _(
                    "Parcel %(key)s is retired (split, merged or cancelled) and can no longer be "
                    "edited. Edit the parcels that replaced it."
                )
                % {"key": parcel.cadastral_key},
                where=parcel.geom,
            )
    return parcels


def _lock_parcel(parcel: Parcel) -> Parcel:
    """Lock the parcel's block, then the parcel (the fixed order), and return it re-read."""
    block_id = Parcel.objects.values_list("block_id", flat=True).get(pk=parcel.pk)
    _lock_blocks([block_id])
    return _lock_parcels([parcel.pk])[0]


def _clean_land_use(value: str) -> str:
    if value not in LandUse.values:
        raise CadastreError(
            "invalid_land_use",
            _("“%(value)s” is not a land use; choose one of: %(choices)s.")
            % {"value": value, "choices": ", ".join(LandUse.values)},
        )
    return value


def _clean_address(value: str) -> str:
    value = (value or "").strip()
    if len(value) > ADDRESS_MAX_LENGTH:
        raise CadastreError(
            "invalid_address",
            _("The address has %(count)s characters; at most %(max)s are allowed.")
            % {"count": len(value), "max": ADDRESS_MAX_LENGTH},
        )
    return value


def _clean_built_area(value) -> Decimal | None:
    if value is None:
        return None
    try:
        area = Decimal(str(value))
    except InvalidOperation:
        area = None
    if area is None or not area.is_finite() or area < 0:
        raise CadastreError(
            "invalid_built_area",
            _("The built area must be a number of square metres, zero or more (got “%(value)s”).")
            % {"value": value},
        )
    return area.quantize(Decimal("0.01"))


def _clean_key(key: str) -> str:
    key = (key or "").strip()
    if not re.match(CADASTRAL_KEY_PATTERN, key):
        raise CadastreError(
            "invalid_cadastral_key",
            _(
                "The cadastral key “%(key)s” does not have the form LLLL-MMM-PPP (locality, "
                "block, parcel), e.g. 0012-045-007."
            )
            % {"key": key},
        )
    if Parcel.objects.filter(cadastral_key=key).exists():
        raise _duplicate_key(key)
    return key


def _duplicate_key(key: str) -> CadastreError:
    return CadastreError(
        "duplicate_cadastral_key",
        _(
            "The cadastral key %(key)s is already used by another parcel (retired parcels keep "
            "their keys). Choose another key or leave it empty to number the parcel."
        )
        % {"key": key},
    )


def _next_keys(block: Block, count: int) -> list[str]:
    """The next ``count`` free keys ``<locality>-<block>-<NNN>`` of ``block``.

    Numbers after the highest one in use come first (a number is never handed out twice,
    since retired parcels keep theirs); once 999 is reached, unused lower numbers are taken.
    The caller holds the block's lock, so no concurrent edit draws the same numbers.
    """
    prefix = f"{block.locality.code}-{block.code}"
    if not re.match(KEY_PREFIX_PATTERN, prefix):
        raise CadastreError(
            "invalid_cadastral_key",
            _(
                "Parcels of block %(block)s cannot be numbered: its locality and block codes do "
                "not give a key of the form LLLL-MMM-PPP. Give the cadastral key explicitly."
            )
            % {"block": prefix},
        )
    with connection.cursor() as cursor:
        cursor.execute(
            """WITH used AS (
                   SELECT right(cadastral_key, 3)::int AS n FROM cadastre_parcel
                    WHERE cadastral_key LIKE %(prefix)s || '-___'
               ), top AS (SELECT COALESCE(max(n), 0) AS n FROM used)
               SELECT %(prefix)s || '-' || lpad(s.n::text, 3, '0')
                 FROM generate_series(1, %(last)s) s(n), top
                WHERE s.n NOT IN (SELECT n FROM used)
                ORDER BY s.n <= top.n, s.n
                LIMIT %(count)s""",
            {"prefix": prefix, "last": LAST_PARCEL_NUMBER, "count": count},
        )
        keys = [row[0] for row in cursor.fetchall()]
    if len(keys) < count:
        raise CadastreError(
            "block_full",
            _("Block %(block)s has no free parcel number left (001 to 999).") % {"block": prefix},
        )
    return keys


def _retire(parcels: list[Parcel], children: list[Parcel], operation: str, user) -> None:
    """Retire ``parcels`` and link each of them to each child in the lineage."""
    Parcel.objects.filter(pk__in=[p.pk for p in parcels]).update(status=ParcelStatus.RETIRED)
    created_by = user if _user_pk(user) is not None else None
    ParcelLineage.objects.bulk_create(
        ParcelLineage(parent=parent, child=child, operation=operation, created_by=created_by)
        for parent in parcels
        for child in children
    )


def _ownership_of(parcel_ids) -> dict[int, frozenset]:
    """Each parcel's owners as a set of (owner id, share %), to compare parents of a merge."""
    owners = {pk: set() for pk in parcel_ids}
    for parcel_id, owner_id, share in Ownership.objects.filter(
        parcel_id__in=parcel_ids
    ).values_list("parcel_id", "owner_id", "share_percent"):
        owners[parcel_id].add((owner_id, share))
    return {pk: frozenset(pairs) for pk, pairs in owners.items()}


def _copy_ownerships(*, source_id: int, target_ids: list[int]) -> None:
    """The owners of ``source_id`` (same shares, same date) become owners of each target."""
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO cadastre_ownership (owner_id, parcel_id, share_percent, since)
               SELECT o.owner_id, t.id, o.share_percent, o.since
                 FROM cadastre_ownership o CROSS JOIN unnest(%s::bigint[]) AS t(id)
                WHERE o.parcel_id = %s""",
            [target_ids, source_id],
        )


def _reload(pks) -> list[Parcel]:
    # Re-read: land_area_m2 is computed by the database, status has a database default.
    return list(Parcel.objects.select_related("block__locality").filter(pk__in=pks).order_by("pk"))


# --- services --------------------------------------------------------------------------------


def parcel_create(
    *,
    block: Block | None,
    geom: Polygon,
    land_use: str,
    address: str = "",
    cadastral_key: str | None = None,
    built_area_m2: Decimal | None = None,
    user=None,
) -> Parcel:
    """Create an active parcel in ``block`` (or in the one block it lies in, if None).

    The outline (any SRID) is normalized, validated and snapped onto its neighbours and block
    outline (``cadastre.topology.prepare_parcel_geometry``). An overlap with an active parcel,
    or a part outside the block, is tolerated only when it is nowhere wider than
    ``OVERLAP_TOLERANCE_M`` (a negative buffer of half the tolerance leaves nothing of it).
    Without ``cadastral_key`` it gets the block's next free number. Writes one parcel (and its
    history event).

    Raises ``CadastreError``: wrong_geometry_type, missing_srid, unknown_srid, empty_geometry,
    too_many_vertices, invalid_geometry, outside_block, straddles_blocks, overlap,
    invalid_cadastral_key, duplicate_cadastral_key, block_full, invalid_land_use,
    invalid_address, invalid_built_area.
    """
    land_use = _clean_land_use(land_use)
    address = _clean_address(address)
    built_area_m2 = _clean_built_area(built_area_m2)
    with transaction.atomic(), _history("parcel_create", user):
        if block is None:
            geom = topology.normalize(geom, kind="Polygon")
            topology.check_valid(geom)
            block = topology.find_block(geom)
        block = _lock_blocks([block.pk])[block.pk]
        outline, block = topology.prepare_parcel_geometry(geom, block=block, exclude=[])
        key = _clean_key(cadastral_key) if cadastral_key else _next_keys(block, 1)[0]
        try:
            with transaction.atomic():
                parcel = Parcel.objects.create(
                    block=block,
                    cadastral_key=key,
                    land_use=land_use,
                    address=address,
                    built_area_m2=built_area_m2,
                    geom=outline,
                )
        except IntegrityError:
            # Another transaction took the key between our check and our insert.
            if Parcel.objects.filter(cadastral_key=key).exists():
                raise _duplicate_key(key) from None
            raise
    return _reload([parcel.pk])[0]


def parcel_reshape(*, parcel: Parcel, geom: Polygon, user=None) -> Parcel:
    """Replace the outline of an active parcel; same rules as ``parcel_create``, within the
    parcel's own block. Accounts, key and attributes are unchanged.

    Raises ``CadastreError``: retired_parcel, and the geometry codes of ``parcel_create``.
    """
    with transaction.atomic(), _history("parcel_reshape", user):
        parcel = _lock_parcel(parcel)
        outline, _block = topology.prepare_parcel_geometry(
            geom, block=parcel.block, exclude=[parcel.pk]
        )
        Parcel.objects.filter(pk=parcel.pk).update(geom=outline)
    return _reload([parcel.pk])[0]


def parcel_split(*, parcel: Parcel, line: LineString, user=None) -> list[Parcel]:
    """Split an active parcel along ``line`` (any SRID) into two or more new parcels.

    The line must cross the parcel completely (``ST_Split`` gives at least two pieces); it is
    snapped onto the parcel's vertices first. The children get the block's next free keys and
    the parent's block, land use and address (built area unknown: NULL); the parent is retired
    and linked to each child in ``ParcelLineage`` (operation split). Each service account of
    the parent moves to the child containing its service point, or the nearest child for a
    point on the street side (one UPDATE). The parent's owners own every child, same shares.

    Raises ``CadastreError``: retired_parcel, wrong_geometry_type, missing_srid, empty_geometry,
    split_line_does_not_cross, split_sliver, and the rule codes (overlap, outside_block) when
    the parent itself already broke them. Returns the children ordered by key.
    """
    with transaction.atomic(), _history("parcel_split", user):
        parcel = _lock_parcel(parcel)
        blade = topology.normalize(line, kind="LineString")
        pieces = topology.split_pieces(parcel, blade)
        for piece in pieces:
            # Pieces of a valid parcel are valid and cannot overlap more than it did; checked
            # anyway so every stored outline has passed the same rules.
            topology.check_valid(piece)
            topology.check_rules(piece, block=parcel.block, exclude=[parcel.pk])
        keys = _next_keys(parcel.block, len(pieces))
        children = Parcel.objects.bulk_create(
            Parcel(
                block=parcel.block,
                cadastral_key=key,
                status=ParcelStatus.ACTIVE,
                land_use=parcel.land_use,
                address=parcel.address,
                geom=piece,
            )
            for key, piece in zip(keys, pieces, strict=True)
        )
        _retire([parcel], children, LineageOperation.SPLIT, user)
        # A split does not change who owns the land: each child keeps the parent's owners.
        _copy_ownerships(source_id=parcel.pk, target_ids=[c.pk for c in children])
        with connection.cursor() as cursor:
            # Closest child by true distance (0 inside); ties (a point on the cut) by pk.
            cursor.execute(
                """UPDATE cadastre_serviceaccount a SET parcel_id = pick.child_id
                     FROM (SELECT DISTINCT ON (a2.id) a2.id AS account_id, c.id AS child_id
                             FROM cadastre_serviceaccount a2
                             JOIN cadastre_parcel c ON c.id = ANY(%(children)s)
                            WHERE a2.parcel_id = %(parent)s
                            ORDER BY a2.id, ST_Distance(c.geom, a2.service_point), c.id) pick
                    WHERE a.id = pick.account_id""",
                {"children": [c.pk for c in children], "parent": parcel.pk},
            )
    return sorted(_reload([c.pk for c in children]), key=lambda p: p.cadastral_key)


def parcel_merge(*, parcels: list[Parcel], user=None) -> Parcel:
    """Merge two or more adjacent active parcels of one block into a new parcel.

    They must form one polygon: each is snapped onto the others (gaps and overlaps thinner
    than the snap tolerance close), their union must be a single Polygon (parcels touching
    only at a corner are not adjacent), and its area must equal the sum of theirs within
    ``OVERLAP_TOLERANCE_M`` times the length of the edges they shared. The result passes the rules
    of ``parcel_create`` and gets the block's next free key, the land use and address of the
    largest parent and the sum of the known built areas. Parents are retired and linked to it
    (operation merge); their service accounts move to it, and their (identical) owners own it.

    Raises ``CadastreError``: too_few_parcels, retired_parcel, different_blocks,
    different_owners, not_adjacent,
    area_mismatch, and the rule codes of ``parcel_create``.
    """
    pks = {p.pk for p in parcels}
    if len(pks) < 2:
        raise CadastreError("too_few_parcels", _("Choose at least two different parcels to merge."))
    with transaction.atomic(), _history("parcel_merge", user):
        block_ids = Parcel.objects.filter(pk__in=pks).values_list("block_id", flat=True)
        _lock_blocks(block_ids)
        parents = _lock_parcels(pks)
        keys = ", ".join(p.cadastral_key for p in parents)
        blocks = {p.block_id: p.block for p in parents}
        if len(blocks) > 1:
            raise CadastreError(
                "different_blocks",
                _(
                    "Parcels %(keys)s belong to different blocks (%(blocks)s); only parcels of "
                    "one block can be merged."
                )
                % {"keys": keys, "blocks": ", ".join(str(b) for b in blocks.values())},
            )
        block = parents[0].block
        owners = _ownership_of([p.pk for p in parents])
        if len(set(owners.values())) > 1:
            # Shares of different owners cannot be combined without a legal act (a sale or a
            # co-ownership agreement): record that first, then merge.
            raise CadastreError(
                "different_owners",
                _(
                    "Parcels %(keys)s have different owners or shares. Record the change of "
                    "ownership first; only parcels with the same owners can be merged."
                )
                % {"keys": keys},
                where=_collect([p.geom for p in parents]),
            )
        outline = topology.merged_outline(parents)
        if outline is None:
            raise CadastreError(
                "not_adjacent",
                _(
                    "Parcels %(keys)s do not form one piece: each must share an edge with "
                    "another to be merged."
                )
                % {"keys": keys},
                where=_collect([p.geom for p in parents]),
            )
        outline, _block = topology.prepare_parcel_geometry(
            outline, block=block, exclude=sorted(pks)
        )
        expected = sum(p.geom.area for p in parents)
        shared_length = (sum(p.geom.length for p in parents) - outline.length) / 2
        tolerance = max(topology.overlap_tolerance() * shared_length, 0.01)
        if abs(outline.area - expected) > tolerance:
            raise CadastreError(
                "area_mismatch",
                _(
                    "The merged parcel would measure %(area)s m² but the parcels add up to "
                    "%(expected)s m²: they overlap each other or leave a gap between them. "
                    "Fix their outlines first."
                )
                % {"area": f"{outline.area:,.2f}", "expected": f"{expected:,.2f}"},
                where=outline,
            )
        largest = max(parents, key=lambda p: (p.geom.area, -p.pk))
        known = [p.built_area_m2 for p in parents if p.built_area_m2 is not None]
        child = Parcel.objects.create(
            block=block,
            cadastral_key=_next_keys(block, 1)[0],
            land_use=largest.land_use,
            address=largest.address,
            built_area_m2=sum(known, Decimal(0)) if known else None,
            geom=outline,
        )
        _retire(parents, [child], LineageOperation.MERGE, user)
        _copy_ownerships(source_id=parents[0].pk, target_ids=[child.pk])
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE cadastre_serviceaccount SET parcel_id = %s WHERE parcel_id = ANY(%s)",
                [child.pk, sorted(pks)],
            )
    return _reload([child.pk])[0]


def parcel_update_attributes(
    *,
    parcel: Parcel,
    land_use: str | None = None,
    address: str | None = None,
    built_area_m2: Decimal | None = None,
    user=None,
) -> Parcel:
    """Change the land use, address and/or built area of an active parcel (None: unchanged).

    Raises ``CadastreError``: retired_parcel, invalid_land_use, invalid_address,
    invalid_built_area.
    """
    changes = {}
    if land_use is not None:
        changes["land_use"] = _clean_land_use(land_use)
    if address is not None:
        changes["address"] = _clean_address(address)
    if built_area_m2 is not None:
        changes["built_area_m2"] = _clean_built_area(built_area_m2)
    with transaction.atomic(), _history("parcel_update_attributes", user):
        parcel = _lock_parcel(parcel)
        if changes:
            Parcel.objects.filter(pk=parcel.pk).update(**changes)
    return _reload([parcel.pk])[0]


def _collect(geoms):
    return MultiPolygon(*geoms, srid=geoms[0].srid)
