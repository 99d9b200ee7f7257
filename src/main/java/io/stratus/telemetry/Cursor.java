package io.stratus.telemetry;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/** Where a history page ended: the (time, stream) of its last point. Opaque to clients. */
public record Cursor(long at, String stream) {
    public String encode() {
        return Base64.getUrlEncoder().withoutPadding().encodeToString((at + "\n" + stream).getBytes(StandardCharsets.UTF_8));
    }

    /** The cursor a client passed back, or null when it is not one of ours. */
    public static Cursor decode(String text) {
        try {
            String s = new String(Base64.getUrlDecoder().decode(text), StandardCharsets.UTF_8);
            int nl = s.indexOf('\n');
            return nl < 0 ? null : new Cursor(Long.parseLong(s.substring(0, nl)), s.substring(nl + 1));
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}
