package io.stratus.command;

/** A command that cannot be accepted; the message is the detail (a device id, a limit). */
public final class CommandException extends RuntimeException {
    public enum Reason {
        /** An online-only command ({@code timeout=0}) to a device that is not connected: errno 10. */
        DEVICE_NOT_ONLINE,
        /** Too many open commands, or the store's queue is full: errno 13. */
        SYSTEM_LIMIT
    }

    private final Reason reason;

    public CommandException(Reason reason, String detail) {
        super(detail, null, false, false);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
