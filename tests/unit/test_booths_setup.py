"""The organisers' editor underneath: booths on the plan (inside the hall, no overlaps, unique numbers), the sale's
rules, priority windows, and uploaded drawings and logos checked by their content."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from flask_babel import force_locale
from werkzeug.datastructures import FileStorage

from portal.booths import services, setup, uploads
from portal.booths.models import Booth, BoothSaleSettings, PlanImageKind
from portal.db import utcnow
from portal.errors import Conflict, Invalid
from portal.uploads import STORED_NAME
from tests.support.booths import as_exhibitor, as_organiser, create_hall, join_organisation

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


def booth(number: str, x: int, y: int, w: int = 3, h: int = 3, **more) -> setup.BoothInput:
    return setup.BoothInput(number=number, zone=number[0], x=x, y=y, w=w, h=h, price=20_000_000, **more)


def refusal(app, db, hall, service, *args, **kwargs) -> tuple[str, str]:
    with pytest.raises(Invalid) as refused:
        as_organiser(app, db, service, hall, *args, **kwargs)
    with app.test_request_context(), force_locale("en"):
        return str(refused.value.message), refused.value.field


def test_booths_lie_inside_the_hall_without_overlapping_and_with_unique_numbers(app, db, make_user):
    hall = create_hall(db, make_user, booths=())
    a01 = as_organiser(app, db, setup.save_booth, hall, booth(" a-01 ", 0, 0, corner=True))
    assert (a01.number, a01.size_m2, a01.corner) == ("A-01", 9.0, True)  # the area it covers, at 1 m a unit
    as_organiser(app, db, setup.save_booth, hall, booth("A-02", 3, 0))

    hall.organiser.locale = "en"
    assert refusal(app, db, hall, setup.save_booth, booth("A-03", 2, 2)) == (
        "Booth A-03 would overlap booth A-01. Move or resize one of them.", "x")
    assert refusal(app, db, hall, setup.save_booth, booth("A-02", 10, 10)) == ("There is already a booth A-02.",
                                                                               "number")
    assert refusal(app, db, hall, setup.save_booth, booth("A-09", 58, 0)) == (
        "The booth must lie inside the hall (60 × 40 grid units).", "x")
    assert refusal(app, db, hall, setup.save_booth, booth("A 9", 20, 0))[1] == "number"
    # moving a booth onto its own old place is no overlap
    moved = as_organiser(app, db, setup.save_booth, hall, booth("A-01", 1, 0, w=2), a01.id)
    assert (moved.id, moved.x, moved.size_m2) == (a01.id, 1, 6.0)


def test_the_hall_cannot_shrink_past_a_booth(app, db, make_user):
    hall = create_hall(db, make_user)  # C-01 reaches y = 16
    hall.organiser.locale = "en"
    message, field = refusal(app, db, hall, setup.save_floor_plan, width=60, height=15, grid_size=16,
                             metres_per_unit=1.0)
    assert message == "Booth C-01 would be outside the hall. Move it first, or keep the hall larger."
    plan = as_organiser(app, db, setup.save_floor_plan, hall, width=40, height=20, grid_size=20,
                        metres_per_unit=0.5, background=("0" * 32 + ".png", PlanImageKind.PNG))
    assert (plan.width, plan.height, plan.background_kind) == (40, 20, PlanImageKind.PNG)


def test_a_booth_with_a_history_is_blocked_rather_than_deleted(app, db, make_user):
    hall = create_hall(db, make_user)
    exhibitor = make_user()
    held = as_exhibitor(app, db, services.hold_booth, exhibitor, hall.booths["A-01"])
    as_exhibitor(app, db, services.release_hold, exhibitor, held.id)
    with pytest.raises(Conflict):
        as_organiser(app, db, setup.delete_booth, hall, hall.booths["A-01"])
    as_organiser(app, db, setup.delete_booth, hall, hall.booths["A-02"])
    with db.session_factory() as s:
        assert s.get(Booth, hall.booths["A-02"]) is None


def test_sale_settings_are_checked_and_saved(app, db, make_user):
    hall = create_hall(db, make_user)
    opens = utcnow() + timedelta(days=1)
    values = dict(hold_minutes=20, approval_required=True, deposit_percent=30, payment_days=10,
                  selection_opens_at=opens, selection_closes_at=opens + timedelta(days=20),
                  badge_rules=[(12, 3), (24, 5), (None, 10)])
    saved = as_organiser(app, db, setup.save_sale_settings, hall, **values)
    assert saved.badge_rules == [{"up_to_m2": 12, "badges": 3}, {"up_to_m2": 24, "badges": 5},
                                 {"up_to_m2": None, "badges": 10}]
    with db.session_factory() as s:
        assert (s.get(BoothSaleSettings, hall.event_id).deposit_percent) == 30
    for wrong, field in (({"deposit_percent": 101}, "deposit_percent"), ({"hold_minutes": 0}, "hold_minutes"),
                         ({"selection_closes_at": opens}, "selection_closes_at"),
                         ({"badge_rules": [(24, 5), (12, 3), (None, 10)]}, "badge_rules"),
                         ({"badge_rules": [(12, 3), (24, 5)]}, "badge_rules")):
        assert refusal(app, db, hall, setup.save_sale_settings, **{**values, **wrong})[1] == field


def test_a_priority_window_names_its_organisations(app, db, make_user):
    hall = create_hall(db, make_user)
    sponsor = join_organisation(db, make_user(), "Ngân hàng Demo")
    window = as_organiser(app, db, setup.save_priority_window, hall, name_vi="nhà tài trợ", name_en="sponsors",
                          opens_at=utcnow(), organisation_ids=[sponsor])
    assert [o.name for o in window.organisations] == ["Ngân hàng Demo"]
    assert refusal(app, db, hall, setup.save_priority_window, name_vi="x", name_en="x", opens_at=utcnow(),
                   organisation_ids=[sponsor, 999_999])[1] == "organisation_ids"


# --- uploads --------------------------------------------------------------------------------------

def upload(data: bytes, name: str = "file") -> FileStorage:
    return FileStorage(io.BytesIO(data), filename=name)


def test_a_logo_is_a_small_picture_whatever_its_name_says(app, tmp_path):
    name = uploads.store_logo(upload(PNG, "logo.exe"), tmp_path)
    assert STORED_NAME.fullmatch(name) and name.endswith(".png")
    assert (tmp_path / name).read_bytes() == PNG
    with app.test_request_context(), pytest.raises(Invalid) as not_an_image:
        uploads.store_logo(upload(b"%PDF-1.7 hello", "logo.png"), tmp_path)
    assert not_an_image.value.field == "logo"
    with app.test_request_context(), pytest.raises(Invalid) as too_big:
        uploads.store_logo(upload(PNG + b"\0" * uploads.MAX_LOGO_BYTES), tmp_path)
    assert "larger than 1 MB" in str(too_big.value.message)


EVIL_SVG = b"""<?xml version="1.0"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 100 50"
     onload="alert(1)">
  <script>alert(document.cookie)</script>
  <style>rect { fill: url(https://evil.example/x.png) }</style>
  <rect x="1" y="2" width="30" height="20" fill="#eee" stroke="url(https://evil.example/a)" onclick="steal()"/>
  <a xlink:href="javascript:alert(1)"><circle r="4"/></a>
  <use xlink:href="https://evil.example/sprite.svg#x"/>
  <use href="#wall"/>
  <foreignObject><div xmlns="http://www.w3.org/1999/xhtml">hi</div></foreignObject>
  <image href="https://evil.example/track.png"/>
  <text x="5" y="45" font-size="4">Hall A &amp; B</text>
</svg>"""


def test_an_svg_drawing_keeps_its_shapes_and_loses_everything_that_could_act(app, tmp_path):
    name, kind = uploads.store_plan_background(upload(EVIL_SVG, "plan.svg"), tmp_path)
    assert kind is PlanImageKind.SVG and name.endswith(".svg")
    stored = (tmp_path / name).read_text()
    for gone in ("script", "onload", "onclick", "style", "evil.example", "javascript", "foreignObject", "<image",
                 "<a "):
        assert gone not in stored
    for kept in ('<rect x="1" y="2" width="30" height="20" fill="#eee"', 'href="#wall"', "Hall A &amp; B",
                 'viewBox="0 0 100 50"'):
        assert kept in stored


@pytest.mark.parametrize("data", [
    b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]><svg '
    b'xmlns="http://www.w3.org/2000/svg"><text>&x;</text></svg>',
    b"<svg xmlns='http://www.w3.org/2000/svg'><rect></svg>",
    b"<html><svg></svg></html>",
    b"GIF89a....",
])
def test_a_drawing_that_is_not_a_plain_png_jpeg_or_svg_is_refused(app, tmp_path, data):
    with app.test_request_context(), pytest.raises(Invalid) as refused:
        uploads.store_plan_background(upload(data), tmp_path)
    assert refused.value.field == "background"
    assert list(tmp_path.iterdir()) == []
