"""Boundary changes and proposals: the preview is exactly what apply changes, apply is one
atomic step, and a preview made stale by other changes is not applied blindly."""

import pghistory.models
import pytest
from django.db import connection

from sectors import services
from sectors.assignment import assign_accounts
from sectors.models import AccountSectors, AreaPiece, CommercialArea, SectorsError
from sectors.services import AreaEdit
from tests.sectors.factories import accounts_at, build_town, rect

pytestmark = pytest.mark.django_db


@pytest.fixture
def town():
    town = build_town()
    # Two accounts in B1, three in B2, one in S2 (no book), one in Z2.
    town.accounts = accounts_at(
        [(100, 100), (100, 400), (100, 600), (300, 700), (400, 900), (700, 100), (1500, 500)]
    )
    services.assign_all()
    return town


def _state():
    return (
        sorted((a.level, a.code, a.parent_id, a.geom.ewkt) for a in CommercialArea.objects.all()),
        AreaPiece.objects.count(),
        sorted(
            AccountSectors.objects.values_list(
                "account_id", "zone_id", "sector_id", "book_id", "dma_id", "tariff_zone_id"
            )
        ),
        pghistory.models.Events.objects.count(),
    )


def _areas(diff):
    return sorted((op.op, op.area.kind, op.area.code, op.parent_code) for op in diff.areas)


def test_preview_of_a_reshape_writes_nothing_and_equals_what_apply_changes(town):
    # B1 shrinks to y=300: the account at y=400 is left in S1 without a book.
    edit = AreaEdit("update", "book", area_id=town.b1.pk, geom=rect(0, 0, 500, 300))
    before = _state()
    preview = services.preview_boundary_change(edit=edit)
    assert _state() == before
    assert not preview.applied
    assert preview.move_keys() == [(town.accounts[1].pk, "book", "B1", None)]
    assert preview.count_keys() == [("book", "B1", 2, 1, 0, 1)]
    assert preview.unassigned_delta["book"] == 1
    applied = services.apply_boundary_change(edit=edit, token=preview.token)
    assert applied.applied and applied.token == preview.token
    assert applied.move_keys() == preview.move_keys()
    assert applied.count_keys() == preview.count_keys()
    assert _areas(applied) == _areas(preview) == [("update", "book", "B1", "S1")]
    row = AccountSectors.objects.get(account=town.accounts[1])
    assert (row.sector_id, row.book_id) == (town.s1.pk, None)


def test_a_preview_refuses_what_apply_would_refuse(town):
    edit = AreaEdit("update", "book", area_id=town.b1.pk, geom=rect(0, 0, 500, 650))
    before = _state()
    for run in (services.preview_boundary_change, services.apply_boundary_change):
        with pytest.raises(SectorsError) as caught:
            run(edit=edit)
        assert caught.value.code == "overlap"
        assert "B2" in caught.value.message
    assert _state() == before


def test_apply_of_a_proposal_equals_its_preview_and_is_recorded(town):
    proposal = [
        {"code": "B1", "name": "Libro 1", "geom": rect(0, 0, 500, 650)},
        {"code": "B2", "name": "Libro 2", "geom": rect(0, 650, 500, 1000)},
    ]
    before = _state()
    preview = services.preview_proposal(level="book", parent=town.s1, proposal=proposal)
    assert _state() == before
    applied = services.apply_proposal(
        level="book", parent=town.s1, proposal=proposal, token=preview.token
    )
    assert applied.applied
    assert applied.token == preview.token
    assert applied.move_keys() == preview.move_keys() == [(town.accounts[2].pk, "book", "B2", "B1")]
    assert applied.count_keys() == preview.count_keys()
    assert (
        _areas(applied)
        == _areas(preview)
        == [
            ("update", "book", "B1", "S1"),
            ("update", "book", "B2", "S1"),
        ]
    )
    # The applied diff is what the table now says, and history has exactly that change.
    assert AccountSectors.objects.get(account=town.accounts[2]).book_id == town.b1.pk
    events = pghistory.models.Events.objects.filter(
        pgh_obj_model="sectors.AccountSectors", pgh_label="update"
    )
    assert [(e.pgh_obj_id, e.pgh_diff["book_id"]) for e in events] == [
        (str(town.accounts[2].pk), [town.b2.pk, town.b1.pk])
    ]
    assert events.get().pgh_context["service"] == "apply_proposal"


