"""How booth states and booking statuses are named on plans, lists, exports and mail."""

from flask_babel import lazy_gettext as _l

from portal.booths.models import BookingStatus, BoothState

BOOTH_STATE_LABELS = {
    BoothState.AVAILABLE: _l("Available"),
    BoothState.HELD: _l("Held"),
    BoothState.AWAITING_APPROVAL: _l("Reserved: awaiting approval"),
    BoothState.AWAITING_PAYMENT: _l("Reserved: awaiting payment"),
    BoothState.SOLD: _l("Sold"),
    BoothState.BLOCKED: _l("Not for sale"),
}
#: the plan's legend: the five colours exhibitors see (see BoothState.shown)
LEGEND_LABELS = {
    "available": _l("Available"),
    "held": _l("Held"),
    "reserved": _l("Reserved"),
    "sold": _l("Sold"),
    "blocked": _l("Not for sale"),
}
BOOKING_STATUS_LABELS = {
    BookingStatus.HELD: _l("Held"),
    BookingStatus.AWAITING_APPROVAL: _l("Awaiting approval"),
    BookingStatus.AWAITING_PAYMENT: _l("Awaiting payment"),
    BookingStatus.SOLD: _l("Sold"),
    BookingStatus.RELEASED: _l("Released"),
    BookingStatus.EXPIRED: _l("Hold expired"),
    BookingStatus.REJECTED: _l("Rejected"),
    BookingStatus.LAPSED: _l("Not paid in time"),
    BookingStatus.CANCELLED: _l("Cancelled"),
    BookingStatus.WITHDRAWN: _l("Withdrawn by the exhibitor"),
}
