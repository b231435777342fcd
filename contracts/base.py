"""Base of every published model: frozen, and tolerant of fields added later."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Contract(BaseModel):
    """Frozen; unknown fields are ignored so that additive changes never break a consumer."""

    model_config = ConfigDict(frozen=True, extra="ignore")
