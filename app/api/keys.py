"""Typed aiohttp application state."""

import datetime as dt

from aiohttp import web

from app.api.auth import TokenRegistry
from app.api.gates import ApiLimits
from app.api.readers import OrderReader, StockReader
from app.commands import CommandProducer
from app.metrics import Metrics
from app.readiness import Readiness

APP_ID = web.AppKey("app_id", str)
TOKENS = web.AppKey("tokens", TokenRegistry)
METRICS = web.AppKey("metrics", Metrics)
READINESS = web.AppKey("readiness", Readiness)
STOCK = web.AppKey("stock", StockReader)
ORDERS = web.AppKey("orders", OrderReader)
COMMANDS = web.AppKey("commands", CommandProducer)
LIMITS = web.AppKey("limits", ApiLimits)
ZONE = web.AppKey("zone", dt.tzinfo)  # where "today" is for promise dates
