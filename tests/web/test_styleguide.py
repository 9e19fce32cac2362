"""/styleguide is for admins only and shows every component of the design system; every management page carries
its area's section menu, with the page it is on marked."""

from __future__ import annotations

import re

import pytest
from flask import url_for
from sqlalchemy import select

from portal.accounts.models import Role
from portal.demo import load_demo
from portal.events.models import Event
from portal.incubation.models import Call
from portal.navigation import SECTIONS
from tests.web.test_permissions import section_menu_links

NBSP = "\u00a0"


def test_only_admins_open_the_style_guide(client, login_as):
    assert client.get("/styleguide").location.startswith("/login?next=")
    for role in Role:
        response = login_as(role, locale="en").get("/styleguide")
        assert response.status_code == (200 if role is Role.ADMIN else 403), role


def test_the_style_guide_shows_every_component_with_long_vietnamese_text_and_ten_digit_amounts(login_as):
    page = login_as(Role.ADMIN).get("/styleguide").get_data(as_text=True)
    assert f'<span class="stat-value">2.147.483.647{NBSP}₫</span>' in page
    assert 'class="button button-secondary"' in page and 'class="button button-danger"' in page
    assert 'class="link-button"' in page
    assert page.count('class="field-error"') >= 4, "the sample form shows its fields' errors"
    assert 'aria-invalid="true"' in page
    assert re.search(r'<div class="table-wrap" role="region"[^>]*tabindex="0"><table', page)
    assert "Vé tham dự trọn ba ngày hội chợ công nghệ và đổi mới sáng tạo" in page
    assert all(f'class="badge badge-{tone}"' in page for tone in ("ok", "pending", "danger", "muted"))
    assert page.count('<nav class="section-menu"') == 2, "the page's own tabs and the sample"
    assert '<svg role="img" aria-labelledby="sg-bar-chart-title"' in page and 'id="sg-bar-chart-table"' in page
    assert 'class="empty-state"' in page and 'class="empty"' in page
    assert all(f'class="flash flash-{kind}"' in page for kind in ("success", "info", "warning", "error"))
    assert '<nav class="pagination"' in page


@pytest.fixture
def demo(app, db):
    load_demo(app)
    with db.session_factory() as s:
        return (s.scalars(select(Event.id).order_by(Event.id)).first(),
                s.scalars(select(Call.id).order_by(Call.id)).first())


def test_every_management_page_has_its_section_menu_with_itself_marked(app, login_as, demo):
    event_id, call_id = demo
    values = {"event": {"event_id": event_id}, "call": {"call_id": call_id}}
    admin = login_as(Role.ADMIN)
    with app.test_request_context():
        pages = {key: [url_for(page.endpoint, **values.get(key, {}))
                       for group in section.groups for page in group.pages]
                 for key, section in SECTIONS.items()}
        pages["event"] += [url_for("manage.ticket_types_new", event_id=event_id)]
    for key, paths in pages.items():
        for path in paths:
            response = admin.get(path)
            assert response.status_code == 200, path
            menu = re.search(r'<nav class="section-menu".*?</nav>', response.get_data(as_text=True), re.S)
            assert menu, path
            current = re.findall(r'<a href="([^"]*)" aria-current="page"', menu.group(0))
            expected = path.replace("/new", "/") if path.endswith("/new") else path
            assert current == [expected], (key, path, current)
            assert section_menu_links(response), path
