"""SCORM 1.2 and 2004 courses: reading `imsmanifest.xml`, the CMI data model a SCO reports through, the runtime
state kept per learner (attempts, sessions, interactions, objectives), launching a SCO and serving its files.

Owns: `models/scorm.py` rows and the rules of the SCORM run-time (validation of each `cmi.*` element against its
version's data model, the statuses the LMS recomputes, idempotent commits, session time added to the total).
Must not touch: completion counting (it completes the lesson's progress row and announces `LESSON_MET`; the
completion domain reacts, app/services/reactions.py), course versions (the content importer reads manifests with
`manifest.read_manifest` and writes the lesson and SCO rows). Imports no other service domain.
Pure modules (`xml_tree`, `manifest`, `data_model`, `status`) do no I/O beyond reading the unpacked package.
"""
