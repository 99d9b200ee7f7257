package io.stratus.telemetry;

/**
 * What a data-stream id may be. A stream's points are forwarded to the MQTT topic {@code /{device_id}/{stream}} (D4,
 * docs/decisions.md), so the id must make one valid topic level, and the rule is checked where a stream id enters
 * (uploads over MQTT and HTTP, stream creation): an id accepted there never makes a topic the MQTT encoder refuses.
 *
 * <p>{@link #check} returns {@code null} for a valid id, else a short reason for a log line or an API error; it
 * never throws for a non-null argument.
 */
public final class StreamIds {
    /** Characters (code points) an id may have; OneNET's own streams are names such as {@code temperature}. */
    public static final int MAX_LENGTH = 128;

    private StreamIds() {
    }

    /** {@code null} when {@code id} is a valid data-stream id, else why it is not. */
    public static String check(String id) {
        if (id.isEmpty()) {
            return "empty data stream id";
        }
        int length = 0;
        for (int i = 0; i < id.length(); i++) {
            char c = id.charAt(i);
            if (c == '/') {
                // One topic level: "a/b" would be forwarded to /{device}/a/b, and no URL path could name the stream.
                return "'/' in data stream id";
            } else if (c == '+' || c == '#') {
                return "wildcard '" + c + "' in data stream id"; // [MQTT-3.3.2-2] a topic name holds no wildcard
            } else if (c == '\u0000') {
                return "null character in data stream id"; // [MQTT-1.5.3-2]
            } else if (c < 0x20 || (c >= 0x7F && c <= 0x9F)) {
                return "control character in data stream id"; // MQTT 3.1.1 section 1.5.3: SHOULD NOT be sent
            } else if (Character.isHighSurrogate(c) && i + 1 < id.length() && Character.isLowSurrogate(id.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                return "unpaired surrogate in data stream id"; // [MQTT-1.5.3-1] not encodable in UTF-8
            }
            if (++length > MAX_LENGTH) {
                return "data stream id longer than " + MAX_LENGTH + " characters";
            }
        }
        return null;
    }
}
