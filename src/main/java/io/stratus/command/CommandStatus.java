package io.stratus.command;

/**
 * The status of a command as {@code GET /cmds/{uuid}} reports it (OneNET S6 + S11 codes 0-6). Statuses
 * from {@link #SEND_FAILED} on are final: nothing changes them any more.
 */
public enum CommandStatus {
    /** OneNET's code for an online-only command to an offline device; Stratus refuses those (errno 10) instead. */
    DEVICE_OFFLINE(0, "Device Offline"),
    CREATED(1, "Command Created"),
    SENT(2, "Command Sent"),
    SEND_FAILED(3, "Send Command Failed"),
    RESPONDED(4, "Command Response Received"),
    TIMED_OUT(5, "Command Response Timeout"),
    RESPONSE_TOO_LARGE(6, "Command Response Too Large");

    public final int code;
    public final String desc;

    CommandStatus(int code, String desc) {
        this.code = code;
        this.desc = desc;
    }

    /** True once nothing more can happen to the command: no delivery, no response, no timeout. */
    public boolean isFinal() {
        return this != CREATED && this != SENT;
    }

    public static CommandStatus of(int code) {
        for (CommandStatus s : values()) {
            if (s.code == code) {
                return s;
            }
        }
        throw new IllegalArgumentException("unknown command status " + code);
    }
}
