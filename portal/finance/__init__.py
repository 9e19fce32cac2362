"""An event's money: what sits above both events (ticket orders) and booths (bookings) and payments, which know
nothing of either: the organisers' finance page, its export and refunds, receipts of orders, the scheduled
reminders and expiry of unpaid orders' payments, and the demo transfers that reconciliation pays."""
