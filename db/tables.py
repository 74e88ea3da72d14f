"""Every table module, imported so that SQLModel.metadata knows all tables."""

from db import models, models_delivery, models_service

__all__ = ["models", "models_delivery", "models_service"]
