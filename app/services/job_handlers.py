"""Importing this module registers every background job handler with the runner (app.core.jobs)."""
