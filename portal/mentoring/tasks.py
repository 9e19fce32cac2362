"""Mentoring's scheduled job: run the cohort matchings managers queued."""

from portal.mentoring.runs import run_queued
from portal.notifications.scheduler import register_job

register_job("run_mentor_matchings", run_queued, every_seconds=2)
