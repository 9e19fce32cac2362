"""How the registration's states and kinds are named to organisers (buyers read fuller sentences, see views.py)."""

from flask_babel import lazy_gettext as _l

from portal.events.models import OrderStatus, ProgrammeKind

ORDER_STATUS_LABELS = {
    OrderStatus.AWAITING_APPROVAL: _l("Awaiting approval"),
    OrderStatus.PENDING: _l("Awaiting payment"),
    OrderStatus.PAID: _l("Paid"),
    OrderStatus.EXPIRED: _l("Expired"),
    OrderStatus.CANCELLED: _l("Cancelled"),
    OrderStatus.REFUNDED: _l("Refunded"),
}
PROGRAMME_KIND_LABELS = {
    ProgrammeKind.TALK: _l("Talk"),
    ProgrammeKind.PITCH: _l("Pitch session"),
    ProgrammeKind.THREE_PARTY: _l("Three-party meeting (manager – scientist – business)"),
    ProgrammeKind.WORKSHOP: _l("Workshop"),
    ProgrammeKind.EXHIBITION: _l("Exhibition"),
}
