"""What the events domain announces to whoever cares, so the code that changes orders never calls its listeners.

A signal is sent in the transaction that made the change; receivers act in that same transaction (blinker calls
them at once), so what they do commits or rolls back with it.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: Seats of an event may have become free for someone on its waiting list: an order or ticket cancelled (by its
#: buyer or the organisers, a refused application among them), refunded or expired, an offer that lapsed or was
#: withdrawn, a quota or a sale changed. Sent once per change with the Event as sender and `session=`, `now=`.
seats_freed = _signals.signal("seats-freed")
