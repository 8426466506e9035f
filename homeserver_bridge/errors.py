"""Errors of the homeserver bridge. Each message says what to do next."""


class BridgeError(Exception):
    """Base of every error the bridge raises on purpose."""


class SynapseStartError(BridgeError):
    """The embedded Synapse did not become ready."""


class AdminApiError(BridgeError):
    """The Synapse admin API refused or failed a request."""

    def __init__(self, message: str, *, status: int = 0, errcode: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.errcode = errcode


class DataDirError(BridgeError):
    """The data directory cannot be used."""


class UserInUse(AdminApiError):
    """The user id is taken."""


class NotFound(AdminApiError):
    """The user, room or token does not exist."""


class RateLimited(AdminApiError):
    """Synapse asks us to slow down."""


# Matrix errcode -> our exception class, so callers catch meaning, not strings.
ERRCODE_CLASSES: dict[str, type[AdminApiError]] = {
    "M_USER_IN_USE": UserInUse,
    "M_NOT_FOUND": NotFound,
    "M_LIMIT_EXCEEDED": RateLimited,
}
