"""Contests ("cuộc thi"): a quiz taken within a window by the learners who entered, ranked by best score, then
shortest time, then earliest submission, with leaderboards of people and of units frozen at the close.

Owns `contest`, `contest_entry`, `contest_attempt`. Reads quizzes (questions, choices; grading through
`quizzes.attempts.grade_question`) and units (an entrant's unit, headcounts) but never writes them; a contest
attempt is not a course's quiz attempt, so it neither uses up the course's attempts nor completes a lesson.
"""
