"""Importing this module registers every background job handler with the runner (app.core.jobs)."""

from app.services import certificates  # noqa: F401  (issue_certificate)
from app.services.packages import importer  # noqa: F401  (import_package)
from app.services.video import transcode  # noqa: F401  (transcode_video)
