"""The typed event that every Nagios log line becomes."""

from __future__ import annotations

from typing import NamedTuple


class Event(NamedTuple):
    """One line of a Nagios event log.

    Fields a line does not carry are empty strings (``attempt`` is ``None``),
    so every event has the same columns whatever its kind.
    """

    time: int | None  # epoch seconds from the line's [brackets]; None when unparsed
    kind: str  # one of KINDS
    host: str = ""
    service: str = ""
    state: str = ""  # OK/WARNING/..., UP/DOWN/..., STARTED/STOPPED/... for flapping/downtime
    state_type: str = ""  # SOFT/HARD for alerts; PROBLEM/RECOVERY/ACKNOWLEDGEMENT/... for notifications
    attempt: int | None = None
    contact: str = ""  # notifications: who was told
    command: str = ""  # notification command, event handler, external command name
    output: str = ""  # plugin output (text before `|`), or the message of other lines
    author: str = ""  # acknowledgements and custom notifications
    comment: str = ""


SERVICE_ALERT = "service_alert"
HOST_ALERT = "host_alert"
SERVICE_NOTIFICATION = "service_notification"
HOST_NOTIFICATION = "host_notification"
SERVICE_FLAPPING = "service_flapping"
HOST_FLAPPING = "host_flapping"
SERVICE_DOWNTIME = "service_downtime"
HOST_DOWNTIME = "host_downtime"
CURRENT_SERVICE_STATE = "current_service_state"
CURRENT_HOST_STATE = "current_host_state"
INITIAL_SERVICE_STATE = "initial_service_state"
INITIAL_HOST_STATE = "initial_host_state"
EXTERNAL_COMMAND = "external_command"
SERVICE_EVENT_HANDLER = "service_event_handler"
HOST_EVENT_HANDLER = "host_event_handler"
PASSIVE_SERVICE_CHECK = "passive_service_check"
PASSIVE_HOST_CHECK = "passive_host_check"
LOG_ROTATION = "log_rotation"
LOG_VERSION = "log_version"
TIMEPERIOD_TRANSITION = "timeperiod_transition"
WARNING = "warning"
ERROR = "error"
PROGRAM = "program"  # Nagios' own messages: start-up, shutdown, wproc:, qh:, unknown TYPE:
UNPARSED = "unparsed"  # no [epoch] prefix, or a known TYPE with fields that do not fit

KINDS = (
    SERVICE_ALERT,
    HOST_ALERT,
    SERVICE_NOTIFICATION,
    HOST_NOTIFICATION,
    SERVICE_FLAPPING,
    HOST_FLAPPING,
    SERVICE_DOWNTIME,
    HOST_DOWNTIME,
    CURRENT_SERVICE_STATE,
    CURRENT_HOST_STATE,
    INITIAL_SERVICE_STATE,
    INITIAL_HOST_STATE,
    EXTERNAL_COMMAND,
    SERVICE_EVENT_HANDLER,
    HOST_EVENT_HANDLER,
    PASSIVE_SERVICE_CHECK,
    PASSIVE_HOST_CHECK,
    LOG_ROTATION,
    LOG_VERSION,
    TIMEPERIOD_TRANSITION,
    WARNING,
    ERROR,
    PROGRAM,
    UNPARSED,
)

# State snapshots written after every start and rotation: never alerts.
SNAPSHOT_KINDS = frozenset(
    {
        CURRENT_SERVICE_STATE,
        CURRENT_HOST_STATE,
        INITIAL_SERVICE_STATE,
        INITIAL_HOST_STATE,
    }
)

SERVICE_STATES = ("OK", "WARNING", "CRITICAL", "UNKNOWN")
HOST_STATES = ("UP", "DOWN", "UNREACHABLE")
STATE_TYPES = ("SOFT", "HARD")
FLAPPING_STATES = ("STARTED", "STOPPED", "DISABLED")
DOWNTIME_STATES = ("STARTED", "STOPPED", "CANCELLED")

# Notification types as Nagios writes them before "(STATE)"; a plain state
# is a PROBLEM, or a RECOVERY when the state is OK/UP.
NOTIFICATION_TYPES = (
    "PROBLEM",
    "RECOVERY",
    "ACKNOWLEDGEMENT",
    "FLAPPINGSTART",
    "FLAPPINGSTOP",
    "FLAPPINGDISABLED",
    "DOWNTIMESTART",
    "DOWNTIMEEND",
    "DOWNTIMECANCELLED",
    "CUSTOM",
)
