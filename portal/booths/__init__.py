"""Exhibition booths (issue 5): floor plans, booths, holds that expire, bookings without double booking, badges.

models.py (tables), services.py (the state machine and every change of a booth), plan.py (what pages read),
setup.py (the organisers' editor), badges.py, uploads.py (logos and drawings), tasks.py (the minute sweep),
demo.py (TechFest's hall), labels.py (names of states)."""
