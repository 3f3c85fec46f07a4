"""Quizzes: attempts drawn and shuffled once, autosaved, timed, graded on the server.

Owns: QuizAttempt. Reads questions and choices imported by content. Must not touch: completions directly — a
passed quiz asks completion (`complete_if_met`) to decide.
"""
