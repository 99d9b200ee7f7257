package io.stratus.api;

import io.javalin.http.Context;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/** Query and path parameters. An empty query parameter counts as absent. */
final class Params {
    private Params() {
    }

    /** A numeric id as IDs are on the wire (a string of digits), if it is one. */
    static OptionalLong parseId(String s) {
        if (s == null || s.isEmpty() || s.length() > 18) {
            return OptionalLong.empty();
        }
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) < '0' || s.charAt(i) > '9') {
                return OptionalLong.empty();
            }
        }
        return OptionalLong.of(Long.parseLong(s));
    }

    /** A path id; one that is not a number cannot name anything, so it is errno 8. */
    static long pathId(Context ctx, String what) {
        String raw = ctx.pathParam("id");
        return parseId(raw).orElseThrow(() -> ApiError.notFound(what + " not found: " + raw));
    }

    static String text(Context ctx, String name) {
        String v = ctx.queryParam(name);
        return v == null || v.isEmpty() ? null : v;
    }

    /** An optional id parameter; errno 6 when not a number. */
    static OptionalLong id(Context ctx, String name) {
        String v = text(ctx, name);
        if (v == null) {
            return OptionalLong.empty();
        }
        OptionalLong id = parseId(v);
        if (id.isEmpty()) {
            throw ApiError.invalid(name + " must be a numeric id");
        }
        return id;
    }

    /** An integer in [min, max], or the fallback when absent; errno 6 otherwise. */
    static int integer(Context ctx, String name, int min, int max, int fallback) {
        String v = text(ctx, name);
        if (v == null) {
            return fallback;
        }
        try {
            int n = Integer.parseInt(v);
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw ApiError.invalid(name + " must be " + min + ".." + max);
    }

    /** {@code true} or {@code false}, or null when absent; errno 6 otherwise. */
    static Boolean bool(Context ctx, String name) {
        String v = text(ctx, name);
        if (v == null) {
            return null;
        }
        if (v.equalsIgnoreCase("true")) {
            return true;
        }
        if (v.equalsIgnoreCase("false")) {
            return false;
        }
        throw ApiError.invalid(name + " must be true or false");
    }

    /** A comma-separated list of at most {@code max} numeric ids, or null when absent; errno 6 otherwise. */
    static List<Long> ids(Context ctx, String name, int max) {
        String v = text(ctx, name);
        if (v == null) {
            return null;
        }
        String[] parts = v.split(",", -1);
        if (parts.length > max) {
            throw ApiError.invalid(name + " lists more than " + max + " ids");
        }
        List<Long> out = new ArrayList<>(parts.length);
        for (String part : parts) {
            OptionalLong id = parseId(part.trim());
            if (id.isEmpty()) {
                throw ApiError.invalid(name + " must be comma-separated numeric ids");
            }
            out.add(id.getAsLong());
        }
        return out;
    }
}
