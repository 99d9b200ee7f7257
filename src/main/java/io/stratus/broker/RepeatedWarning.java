package io.stratus.broker;

import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;

/**
 * A WARN for something a misbehaving tenant repeats (a refused retained message, a message to an invalid topic): one
 * line now, then none for a minute, so that the log stays readable; the metric beside it counts every one.
 */
final class RepeatedWarning {
    private static final long QUIET_MILLIS = 60_000;

    private final Logger log;
    private final String format;
    private final AtomicLong next = new AtomicLong();

    /** {@code format}: an SLF4J format with two arguments. */
    RepeatedWarning(Logger log, String format) {
        this.log = log;
        this.format = format + " (further ones for a minute only counted)";
    }

    void warn(Object a, Object b) {
        long now = System.currentTimeMillis();
        long due = next.get();
        if (now >= due && next.compareAndSet(due, now + QUIET_MILLIS)) {
            log.warn(format, a, b);
        }
    }

    /** A topic for a log line: at most 100 characters, control characters (a NUL, a newline) as '?'. */
    static String printable(String topic) {
        StringBuilder out = new StringBuilder(Math.min(topic.length(), 100));
        for (int i = 0; i < topic.length() && out.length() < 100; i++) {
            char c = topic.charAt(i);
            out.append(c < 0x20 ? '?' : c);
        }
        return topic.length() > 100 ? out + "..." : out.toString();
    }
}
