"""Large persons exports in the job runner, in a lane of their own (they only
read and write a file, so they never wait behind an import)."""

from sinergi.core import jobs

from . import services

jobs.register(services.EXPORT_JOB_KIND, run=services.export_job_work,
              end=services.export_job_end, lane="export")
