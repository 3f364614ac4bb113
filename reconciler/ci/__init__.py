"""``reconciler ci``: what a CI job runs, with the files and the markdown it posts.

- ``jobs``: ``plan`` (a pull request's saved plan and comment), ``apply`` (the reviewed plan,
  exactly, once merged), ``drift`` (the nightly check), each on one config, returning a
  ``JobResult`` with its ``Exit`` code;
- ``names``: per config, the marker line of its comment or issue and the directory of its
  files, so several configs never mix;
- ``report``: the markdown of errors and reports around the plan;
- ``github``: the job summary, step outputs and run URL of GitHub Actions.

``OUTPUTS`` are the step outputs ``reconciler ci`` sets on GitHub (``action.yml`` maps them);
the action's own step adds ``exitcode``.
"""

from __future__ import annotations

from reconciler.ci.github import GitHubRun
from reconciler.ci.jobs import (
    Exit,
    Job,
    JobResult,
    apply,
    combined,
    drift,
    links_page,
    missing_api_key,
    plan,
)
from reconciler.ci.names import directory_name, directory_names, marker

#: The step outputs ``reconciler ci`` sets when ``$GITHUB_OUTPUT`` is there: whether any
#: config has changes, and the saved plans, the reports and (apply) the pages of links (one
#: path a line, one per config).
OUTPUTS = ("has-changes", "plan-file", "comment-file", "links-page")

__all__ = [
    "OUTPUTS",
    "Exit",
    "GitHubRun",
    "Job",
    "JobResult",
    "apply",
    "combined",
    "directory_name",
    "directory_names",
    "drift",
    "links_page",
    "marker",
    "missing_api_key",
    "plan",
]
