"""Units below the provinces (agencies and communes), their yearly headcounts, and completion rates and rankings.

Owns `org_unit`, `headcount_version`, `unit_headcount` and the `unit_id` an official carries from
verification. Reads completions only through the yearly learner marks (`learner_year`), never the completion
rows, and never writes them. Must not touch intakes, counters or identity beyond attaching an official to a
unit (`identity.verify_official` stays the one place that verifies).
"""
