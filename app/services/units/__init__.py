"""Units below the provinces (agencies and communes), their yearly headcounts, and completion rates and rankings.

Owns `org_unit`, `headcount_version`, `unit_headcount` and `unit_official` (the unit an official is counted
under, set at verification). Reads completions only through the yearly learner marks (`learner_year`), never
the completion rows, and never writes them. Must not touch intakes, counters or identity beyond attaching an
official to a unit (`identity.accounts.verify_official` stays the one place that verifies).
"""
