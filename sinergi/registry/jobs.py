"""Large persons exports in the job runner, in a lane of their own (they read
and write a file, so they do not queue behind an import; on SQLite their few
small writes may still wait for an import's lock, up to the busy timeout).
Their files (full NIKs) are deleted a day after they are written, and the
files of a job stopped before it recorded its file an hour after, by a sweep
every ten minutes."""

from sinergi.core import jobs

from . import services

jobs.register(services.EXPORT_JOB_KIND, run=services.export_job_work,
              end=services.export_job_end, lane="export")
jobs.periodic(600)(services.export_files_cleanup)
