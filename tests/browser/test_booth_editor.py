"""The organiser's floor-plan editor in a real browser: choosing, dragging and adding booths, and a refused move
put back where the server has it."""

from __future__ import annotations

from playwright.sync_api import expect

from portal.accounts.models import Role
from portal.booths.models import Booth
from tests.support.a11y import assert_accessible
from tests.support.booths import create_hall
from tests.support.ticketing import create_event


def stored(db, booth_id: int) -> Booth:
    with db.session_factory() as s:
        return s.get(Booth, booth_id)


def drag(page, shape, dx_units: int, dy_units: int, unit: int = 16) -> None:
    box = shape.locator("rect").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + dx_units * unit / 2, y + dy_units * unit / 2, steps=3)
    page.mouse.move(x + dx_units * unit, y + dy_units * unit, steps=3)
    page.mouse.up()


def test_an_organiser_drags_adds_and_is_refused_an_overlap(page, db, make_user, signed_in):
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    organiser = signed_in(Role.ORGANISER, locale="en", email="duc@example.vn")
    hall = create_hall(db, make_user, event=create_event(db, team=(organiser,)))
    page.goto(f"/manage/events/{hall.event_id}/booths/")
    message = page.locator("#editor-message")

    a02 = page.locator("#booth-shapes .booth", has_text="A-02")
    a02.locator("rect").click()
    expect(page.locator("#booth-form-title")).to_have_text("Booth A-02")
    expect(page.locator("#booth-form [name=x]")).to_have_value("3")

    drag(page, a02, 4, 0)
    expect(message).to_contain_text("Booth A-02 is saved")
    assert stored(db, hall.booths["A-02"]).x == 7
    expect(page.locator("#booth-form [name=x]")).to_have_value("7")

    drag(page, a02, -6, 0)  # onto A-01
    expect(message).to_contain_text("Booth A-02 would overlap booth A-01")
    expect(a02.locator("rect")).to_have_attribute("x", str(7 * 16))
    assert stored(db, hall.booths["A-02"]).x == 7

    page.locator("#booth-new").click()
    form = page.locator("#booth-form")
    for name, value in {"number": "D-01", "zone": "D", "x": "30", "y": "20", "w": "4", "h": "3",
                        "price": "15000000"}.items():
        form.locator(f"[name={name}]").fill(value)
    form.locator("button[type=submit]").click()
    expect(message).to_contain_text("Booth D-01 is saved")
    expect(page.locator("#booth-shapes .booth", has_text="D-01")).to_have_count(1)
    assert_accessible(page)
    assert not [e for e in errors if "Content Security Policy" in e or "Uncaught" in e], errors
