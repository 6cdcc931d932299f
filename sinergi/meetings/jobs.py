"""Rakor brief PDFs in the job runner, in a lane of their own (they only read
and write a file, so they never wait behind an import)."""

from sinergi.core import jobs

from . import briefs

jobs.register(briefs.JOB_KIND, run=briefs.brief_job_work, end=briefs.brief_job_end,
              lane="pdf")
