"""Reads about points shared by views, admin, API and tasks, one module per area:
program (settings, earning rules), ledger (balances, statement entries),
statement (the entries' text), invariants (verify_ledger's checks), catalog
(rewards, vouchers), tiers, stamps, memberships and partners (settlement).
Import from the area module."""
