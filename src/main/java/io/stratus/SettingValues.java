package io.stratus;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Typed values of the settings map, each refused with a message naming its key when it does not parse. */
final class SettingValues {
    private SettingValues() {
    }

    /** The settings of {@code a} and {@code b}, which share no key. */
    static Map<String, String> merged(Map<String, String> a, Map<String, String> b) {
        Map<String, String> all = new java.util.HashMap<>(a);
        all.putAll(b);
        return Map.copyOf(all);
    }

    /** A file setting: null when blank. */
    static Path path(Map<String, String> v, String key) {
        return v.get(key).isBlank() ? null : Path.of(v.get(key).strip());
    }

    /** True for the first of the two allowed values, false for the second. */
    static boolean choice(Map<String, String> v, String key, String first, String second) {
        String value = v.get(key).trim().toLowerCase(Locale.ROOT);
        if (!value.equals(first) && !value.equals(second)) {
            throw new IllegalArgumentException(key + " must be " + first + " or " + second + ", not " + value);
        }
        return value.equals(first);
    }

    /** A comma-separated list, each entry trimmed: a blank setting is no entry, an empty entry an error. */
    static List<String> list(Map<String, String> v, String key) {
        String value = v.get(key);
        List<String> entries = new ArrayList<>();
        for (String entry : value.split(",", -1)) {
            if (entry.trim().isEmpty()) {
                if (value.isBlank()) {
                    break;
                }
                throw new IllegalArgumentException(key + ": empty entry in \"" + value + "\"");
            }
            entries.add(entry.trim());
        }
        return List.copyOf(entries);
    }

    static int port(Map<String, String> v, String key) {
        int port = integer(v, key);
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException(key + " must be 0..65535, not " + port);
        }
        return port;
    }

    /** A port that may be left empty for "off": -1 then. */
    static int optionalPort(Map<String, String> v, String key) {
        return v.get(key).isBlank() ? -1 : port(v, key);
    }

    static int positive(Map<String, String> v, String key) {
        int n = integer(v, key);
        if (n <= 0) {
            throw new IllegalArgumentException(key + " must be positive, not " + n);
        }
        return n;
    }

    static int integer(Map<String, String> v, String key) {
        try {
            return Integer.parseInt(v.get(key).trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + " is not a number: " + v.get(key));
        }
    }
}
