"""The disaster-recovery drill (`ci/dr-drill`): back up the five databases
while orders and receipts flow, lose the system, restore the backups into new
databases, run the services on the copies, and check that nothing drifted and
that a retried request takes effect once."""
