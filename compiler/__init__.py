"""rtc, the runtime catalog compiler: Jsonnet catalog -> validated, deterministic YAML."""

__version__ = "0.1.0"
