"""Quizzes: attempts (drawn, autosaved, timed), grading of every question type, and what a learner sees of a
question before and after submitting. Must not touch course content rows (written by content imports) beyond
reading them, nor another domain's private helpers."""
