"""Completion: what completing a course takes (rules), recording a completion exactly once with its counters and
certificate job in the same transaction, partner completions, and each completion's completion-feed line.

Owns: Completion, FeedCompletion. Decides course completion (`rules.py`, `completions.py`). Must not touch:
certificates other than by enqueuing the job kind `issue_certificate`.
"""
