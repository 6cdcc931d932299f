"""Recounts of computed indicators in the job runner, and the daily one
(ages move with the date)."""

from sinergi.core import jobs

from . import services

jobs.register(services.JOB_KIND, run=services.recompute_work, lane="write")
jobs.periodic(600)(services.request_daily_recompute)