def test_a_preview_made_stale_by_a_new_account_is_refused_and_nothing_is_written(town):
    proposal = [
        {"code": "B1", "name": "Libro 1", "geom": rect(0, 0, 500, 650)},
        {"code": "B2", "name": "Libro 2", "geom": rect(0, 650, 500, 1000)},
    ]
    preview = services.preview_proposal(level="book", parent=town.s1, proposal=proposal)
    newcomer = accounts_at([(200, 620)])[0]  # opened meanwhile, in the strip that moves
    assign_accounts(account_ids=[newcomer.pk])
    before = _state()
    with pytest.raises(SectorsError) as caught:
        services.apply_proposal(
            level="book", parent=town.s1, proposal=proposal, token=preview.token
        )
    assert caught.value.code == "stale_preview"
    assert _state() == before
    # Without the token, apply does what is true now, newcomer included.
    applied = services.apply_proposal(level="book", parent=town.s1, proposal=proposal)
    assert (newcomer.pk, "book", "B2", "B1") in applied.move_keys()
    assert applied.token != preview.token


def test_a_different_geometry_than_the_previewed_one_is_refused(town):
    proposal = [
        {"code": "B1", "name": "Libro 1", "geom": rect(0, 0, 500, 650)},
        {"code": "B2", "name": "Libro 2", "geom": rect(0, 650, 500, 1000)},
    ]
    preview = services.preview_proposal(level="book", parent=town.s1, proposal=proposal)
    proposal[0]["geom"] = rect(0, 0, 500, 640)  # same moves, another boundary
    proposal[1]["geom"] = rect(0, 640, 500, 1000)
    with pytest.raises(SectorsError) as caught:
        services.apply_proposal(
            level="book", parent=town.s1, proposal=proposal, token=preview.token
        )
    assert caught.value.code == "stale_preview"


def test_a_proposal_creates_updates_and_deletes_children_by_code(town):
    proposal = [
        {"code": "B1", "name": "Libro 1", "geom": rect(0, 0, 500, 300)},
        {"code": "B3", "name": "Libro 3", "geom": rect(0, 300, 500, 800)},
        {"code": "B4", "name": "Libro 4", "geom": rect(0, 800, 500, 1000)},
    ]
    diff = services.apply_proposal(level="book", parent=town.s1, proposal=proposal)
    assert _areas(diff) == [
        ("create", "book", "B3", "S1"),
        ("create", "book", "B4", "S1"),
        ("delete", "book", "B2", None),
        ("update", "book", "B1", "S1"),
    ]
    books = dict(CommercialArea.objects.filter(level="book").values_list("code", "id"))
    assert set(books) == {"B1", "B3", "B4"}
    rows = {
        r.account_id: r.book_id
        for r in AccountSectors.objects.filter(account__in=town.accounts[:5])
    }
    a = town.accounts
    assert rows == {
        a[0].pk: books["B1"],
        a[1].pk: books["B3"],
        a[2].pk: books["B3"],
        a[3].pk: books["B3"],
        a[4].pk: books["B4"],
    }
    assert diff.accounts_moved == 4
    counts = {c.area.code: (c.before, c.after) for c in diff.counts}
    assert counts == {"B1": (2, 1), "B2": (3, 0), "B3": (0, 3), "B4": (0, 1)}
    connection.check_constraints()


def test_a_preview_names_areas_it_would_create_without_an_id(town):
    proposal = [{"code": "B9", "name": "Todo", "geom": rect(0, 0, 500, 1000)}]
    diff = services.preview_proposal(level="book", parent=town.s1, proposal=proposal)
    created = [op.area for op in diff.areas if op.op == "create"]
    assert [(a.code, a.id) for a in created] == [("B9", None)]
    assert {m.target.id for m in diff.moves} == {None}


