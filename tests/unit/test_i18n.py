from datetime import UTC, datetime

from flask_babel import force_locale

from portal.i18n import format_local_datetime, format_vnd


def test_money_is_integer_dong_written_as_people_read_it(app):
    with app.test_request_context(), force_locale("vi"):
        assert format_vnd(1_500_000) == "1.500.000\xa0₫"
        assert format_vnd(0) == "0\xa0₫"
    with app.test_request_context(), force_locale("en"):
        assert format_vnd(1_500_000) == "₫1,500,000"


def test_times_are_stored_in_utc_and_shown_in_hanoi(app):
    # 17:30 UTC on 31 December is already 00:30 on 1 January in Hanoi (UTC+7)
    moment = datetime(2026, 12, 31, 17, 30, tzinfo=UTC)
    with app.test_request_context(), force_locale("en"):
        shown = format_local_datetime(moment, "short")
    assert "1/1/27" in shown and "12:30" in shown
