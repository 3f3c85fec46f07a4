"""Intakes (đợt học): a province assigns published courses to its learners with a deadline; members added from
CSV; completion reports by agency and course (as CSV and XLSX files: `report_file.py`).

Owns: Intake, IntakeMember (the tables keep their round-1 names). Must not touch: enrollments or completions
(read only).
"""
