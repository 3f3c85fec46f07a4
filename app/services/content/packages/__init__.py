"""Course packages: a zip with `course.yaml`, media, documents and GIFT quizzes, imported as a new version.

- `archive`: refuses unsafe zips, then unpacks member by member in chunks (never into memory).
- `manifest`: reads `course.yaml` with line numbers, checks every field, file and quiz.
- `gift`: the GIFT quiz subset; `media`: video durations (mutagen for MP4, a small EBML reader for WebM).
- `importer`: the `import_package` job (unpacking → validating → storing → publishing), all-or-nothing.
- `versions`: publishing and archiving versions; `uploads`: streaming multipart bodies into storage.
"""
