"""councilwatch: the composition root (config, CLI, service, web)."""

__version__ = "0.1.0"
