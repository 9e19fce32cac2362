"""The organiser's floor-plan editor in a real browser: choosing, dragging, editing, adding and deleting booths, a
refused move put back where the server has it, and the booth list under the plan following every change without a
reload."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from portal.accounts.models import Role
from portal.booths import services
from portal.booths.models import BookingStatus, Booth, BoothBooking
from tests.support.a11y import assert_accessible
from tests.support.booths import add_booths, as_exhibitor, create_hall
from tests.support.finance import reserve_booth
from tests.support.ticketing import create_event

#: where the plans' screenshots go (ignored by git), for the issue's before-and-after note
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


def stored(db, booth_id: int) -> Booth:
    with db.session_factory() as s:
        return s.get(Booth, booth_id)


def screen_unit(page) -> float:
    """How many screen pixels one grid unit takes: the drawing is scaled to its frame."""
    width = int(page.locator("#booth-editor").get_attribute("data-width"))
    return page.locator("#booth-plan").bounding_box()["width"] / width


def drag(page, shape, dx_units: int, dy_units: int) -> None:
    shape.scroll_into_view_if_needed()
    unit = screen_unit(page)
    box = shape.locator(".booth-box").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + dx_units * unit / 2, y + dy_units * unit / 2, steps=3)
    page.mouse.move(x + dx_units * unit, y + dy_units * unit, steps=3)
    page.mouse.up()


def row(page, number: str):
    return page.locator("#booth-list tbody tr", has=page.locator("th", has_text=number))


def test_an_organiser_drags_adds_and_is_refused_an_overlap(page, db, make_user, signed_in):
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    organiser = signed_in(Role.ORGANISER, locale="en", email="duc@example.vn")
    hall = create_hall(db, make_user, event=create_event(db, team=(organiser,)))
    page.goto(f"/manage/events/{hall.event_id}/booths/")
    message = page.locator("#editor-message")

    a02 = page.locator("#booth-shapes .booth", has_text="A-02")
    a02.locator(".booth-box").click()
    expect(page.locator("#booth-form-title")).to_have_text("Booth A-02")
    expect(page.locator("#booth-form [name=x]")).to_have_value("3")

    page.evaluate("window.reloaded = false")  # gone if the page reloads

    drag(page, a02, 4, 0)
    expect(message).to_contain_text("Booth A-02 is saved")
    assert stored(db, hall.booths["A-02"]).x == 7
    expect(page.locator("#booth-form [name=x]")).to_have_value("7")
    expect(row(page, "A-02")).to_contain_text("7,0 · 3×3")

    handle = page.locator(".booth-handle").bounding_box()
    centre_x, centre_y, unit = handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2, screen_unit(page)
    page.mouse.move(centre_x, centre_y)
    page.mouse.down()
    page.mouse.move(centre_x + unit, centre_y + unit, steps=4)
    page.mouse.up()
    expect(message).to_contain_text("Booth A-02 is saved")
    expect(row(page, "A-02")).to_contain_text("7,0 · 4×4")
    expect(row(page, "A-02")).to_contain_text("16 m²")

    page.locator("#booth-form [name=price]").fill("25000000")
    page.locator("#booth-form [name=power]").check()
    page.locator("#booth-form button[type=submit]").click()
    expect(row(page, "A-02")).to_contain_text("₫25,000,000")
    expect(row(page, "A-02")).to_contain_text("power")

    drag(page, a02, -6, 0)  # onto A-01
    expect(message).to_contain_text("Booth A-02 would overlap booth A-01")
    expect(a02.locator(".booth-box")).to_have_attribute("x", str(7 * 16))
    assert stored(db, hall.booths["A-02"]).x == 7

    page.locator("#booth-new").click()
    form = page.locator("#booth-form")
    for name, value in {"number": "D-01", "zone": "D", "x": "30", "y": "20", "w": "4", "h": "3",
                        "price": "15000000"}.items():
        form.locator(f"[name={name}]").fill(value)
    form.locator("button[type=submit]").click()
    expect(message).to_contain_text("Booth D-01 is saved")
    expect(page.locator("#booth-shapes .booth", has_text="D-01")).to_have_count(1)
    expect(row(page, "D-01")).to_contain_text("30,20 · 4×3")
    expect(row(page, "D-01")).to_contain_text("₫15,000,000")
    numbers = page.locator("#booth-list tbody th").all_text_contents()
    assert numbers == ["A-01", "A-02", "B-01", "C-01", "D-01"]  # in the list's order, by zone

    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#booth-delete").click()
    expect(message).to_contain_text("The booth is deleted.")
    expect(row(page, "D-01")).to_have_count(0)
    assert page.evaluate("window.reloaded") is False  # all of it without a reload
    assert_accessible(page)

    # The form is for a new booth again, without the chosen booth's buttons; the new rows' own buttons work: a
    # saved booth's row can block it.
    expect(page.locator("#booth-form-title")).to_have_text("New booth")
    expect(page.locator("#booth-new")).to_be_hidden()
    expect(page.locator("#booth-delete")).to_be_hidden()
    for name, value in {"number": "E-01", "zone": "E", "x": "40", "y": "30", "w": "2", "h": "2",
                        "price": "5000000"}.items():
        form.locator(f"[name={name}]").fill(value)
    form.locator("button[type=submit]").click()
    row(page, "E-01").get_by_role("button", name="Block E-01").click()
    expect(page.locator(".flashes")).to_contain_text("Booth E-01 is no longer for sale.")
    expect(row(page, "E-01")).to_contain_text("Not for sale")
    assert not [e for e in errors if "Content Security Policy" in e or "Uncaught" in e], errors


def test_the_first_booth_of_an_empty_hall_starts_the_list(page, db, make_user, signed_in):
    organiser = signed_in(Role.ORGANISER, locale="en", email="duc@example.vn")
    hall = create_hall(db, make_user, event=create_event(db, team=(organiser,)), booths=())
    page.goto(f"/manage/events/{hall.event_id}/booths/")
    expect(page.locator("#booth-list-empty")).to_be_visible()
    expect(page.locator("#booth-list")).to_be_hidden()

    form = page.locator("#booth-form")
    for name, value in {"number": "A-01", "zone": "A", "x": "0", "y": "0", "w": "3", "h": "3",
                        "price": "20000000"}.items():
        form.locator(f"[name={name}]").fill(value)
    form.locator("button[type=submit]").click()

    expect(row(page, "A-01")).to_contain_text("₫20,000,000")
    expect(page.locator("#booth-list-empty")).to_be_hidden()
    assert_accessible(page)


# --- the plans at 1280 and 375 px: fitting their frames, one set of colours, booths big enough to tap ----------

STATES = ("available", "held", "reserved", "sold", "blocked")


def hall_in_every_state(app, db, make_user, organiser):
    """TechFest's hall with a booth in each of the five states the plans colour, and a long number on a small
    booth."""
    hall = create_hall(db, make_user, event=create_event(db, team=(organiser,)))
    add_booths(db, hall, [("D-01", "D", 10, 0, 3, 3, 9.0, 20_000_000, False),
                          ("HALL-A-0001", "E", 20, 0, 2, 2, 4.0, 8_000_000, False)])
    exhibitor = make_user(locale="en")
    as_exhibitor(app, db, services.hold_booth, exhibitor, hall.booths["A-02"])
    reserve_booth(db, exhibitor, hall.event_id, number="B-01", price=36_000_000, deposit=36_000_000,
                  booth_id=hall.booths["B-01"])
    sold = reserve_booth(db, exhibitor, hall.event_id, number="C-01", price=70_000_000, deposit=70_000_000,
                         booth_id=hall.booths["C-01"])
    with db.transaction() as s:
        s.get(BoothBooking, sold).status = BookingStatus.SOLD
        s.get(Booth, hall.booths["D-01"]).blocked = True
    return hall


#: each state's fill on the drawing and on the legend's swatch, as the browser computes them
COLOURS = """([plan, shape, states]) => Object.fromEntries(states.map((state) => [state, {
    plan: getComputedStyle(document.querySelector(`${plan} .booth-${state} ${shape}`)).fill,
    legend: getComputedStyle(document.querySelector(`.booth-legend .booth-${state} .booth-shape`)).fill,
}]))"""

#: each booth's box on screen, and whether its number fits inside it
BOOTHS_DRAWN = """([booth, box]) => [...document.querySelectorAll(booth)].map((shape) => {
    const rect = shape.querySelector(box).getBoundingClientRect();
    const label = shape.querySelector("text").getBoundingClientRect();
    return {number: shape.querySelector("text").textContent, width: rect.width, height: rect.height,
            fits: label.left >= rect.left - 0.5 && label.right <= rect.right + 0.5,
            titled: shape.querySelector("title")?.textContent.includes(shape.querySelector("text").textContent)};
})"""

#: the drawing either lies inside its frame or the frame scrolls it; the frame itself stays on the screen
FRAMED = """(frame) => {
    const box = frame.getBoundingClientRect(), plan = frame.querySelector("svg").getBoundingClientRect();
    return {inside: plan.left >= box.left - 1 && plan.right <= box.right + 1,
            scrolls: frame.scrollWidth > frame.clientWidth && getComputedStyle(frame).overflowX === "auto",
            on_screen: box.left >= 0 && box.right <= window.innerWidth,
            page_fits: document.documentElement.scrollWidth <= window.innerWidth};
}"""


@pytest.mark.parametrize("width", [1280, 375])
def test_both_plans_fit_their_frames_share_their_colours_and_have_booths_to_tap(page, app, db, make_user, signed_in,
                                                                                width):
    page.set_viewport_size({"width": width, "height": 800})
    organiser = signed_in(Role.ORGANISER, locale="en", email="duc@example.vn")
    hall = hall_in_every_state(app, db, make_user, organiser)
    page.goto(f"/manage/events/{hall.event_id}/booths/")
    page.screenshot(path=str(SCREENSHOTS / f"booth-editor-{width}.png"), full_page=True)

    framed = page.locator("#booth-plan-frame").evaluate(FRAMED)
    assert framed["inside"] or framed["scrolls"], framed
    assert framed["on_screen"] and framed["page_fits"], framed
    # the buttons for a chosen booth are hidden until a booth is chosen
    expect(page.locator("#booth-new")).to_be_hidden()
    expect(page.locator("#booth-delete")).to_be_hidden()
    booths = page.evaluate(BOOTHS_DRAWN, ["#booth-shapes .booth", ".booth-box"])
    assert len(booths) == 6
    assert all(b["width"] >= 24 and b["height"] >= 24 for b in booths), booths
    assert all(b["fits"] and b["titled"] for b in booths), booths
    editor = page.evaluate(COLOURS, ["#booth-shapes", ".booth-box", STATES])
    assert all(c["plan"] == c["legend"] for c in editor.values()), editor
    assert len({c["plan"] for c in editor.values()}) == 5
    assert_accessible(page)

    page.locator("#booth-shapes .booth", has_text="HALL-A-0001").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#booth-delete")).to_be_visible()
    page.locator("#booth-new").click()
    expect(page.locator("#booth-new")).to_be_hidden()

    page.goto("/events/techfest-hanoi-2026/booths")
    page.screenshot(path=str(SCREENSHOTS / f"booth-plan-{width}.png"), full_page=True)
    framed = page.locator(".booth-plan-scroll").evaluate(FRAMED)
    assert framed["inside"] or framed["scrolls"], framed
    assert framed["on_screen"], framed
    booths = page.evaluate(BOOTHS_DRAWN, [".booth-plan .booth", ".booth-shape"])
    assert len(booths) == 6
    assert all(b["width"] >= 24 and b["height"] >= 24 for b in booths), booths
    assert all(b["fits"] and b["titled"] for b in booths), booths
    public = page.evaluate(COLOURS, [".booth-plan", ".booth-shape", STATES])
    assert public == editor  # the same five colours on both plans and both legends
    assert_accessible(page)


def test_every_broken_rule_shows_at_its_field_at_once_keeping_what_was_typed(page, db, make_user, signed_in):
    organiser = signed_in(Role.ORGANISER, locale="en", email="duc@example.vn")
    hall = create_hall(db, make_user, event=create_event(db, team=(organiser,)))
    page.goto(f"/manage/events/{hall.event_id}/booths/")
    form = page.locator("#booth-form")
    long_zone = "Khu trưng bày công nghệ và đổi mới sáng tạo Hà Nội"
    for name, value in {"number": "a b", "x": "59", "y": "0", "w": "3", "h": "3", "price": "-1"}.items():
        form.locator(f"[name={name}]").fill(value)
    zone = form.locator("[name=zone]")
    zone.focus()
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.evaluate("text => navigator.clipboard.writeText(text)", long_zone)
    page.keyboard.press("Control+V")

    expect(page.locator("#zone-error")).to_have_text(
        "Only the first 40 characters were kept: this field takes no more.")
    expect(zone).to_have_value(long_zone[:40])
    form.locator("button[type=submit]").click()

    expect(page.locator("#editor-message")).to_have_text("Please correct the fields marked below.")
    expect(page.locator("#number-error")).to_contain_text("A booth number has letters and digits")
    expect(page.locator("#x-error")).to_have_text("The booth must lie inside the hall (60 × 40 grid units).")
    expect(page.locator("#price-error")).to_have_text("The price cannot be negative.")
    expect(form.locator("[name=number]")).to_have_value("a b")
    expect(form.locator("[name=price]")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#zone-error")).to_have_count(0)  # 40 characters are fine
    assert_accessible(page)
