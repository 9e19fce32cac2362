"""Issue 15 item 6: every export button downloads again and again. The page stays after a download, so the
buttons portal.js disables against double submits must come back (data-download)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from portal.accounts.models import Role
from tests.browser.steps import log_in, translated
from tests.support.a11y import assert_accessible
from tests.support.booths import create_hall
from tests.support.ticketing import add_ticket, create_event

pytestmark = pytest.mark.browser


def download_twice(page: Page, button_name: str) -> list[str]:
    """Clicks the button, waits for its file, then does it again: the files' names."""
    names = []
    for _ in range(2):
        button = page.get_by_role("button", name=button_name, exact=True)
        expect(button).to_be_enabled()
        with page.expect_download() as download:
            button.click()
        names.append(download.value.suggested_filename)
    return names


def test_the_event_exports_download_twice_in_a_row(page, app, db, make_user):
    def vi(message: str) -> str:
        return translated(app, message, "vi")

    organiser = make_user(Role.ORGANISER, email="btc@example.vn")
    event = create_event(db, team=(organiser,))
    add_ticket(db, event, make_user(email="buyer@example.vn"), name="Nguyễn Văn An")
    create_hall(db, make_user, event=event)
    log_in(page, organiser.email)

    page.goto(f"/manage/events/{event.id}/attendees")
    assert_accessible(page)
    for label, extension in (("Export to CSV", ".csv"), ("Export to Excel (XLSX)", ".xlsx")):
        names = download_twice(page, vi(label))
        assert [name.startswith(f"{event.slug}-attendees") and name.endswith(extension) for name in names] == [
            True, True], names
    expect(page.get_by_role("button", name=vi("Export to CSV"), exact=True)).to_be_enabled()

    page.goto(f"/manage/events/{event.id}/finance")
    for label in ("Export payments (CSV)", "Export payments (Excel, XLSX)"):
        assert len(download_twice(page, vi(label))) == 2

    page.goto(f"/manage/events/{event.id}/booths/report")
    assert_accessible(page)
    for label in ("Download CSV", "Download Excel (XLSX)"):
        assert len(download_twice(page, vi(label))) == 2


def test_the_incubation_figures_download_twice_in_a_row(page, app, make_user):
    manager = make_user(Role.INCUBATOR_MANAGER, email="vuonuom@example.vn")
    log_in(page, manager.email)
    page.goto("/incubator/dashboard")
    assert_accessible(page)
    for label in ("Download the figures (Excel)", "Download the figures (CSV)"):
        assert len(download_twice(page, translated(app, label, "vi"))) == 2
