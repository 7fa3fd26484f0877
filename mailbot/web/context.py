"""What every request of the web app shares: settings, database, the bot's parts that
actions need, the session policy and the clock (replaceable in tests)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine

from mailbot.config import Settings
from mailbot.handling.record import Handling
from mailbot.staff.sign_in import SessionPolicy
from mailbot.store.models import bind_sealer, utcnow


@dataclass
class WebContext:
    settings: Settings
    engine: Engine
    handling: Handling
    policy: SessionPolicy = field(default_factory=SessionPolicy)
    clock: Callable[[], datetime] = utcnow
    secure_cookies: bool = True  # off only for plain-HTTP tests outside a browser

    def __post_init__(self) -> None:
        bind_sealer(self.engine, self.handling.sealer)  # names and letters are sealed
