"""The errors of the Flinks client::

    FlinksError                 base; every message is one line with no secret and no token
     +-- FlinksAuthError        the token endpoint refused the credentials (400/401/403)
     +-- FlinksUnavailable      network error, timeout, 429 or 5xx once the retries ran out
     +-- FlinksRequestError     another 4xx (the listing after one token renewal, a wrong URL)
     +-- FlinksBadAnswer        the body is not what the API documents (not a JSON array, ...)

Each has a `kind`: the failure_kind of the cycle it ends (logs, metrics, poll_runs).
"""

from __future__ import annotations


class FlinksError(Exception):
    """Base of every error of this module."""

    kind = "flinks"  # the failure_kind of a cycle (logs, metrics, poll_runs)


class FlinksAuthError(FlinksError):
    """The token endpoint refused the credentials."""

    kind = "flinks_auth"  # the failure_kind of a cycle (logs, metrics, poll_runs)


class FlinksUnavailable(FlinksError):
    """Flinks could not be reached or kept failing transiently."""

    kind = "flinks_unavailable"  # the failure_kind of a cycle (logs, metrics, poll_runs)


class FlinksRequestError(FlinksError):
    """Flinks refused the request for a reason a retry will not fix."""

    kind = "flinks_request"  # the failure_kind of a cycle (logs, metrics, poll_runs)


class FlinksBadAnswer(FlinksError):
    """The body is not what the API documents."""

    kind = "flinks_bad_answer"  # the failure_kind of a cycle (logs, metrics, poll_runs)
