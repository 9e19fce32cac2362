"""Imports every domain's models, so Base.metadata describes the whole schema (Alembic, tests)."""

from portal.accounts import models as accounts  # noqa: F401
from portal.audit import models as audit  # noqa: F401
from portal.booths import models as booths  # noqa: F401
from portal.db import Base
from portal.events import models as events  # noqa: F401
from portal.incubation import models as incubation  # noqa: F401
from portal.mentoring import models as mentoring  # noqa: F401
from portal.notifications import models as notifications  # noqa: F401
from portal.payments import models as payments  # noqa: F401
from portal.reminders import models as reminders  # noqa: F401

metadata = Base.metadata
