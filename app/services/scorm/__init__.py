"""SCORM 1.2 and 2004 courses: reading `imsmanifest.xml`, the CMI data model a SCO reports through, the runtime
state kept per learner (attempts, sessions, interactions, objectives), launching a SCO and serving its files.

Owns: `models/scorm.py` rows and the rules of the SCORM run-time (validation of each `cmi.*` element against its
version's data model, the statuses the LMS recomputes, idempotent commits, session time added to the total).
Must not touch: completion counting (it marks the lesson's progress complete and calls the completion domain's
public `complete_if_met`), course versions (the content importer writes the lesson rows and calls `package_plan`).
Pure modules (`xml_tree`, `manifest`, `data_model`, `status`) do no I/O beyond reading the unpacked package.
"""
