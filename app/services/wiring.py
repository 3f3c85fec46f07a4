"""Importing this module registers every background job handler with the runner (`app.services.jobs`) and every
cross-domain reaction (`app.services.reactions`). The API, the worker and the CLI import it once."""

from app.services import reactions  # noqa: F401  (learner renamed → certificates, feed items)
from app.services.certificates import issuing  # noqa: F401  (job issue_certificate)
from app.services.content.packages import importer  # noqa: F401  (job import_package)
