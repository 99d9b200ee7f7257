package io.stratus.broker;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The system topics a client may publish to, each with its handler: exact topics ({@code $dp}) and prefixes
 * ({@code $crsp/}). Filled by {@code Platform} at start; any other {@code $} topic is refused (D9, docs/decisions.md).
 */
final class SystemTopics {
    private final Map<String, SystemTopicHandler> exact = new ConcurrentHashMap<>();
    private final Map<String, SystemTopicHandler> prefixes = new ConcurrentHashMap<>();

    void route(String topic, SystemTopicHandler handler) {
        exact.put(topic, handler);
    }

    void routePrefix(String prefix, SystemTopicHandler handler) {
        prefixes.put(prefix, handler);
    }

    /** The handler of {@code topic}: the exact one, else that of a prefix it extends; empty for any other topic. */
    Optional<SystemTopicHandler> handler(String topic) {
        SystemTopicHandler handler = exact.get(topic);
        if (handler != null) {
            return Optional.of(handler);
        }
        for (Map.Entry<String, SystemTopicHandler> e : prefixes.entrySet()) {
            if (topic.startsWith(e.getKey()) && topic.length() > e.getKey().length()) {
                return Optional.of(e.getValue());
            }
        }
        return Optional.empty();
    }
}
