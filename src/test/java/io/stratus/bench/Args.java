package io.stratus.bench;

import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** {@code --name value} and {@code --flag} arguments of the load tool. */
final class Args {
    private final Map<String, String> values = new HashMap<>();

    private Args() {
    }

    static Args parse(String[] args, List<String> flags) {
        Args a = new Args();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (!arg.startsWith("--")) {
                throw new IllegalArgumentException("unexpected argument: " + arg);
            }
            String name = arg.substring(2);
            int eq = name.indexOf('=');
            if (eq > 0) {
                a.values.put(name.substring(0, eq), name.substring(eq + 1));
            } else if (flags.contains(name)) {
                a.values.put(name, "true");
            } else if (i + 1 < args.length) {
                a.values.put(name, args[++i]);
            } else {
                throw new IllegalArgumentException("--" + name + " needs a value");
            }
        }
        return a;
    }

    String text(String name, String orElse) {
        return values.getOrDefault(name, orElse);
    }

    boolean flag(String name) {
        return Boolean.parseBoolean(values.getOrDefault(name, "false"));
    }

    int integer(String name, int orElse) {
        return values.containsKey(name) ? Integer.parseInt(values.get(name)) : orElse;
    }

    double number(String name, double orElse) {
        return values.containsKey(name) ? Double.parseDouble(values.get(name)) : orElse;
    }

    Duration seconds(String name, double orElse) {
        return Duration.ofMillis((long) (number(name, orElse) * 1000));
    }

    List<String> list(String name, String orElse) {
        String v = values.getOrDefault(name, orElse).trim();
        return v.isEmpty() ? List.of() : Arrays.stream(v.split("[,\\s]+")).toList();
    }

    /** A value split at white space only: JVM options hold commas (agent options, CompileCommand). */
    List<String> words(String name, String orElse) {
        String v = values.getOrDefault(name, orElse).trim();
        return v.isEmpty() ? List.of() : Arrays.stream(v.split("\\s+")).toList();
    }

    /** Names given that are not in {@code known}. */
    List<String> unknown(List<String> known) {
        return values.keySet().stream().filter(k -> !known.contains(k)).sorted().toList();
    }
}
