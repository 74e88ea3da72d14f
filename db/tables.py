"""Every table module, imported so that SQLModel.metadata knows all tables."""

from db import models

__all__ = ["models"]
