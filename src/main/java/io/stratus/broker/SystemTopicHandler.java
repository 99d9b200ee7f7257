package io.stratus.broker;

import java.util.concurrent.CompletableFuture;

/**
 * Handles a PUBLISH to a system topic ({@code $dp}, {@code $crsp/...}). The returned future completes when
 * the message is safely handled (the publisher is acknowledged only then) or fails with the reason the
 * publisher is disconnected.
 */
@FunctionalInterface
public interface SystemTopicHandler {
    CompletableFuture<Void> handle(Publisher publisher, String topic, byte[] payload, int qos);
}
