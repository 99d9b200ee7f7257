package io.stratus.broker;

/**
 * A PUBLISH the client may not make at all (to a {@code $} topic without a handler, D9, docs/decisions.md): MQTT 3.1.1
 * has no refusal for a PUBLISH, so its connection is closed with this reason and nothing is acknowledged.
 */
public final class PublishRefused extends RuntimeException {
    PublishRefused(String reason) {
        super(reason, null, false, false);
    }
}
