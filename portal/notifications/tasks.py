from portal.notifications.scheduler import register_job, still_leading
from portal.notifications.services import deliver_outbox


def deliver_outbox_while_leading(app) -> dict[str, int]:
    return deliver_outbox(app, keep_going=still_leading)


register_job("deliver_outbox", deliver_outbox_while_leading, every_seconds=5)
