from portal.notifications.scheduler import register_job
from portal.reminders.planner import send_reminders

# often enough for a late window of one minute (a booth hold's reminder)
register_job("send_reminders", send_reminders, every_seconds=30)
