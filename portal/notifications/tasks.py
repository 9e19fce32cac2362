from portal.notifications.scheduler import register_job
from portal.notifications.services import deliver_outbox

register_job("deliver_outbox", deliver_outbox, every_seconds=5)
