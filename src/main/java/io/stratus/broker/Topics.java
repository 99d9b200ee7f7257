package io.stratus.broker;

import io.stratus.device.Device;

/**
 * Validity rules for MQTT 3.1.1 topic names and topic filters (section 4.7), plus the Stratus size limit (D26,
 * docs/decisions.md).
 *
 * <p>The {@code check*} methods return {@code null} when the string is valid, otherwise a short reason meant for a log
 * line or an API error. They never throw for a non-null argument.
 */
public final class Topics {
    /** D26: topic names and filters are at most this many bytes in UTF-8 (MQTT itself allows 65535 [MQTT-4.7.3-3]). */
    public static final int MAX_TOPIC_BYTES = 1024;

    private Topics() {
    }

    /** Returns {@code null} when {@code topic} is a valid topic name to PUBLISH to, else why it is not. */
    public static String checkTopicName(String topic) {
        if (topic.isEmpty()) {
            return "empty topic name"; // [MQTT-4.7.3-1]
        }
        for (int i = 0; i < topic.length(); i++) {
            char c = topic.charAt(i);
            if (c == '+' || c == '#') {
                return "wildcard '" + c + "' in topic name"; // [MQTT-3.3.2-2]
            }
        }
        return checkText(topic);
    }

    /** Returns {@code null} when {@code filter} is a valid subscription topic filter, else why it is not. */
    public static String checkFilter(String filter) {
        if (filter.isEmpty()) {
            return "empty topic filter"; // [MQTT-4.7.3-1]
        }
        int last = filter.length() - 1;
        for (int i = 0; i <= last; i++) {
            char c = filter.charAt(i);
            boolean levelStart = i == 0 || filter.charAt(i - 1) == '/';
            if (c == '#') {
                // [MQTT-4.7.1-2] '#' is alone in its level and that level is the last one
                if (!levelStart) {
                    return "'#' not alone in its level";
                }
                if (i != last) {
                    return "'#' not in the last level";
                }
            } else if (c == '+') {
                // [MQTT-4.7.1-3] '+' occupies an entire level
                if (!levelStart || (i != last && filter.charAt(i + 1) != '/')) {
                    return "'+' not alone in its level";
                }
            }
        }
        return checkText(filter);
    }

    /** Whether this topic name or filter starts with '$' (reserved: OneNET's {@code $dp}, {@code $SYS}, ...). */
    public static boolean isSystem(String topicOrFilter) {
        return !topicOrFilter.isEmpty() && topicOrFilter.charAt(0) == '$';
    }

    /**
     * The device a topic of the forward form {@code /{device_id}/{stream}} names (D4: where a device's stored data
     * points are forwarded), or 0 when the topic is not of that form: a leading '/', a device id in its one decimal
     * spelling, and exactly one more level (a stream id has no '/').
     */
    public static long forwardDevice(String topic) {
        int second = topic.indexOf('/', 1);
        if (topic.isEmpty() || topic.charAt(0) != '/' || second < 0 || topic.indexOf('/', second + 1) >= 0
                || second == topic.length() - 1) {
            return 0;
        }
        return Device.idOf(topic.substring(1, second));
    }

    /** Whether this filter has no wildcard, so it matches exactly one topic name (D26 records such topics). */
    public static boolean isExact(String filter) {
        return filter.indexOf('+') < 0 && filter.indexOf('#') < 0;
    }

    /**
     * Rules shared by names and filters: well-formed UTF-16 with no U+0000, at most MAX_TOPIC_BYTES in UTF-8.
     * Malformed UTF-8 on the wire never gets here: the MQTT decoder refuses it [MQTT-1.5.3-1].
     */
    private static String checkText(String s) {
        int bytes = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\u0000') {
                return "null character"; // [MQTT-1.5.3-2] [MQTT-4.7.3-2]
            } else if (c < 0x80) {
                bytes += 1;
            } else if (c < 0x800) {
                bytes += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                bytes += 4;
                i++;
            } else if (Character.isSurrogate(c)) {
                // A lone surrogate cannot be encoded in UTF-8; it can only come from a Java caller (the HTTP API)
                return "unpaired surrogate"; // [MQTT-1.5.3-1]
            } else {
                bytes += 3;
            }
            if (bytes > MAX_TOPIC_BYTES) {
                return "longer than " + MAX_TOPIC_BYTES + " bytes"; // D26
            }
        }
        return null;
    }
}
