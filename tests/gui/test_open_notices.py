"""Opening a project in the window says which runs were killed since it was last open."""

from __future__ import annotations

import subprocess
import sys

from curator.core.catalog import Catalog
from curator.core.catalog.models import Job
from curator.core.processes import process_identity


def test_a_job_whose_process_died_is_interrupted_and_said_on_open(make_window, filled_project):
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead = process_identity(int(gone.stdout))  # a real process that has ended
    catalog = Catalog.for_project(filled_project.root)
    job_id = catalog.start_job("analyze", {"paths": []})
    with catalog.session() as s:
        job = s.get(Job, job_id)
        job.params = {**job.params, "process": {**dead, "start": None}}
    catalog.close()

    window = make_window(filled_project)
    assert f"analyze job {job_id} was interrupted" in window.statusBar().currentMessage()
    assert filled_project.catalog.get_job(job_id).status == "interrupted"
