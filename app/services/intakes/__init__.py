"""Intakes (đợt học): a province assigns published courses to its learners with a deadline; members added from
CSV; completion reports by agency and course.

Owns: Cohort, CohortMember (the tables keep their round-1 names). Must not touch: enrolments or completions
(read only).
"""
