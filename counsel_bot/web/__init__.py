"""The team-lead web endpoint: Prometheus /metrics and the /dashboard page (aiohttp adapter)."""

from counsel_bot.web.app import COOKIE, build_web_app, start_web
from counsel_bot.web.auth import (
    AuthUnavailableError,
    MatrixPasswordAuth,
    TeamLeadAuth,
    looks_like_user_id,
)
from counsel_bot.web.router_source import CrisisDetail, RouterDashboardSource
from counsel_bot.web.settings import WebSettings, WebSettingsError
from counsel_bot.web.snapshot import (
    CrisisEntry,
    DashboardDataError,
    DashboardSnapshot,
    DashboardSource,
    QueueEntry,
    StaffEntry,
    snapshot_to_json,
)

__all__ = [
    "COOKIE",
    "AuthUnavailableError",
    "CrisisDetail",
    "CrisisEntry",
    "DashboardDataError",
    "DashboardSnapshot",
    "DashboardSource",
    "MatrixPasswordAuth",
    "QueueEntry",
    "RouterDashboardSource",
    "StaffEntry",
    "TeamLeadAuth",
    "WebSettings",
    "WebSettingsError",
    "build_web_app",
    "looks_like_user_id",
    "snapshot_to_json",
    "start_web",
]
