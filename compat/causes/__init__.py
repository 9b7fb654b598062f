"""Causes: the changes in the new code behind the findings, one cause per change someone can feel.

Every layer sees the same change its own way: when `create_run_for_job` stops dispatching
through `self.create_run`, the hook rules flag the method, the profile checks flag each subclass
overriding `create_run`, hundreds of behaviour cells show the dispatch missing, and stored fuzz
programs return other tags. A reviewer wants one thing: *overrides of `create_run` are ignored,
here is the method that changed, here is who breaks*. :func:`build_causes` attaches every
finding to exactly one :class:`Cause`; the reports lead with causes and show findings as their
evidence.

A cause names the new code that introduced it first (for a lost dispatch: the method whose own
body changed, not the untouched callers that reach it; those are listed under it), who breaks
(base callers, corpus subclasses, real downstream subclasses from the profiles), the evidence
per layer, the smallest reproduction there is, and a fix hint for the person who made the change.

Where each piece lives: the cause as data (:mod:`compat.causes.cause`), how findings are
grouped into causes (:mod:`compat.causes.grouping`), the severity policy
(:mod:`compat.causes.policy`) and the verdict line every report leads with
(:mod:`compat.causes.verdict_line`). The names callers use are importable from here.
"""

from __future__ import annotations

from compat.causes.cause import Cause
from compat.causes.grouping import build_causes, cause_order, effective_severities, policy_severity
from compat.causes.policy import worst
from compat.causes.verdict_line import counts, verdict, verdict_word

__all__ = ["Cause", "build_causes", "cause_order", "effective_severities", "policy_severity", "verdict", "verdict_word", "counts",
           "worst"]
