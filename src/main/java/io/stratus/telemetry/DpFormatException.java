package io.stratus.telemetry;

/**
 * A {@code $dp} payload that breaks the format (protocol §3 and D24 in docs/decisions.md). The message names what is
 * wrong and ends with the byte offset, e.g. {@code type 3: JSON length 200 goes beyond the payload (10 bytes) at byte 1}.
 * Per D6 the caller disconnects the device (or drops the message) and logs the message.
 */
public final class DpFormatException extends Exception {
    private static final long serialVersionUID = 1L;

    private final String reason;
    private final int offset;

    public DpFormatException(String reason, int offset) {
        super(reason + " at byte " + offset);
        this.reason = reason;
        this.offset = offset;
    }

    /** What is wrong, without the offset. */
    public String reason() {
        return reason;
    }

    /** The offset in the payload of the byte (or the field starting there) that is wrong; 0 for byte 0. */
    public int offset() {
        return offset;
    }
}
