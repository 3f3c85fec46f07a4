"""National counters: per-day and per-year buckets incremented in the completion's transaction, the yearly targets
(programmes), and `verify`/`rebuild` from the immutable completions.

Owns: CompletionCounter, CompletionYearCounter, LearnerCounter, Programme. Must not touch: anything else — every
other domain reads or increments counters through this package.
"""
