"""Every table module, imported so that SQLModel.metadata knows all tables."""

from db import lgsco_state, models, models_delivery, models_service

__all__ = ["lgsco_state", "models", "models_delivery", "models_service"]
