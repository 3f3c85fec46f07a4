"""Content: course packages (archive safety, manifest, validation, media, import jobs, versions) and the catalogue
learners browse (published versions, search, outlines, lessons).

Owns: Course, CourseVersion, Module, Lesson, Asset, ImportJob, quizzes as imported. Must not touch: enrollments,
progress, completions — learners' state belongs to learning and completion.
"""
