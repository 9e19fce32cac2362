"""Reminders from rules: organisers and managers set, per event, call or programme, what is reminded, to whom, how
long before or after its moment, in which words and whether it is on (models.ReminderRule); the planner turns the
rules into reminders as they fall due, one row each with a key unique in the database (planner.py), and the outbox
sends them.

This package knows nothing of events or mentoring: each domain registers its reminder kinds (kinds.ReminderKind)
at import, with the query that finds its targets, recipients and moments, and the placeholders its templates use."""
