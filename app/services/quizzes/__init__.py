"""Quizzes: attempts drawn and shuffled once, autosaved, timed, graded on the server; grading of every
question kind (Moodle's rules), the attempt layout, and what a learner sees of a question before and after
submitting (texts rendered safely, images signed for enrolled learners).

Owns: QuizAttempt. Reads questions, choices and assets imported by content. Must not touch: completions
directly — a passed quiz asks completion (`complete_if_met`) to decide.
"""
