package io.stratus.cluster;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * MQTT topics and filters as NATS subjects, for routing between nodes (docs/cluster.md). A topic of product P becomes
 * {@code <prefix>.m.P.<token>.<token>...} (QoS 0) or {@code <prefix>.q.P....} (QoS 1 and 2), one token per topic level.
 *
 * <p>A level becomes a token by percent-encoding every byte outside {@code [A-Za-z0-9_-]} as {@code %XX} (upper-case
 * hex) and the empty level as a lone {@code %}. So a token is never empty, never a bare {@code *} or {@code >}, holds
 * no {@code .} or white space, and the mapping is injective and reversible: {@code .}, {@code *}, {@code >},
 * {@code $}, {@code %}, spaces and UTF-8 in topics all travel. A filter maps level by level, {@code +} to {@code *};
 * a trailing {@code #} needs two NATS subscriptions, the parent and the parent with {@code .>}, as "a/#" also matches
 * "a" [MQTT-4.7.1-2]. NATS matching is only a pre-filter: the receiving node matches the decoded topic again in its
 * topic tree, where product isolation and the {@code $} rules are enforced.
 *
 * <p>A subject longer than {@link #MAX_SUBJECT_BYTES} (a long topic, or one of many escaped bytes) is replaced by
 * {@code <prefix>.m.P.%long}, which every node with a subscription in product P also subscribes to; the message then
 * carries its topic in its body. {@code %long} is no escaped level: {@code %} followed by anything but two hex digits
 * is never produced by the encoding.
 */
public final class Subjects {
    /** Keeps a subject well inside NATS's 4 KB control line, with room for the reply subject and headers. */
    public static final int MAX_SUBJECT_BYTES = 1024;
    static final String LONG = "%long";
    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    /** How a topic travels: at most once over core NATS, or through the QoS 1/2 stream. */
    public enum Kind {
        QOS0("m"), QOS1("q");

        final String token;

        Kind(String token) {
            this.token = token;
        }
    }

    /** A subject taken apart: the product and the topic, or a null topic for {@code %long} (it is in the body). */
    public record Decoded(Kind kind, long productId, String topic) {}

    private final String prefix;

    /** {@code prefix}: {@code cluster.subject-prefix}, one or more NATS tokens (e.g. {@code stratus}). */
    public Subjects(String prefix) {
        if (prefix.isEmpty() || prefix.startsWith(".") || prefix.endsWith(".") || prefix.contains("..")
                || prefix.chars().anyMatch(c -> c == '*' || c == '>' || Character.isWhitespace(c))) {
            throw new IllegalArgumentException("not a NATS subject prefix: '" + prefix + "'");
        }
        this.prefix = prefix;
    }

    /** The subject of a message published to {@code topic} in product {@code productId}. */
    public String topic(Kind kind, long productId, String topic) {
        StringBuilder s = head(kind, productId);
        int start = 0;
        while (true) {
            int end = topic.indexOf('/', start);
            appendToken(s.append('.'), topic.substring(start, end < 0 ? topic.length() : end));
            if (end < 0) {
                break;
            }
            start = end + 1;
        }
        return fits(s) ? s.toString() : longSubject(kind, productId);
    }

    /**
     * The subjects to subscribe to for an MQTT {@code filter} (valid, as {@code broker.Topics} checks it): one, or two
     * for a filter ending in {@code /#}; {@link #longSubject} when the filter's own subject is too long. Long topics
     * are not matched here: a node subscribes to {@link #longSubject} once for each product it has subscriptions in.
     */
    public List<String> filter(Kind kind, long productId, String filter) {
        if (filter.equals("#")) {
            return List.of(head(kind, productId).append(".>").toString());
        }
        boolean multi = filter.endsWith("/#");
        String levels = multi ? filter.substring(0, filter.length() - 2) : filter;
        StringBuilder s = head(kind, productId);
        for (String level : levels.split("/", -1)) {
            s.append('.');
            if (level.equals("+")) {
                s.append('*');
            } else {
                appendToken(s, level);
            }
        }
        if (!fits(s)) {
            return List.of(longSubject(kind, productId));
        }
        String parent = s.toString();
        return multi ? List.of(parent, parent + ".>") : List.of(parent);
    }

    /** Every subject of {@code kind}: what the QoS 1/2 stream keeps, for {@link Kind#QOS1}. */
    public String all(Kind kind) {
        return prefix + "." + kind.token + ".>";
    }

    /** Every subject of {@code kind} in product {@code productId}, its long subject included. */
    public String all(Kind kind, long productId) {
        return head(kind, productId).append(".>").toString();
    }

    /** The catch-all of product {@code productId} for topics whose subject is too long (see the class comment). */
    public String longSubject(Kind kind, long productId) {
        return head(kind, productId).append('.').append(LONG).toString();
    }

    /** The subject of node-to-node messages of one kind, such as registry changes: {@code <prefix>.c.<name>}. */
    public String control(String name) {
        return prefix + ".c." + name;
    }

    /** Takes apart a subject made by {@link #topic}; null when it is not one of this prefix. */
    public Decoded decode(String subject) {
        if (!subject.startsWith(prefix + ".")) {
            return null;
        }
        String[] parts = subject.substring(prefix.length() + 1).split("\\.", -1);
        if (parts.length < 3) {
            return null;
        }
        Kind kind = parts[0].equals(Kind.QOS0.token) ? Kind.QOS0 : parts[0].equals(Kind.QOS1.token) ? Kind.QOS1 : null;
        if (kind == null) {
            return null;
        }
        long productId;
        try {
            productId = Long.parseLong(parts[1]);
        } catch (NumberFormatException e) {
            return null;
        }
        if (parts.length == 3 && parts[2].equals(LONG)) {
            return new Decoded(kind, productId, null);
        }
        StringBuilder topic = new StringBuilder();
        for (int i = 2; i < parts.length; i++) {
            String level = level(parts[i]);
            if (level == null) {
                return null;
            }
            topic.append(i == 2 ? "" : "/").append(level);
        }
        return new Decoded(kind, productId, topic.toString());
    }

    /** The token of one topic level. */
    static String token(String level) {
        StringBuilder s = new StringBuilder(level.length() + 8);
        appendToken(s, level);
        return s.toString();
    }

    /** The level of a token made by {@link #token}; null when {@code token} is not one. */
    static String level(String token) {
        if (token.equals("%")) {
            return "";
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(token.length());
        for (int i = 0; i < token.length(); i++) {
            char c = token.charAt(i);
            if (c == '%') {
                int hi = i + 2 < token.length() ? hexValue(token.charAt(i + 1)) : -1;
                int lo = hi < 0 ? -1 : hexValue(token.charAt(i + 2));
                if (lo < 0) {
                    return null;
                }
                bytes.write(hi << 4 | lo);
                i += 2;
            } else if (plain(c)) {
                bytes.write(c);
            } else {
                return null;
            }
        }
        return token.isEmpty() ? null : bytes.toString(StandardCharsets.UTF_8);
    }

    private StringBuilder head(Kind kind, long productId) {
        return new StringBuilder(64).append(prefix).append('.').append(kind.token).append('.').append(productId);
    }

    private static void appendToken(StringBuilder s, String level) {
        if (level.isEmpty()) {
            s.append('%');
            return;
        }
        for (byte b : level.getBytes(StandardCharsets.UTF_8)) {
            if (plain((char) b) && b >= 0) {
                s.append((char) b);
            } else {
                s.append('%').append(HEX[(b >> 4) & 0xF]).append(HEX[b & 0xF]);
            }
        }
    }

    private static boolean plain(char c) {
        return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-';
    }

    private static int hexValue(char c) {
        return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    }

    /** Subjects are ASCII (every other byte is escaped), so their length in chars is their length in bytes. */
    private static boolean fits(StringBuilder s) {
        return s.length() <= MAX_SUBJECT_BYTES;
    }
}
