"""Video for weak mobile networks: the HLS ladder of each source video, its transcoding job, the playlists
learners' players read (every segment URL signed), the small offline MP4, and WebVTT caption checks.

Owns `video_encoding` and `lesson_caption` (app/models/video.py). Reads lessons, assets and enrollments but
never changes them, and never touches progress: heartbeats credit media time whatever rendition plays.
Imports only models and core; content (the importer, the lesson answer) calls into this package.
"""
