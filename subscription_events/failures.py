"""Why an event cannot be processed, in words an operator reading `rec_log_sync` understands."""


class EventFailed(Exception):
    """The ERP data or the event itself is wrong; the event ends `E` with this message."""
