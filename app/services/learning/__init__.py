"""Learning: enrollment, earned progress (video heartbeats merged into watched intervals, the 2x wall-clock cap,
document views, offline batches, the group-committed heartbeat batcher) and housekeeping of event ids.

Owns: Enrollment, LessonProgress, ProgressEvent. Decides video credit (`progress.py`, `intervals.py`). Must not
touch: Completion rows or counters — a met requirement asks completion (`complete_if_met`) to decide.
"""
