"""Lint rules, one module per family; importing this package registers them all.

suppressions  RTC0xx  lint exceptions in the catalog
metadata      RTC1xx  platform labels and annotations, server-populated fields
images        RTC2xx  pinned images, allowed registries
probes        RTC3xx  startup probes, ports
placeholders  RTC4xx  KServe's {{ }} placeholders
formats       RTC5xx  model formats and runtime selection
containers    RTC6xx  serving container, security, /dev/shm, credentials
scripts       RTC7xx  shellcheck on startup scripts
services      RTC8xx  InferenceServices against their runtimes
"""

from compiler.rules import (  # noqa: F401  (registration happens on import)
    containers,
    formats,
    images,
    metadata,
    placeholders,
    probes,
    scripts,
    services,
    suppressions,
)
from compiler.rules.registry import RULES, Finding, LintContext, LintOptions, Rule, Subject, rule

__all__ = ["RULES", "Finding", "LintContext", "LintOptions", "Rule", "Subject", "rule"]
