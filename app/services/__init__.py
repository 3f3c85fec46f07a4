"""Business logic, one package per domain, named in the users' words. No FastAPI here: services take a session,
raise domain errors (`app.core.errors`) and `flush`; the request or job boundary commits (docs/architecture.md).

Domains, lowest first (a package imports only from those above it, never from one below, never a sibling's
private `_helper`):

    jobs           the background job runner: jobs are rows, claimed by a worker, their end recorded
    geo            provincial units and the roll-up of former codes (cross-domain reference data)
    counters       the national counters: day/year buckets and the yearly targets (programmes)
    scorm          SCORM manifests, the CMI data model, runtime attempts and sessions, launching, package files
    video          HLS renditions of source videos (transcode job), signed playlists, WebVTT checks
    content        course packages (import, validation, media) and the catalogue learners browse
    certificates   issuing, PDFs, serials, Open Badges credentials, verification
    identity       accounts, sign-in, citizen identity numbers
    completion     completion rules and recording, partner completions, completion-feed lines
    intakes        đợt học: courses assigned by a province, members, reports
    units          agencies and communes below the provinces, yearly headcounts, completion rates and rankings
    learning       enrollment, earned progress (heartbeats), housekeeping
    quizzes        quiz attempts and grading
    contests       contests (cuộc thi): entering, taking within the window, leaderboards frozen at the close
    stats          national and provincial figures and the completion feed, read for ministry systems

Cross-domain modules, above every domain (they may import any; none imports them): `reactions` (every reaction
of one domain to another's change), `wiring` (registers job handlers and reactions).
"""