def test_a_sector_proposal_moves_the_books_under_the_sector_that_holds_them(town):
    proposal = [
        {"code": "SA", "name": "Poniente", "geom": rect(0, 0, 600, 1000)},
        {"code": "SB", "name": "Oriente", "geom": rect(600, 0, 1000, 1000)},
    ]
    diff = services.apply_proposal(level="sector", parent=town.z1, proposal=proposal)
    sa = CommercialArea.objects.get(level="sector", code="SA")
    assert set(CommercialArea.objects.filter(level="book").values_list("parent_id", flat=True)) == {
        sa.pk
    }
    assert ("reparent", "book", "B1", "SA") in _areas(diff)
    # Accounts in the books follow them; the one in S2 (x=700) lands in SB.
    a = town.accounts
    sectors = dict(
        AccountSectors.objects.filter(account__in=a[:6]).values_list("account_id", "sector__code")
    )
    assert sectors == {a[i].pk: "SA" for i in range(5)} | {a[5].pk: "SB"}
    connection.check_constraints()


def test_a_proposal_that_cuts_through_a_book_is_refused_unless_dropping_it(town):
    proposal = [
        {"code": "SA", "name": "Poniente", "geom": rect(0, 0, 250, 1000)},
        {"code": "SB", "name": "Oriente", "geom": rect(250, 0, 1000, 1000)},
    ]
    before = _state()
    with pytest.raises(SectorsError) as caught:
        services.apply_proposal(level="sector", parent=town.z1, proposal=proposal)
    assert caught.value.code == "descendant_straddles"
    assert "B1" in caught.value.message and "B2" in caught.value.message
    assert caught.value.where.area == pytest.approx(500 * 1000)
    assert _state() == before
    diff = services.apply_proposal(
        level="sector", parent=town.z1, proposal=proposal, descendants="drop"
    )
    assert not CommercialArea.objects.filter(level="book").exists()
    assert diff.unassigned_delta["book"] == 5
    assert ("delete", "book", "B1", None) in _areas(diff)


def test_proposal_members_must_not_overlap_nor_leave_the_parent(town):
    before = _state()
    with pytest.raises(SectorsError) as caught:
        services.apply_proposal(
            level="book",
            parent=town.s1,
            proposal=[
                {"code": "B1", "name": "a", "geom": rect(0, 0, 500, 600)},
                {"code": "B2", "name": "b", "geom": rect(0, 500, 500, 1000)},
            ],
        )
    assert caught.value.code == "overlap"
    assert caught.value.where.area == pytest.approx(500 * 100)
    with pytest.raises(SectorsError) as caught:
        services.apply_proposal(
            level="book",
            parent=town.s1,
            proposal=[{"code": "B1", "name": "a", "geom": rect(0, 0, 600, 1000)}],
        )
    assert caught.value.code == "outside_parent"
    assert _state() == before


def test_a_dma_proposal_replaces_every_dma(town):
    diff = services.apply_proposal(
        level="dma",
        parent=None,
        proposal=[
            {"code": "DN", "name": "Norte", "geom": rect(0, 500, 2000, 1000)},
            {"code": "DS", "name": "Sur", "geom": rect(0, 0, 2000, 500)},
        ],
    )
    assert ("delete", "dma", "D1", None) in _areas(diff)
    dmas = dict(
        AccountSectors.objects.filter(account__in=town.accounts).values_list(
            "account_id", "dma__code"
        )
    )
    a = town.accounts
    assert dmas == {
        a[0].pk: "DS",
        a[1].pk: "DS",
        a[2].pk: "DN",
        a[3].pk: "DN",
        a[4].pk: "DN",
        a[5].pk: "DS",
        a[6].pk: "DN",  # (1500, 500): on the boundary, the lower id wins
    }
