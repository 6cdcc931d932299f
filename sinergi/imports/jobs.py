"""Import jobs in the job runner: one kind, in the write lane."""

from sinergi.core import bulk, jobs

from . import services

jobs.register(services.JOB_KIND, run=services.import_job_work, end=services.import_job_end,
              lane="write", cleanup=bulk.remove_stale_stages)
