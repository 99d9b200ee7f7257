package io.stratus.api;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;

/** Stored point values (JSON text) back to JSON for replies. */
final class Values {
    private Values() {
    }

    static JsonNode parse(String json) {
        try {
            return JsonBody.MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            return JsonBody.MAPPER.getNodeFactory().textNode(json);
        }
    }

    /**
     * Writes a stored value: a JSON number (nearly every point) as it is stored, anything else through
     * {@link #parse}, so that a value that is not valid JSON still gives a valid reply.
     */
    static void write(JsonGenerator out, String json) throws IOException {
        if (isNumber(json)) {
            out.writeRawValue(json);
        } else {
            JsonBody.MAPPER.writeTree(out, parse(json));
        }
    }

    /** Whether the text is one JSON number: {@code -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?}. */
    static boolean isNumber(String s) {
        int n = s.length();
        int i = 0;
        if (i < n && s.charAt(i) == '-') {
            i++;
        }
        if (i >= n || !digit(s.charAt(i))) {
            return false;
        }
        if (s.charAt(i) == '0') {
            i++;
        } else {
            i = digits(s, i);
        }
        if (i < n && s.charAt(i) == '.') {
            int after = digits(s, i + 1);
            if (after == i + 1) {
                return false;
            }
            i = after;
        }
        if (i < n && (s.charAt(i) == 'e' || s.charAt(i) == 'E')) {
            i++;
            if (i < n && (s.charAt(i) == '+' || s.charAt(i) == '-')) {
                i++;
            }
            int after = digits(s, i);
            if (after == i) {
                return false;
            }
            i = after;
        }
        return i == n;
    }

    private static int digits(String s, int i) {
        while (i < s.length() && digit(s.charAt(i))) {
            i++;
        }
        return i;
    }

    private static boolean digit(char c) {
        return c >= '0' && c <= '9';
    }
}
