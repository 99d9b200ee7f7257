package io.stratus.broker;

import io.stratus.device.Credential;
import java.util.concurrent.CompletableFuture;

/**
 * Where a session's outgoing packets go: the client's connection in production, a list in tests.
 * Calls may come from any thread.
 */
public interface Outbox {
    /** Sends a PUBLISH; {@code packetId} is 0 for QoS 0. */
    void publish(Message message, int packetId, boolean dup);

    /**
     * Sends a QoS 0 PUBLISH outside any subscription (OneNET's {@code $creq/...}); the future completes when
     * the bytes were written to the socket, or fails when the connection dropped first.
     */
    CompletableFuture<Void> sendDirect(Message message);

    /** Re-sends a PUBREL for an outgoing QoS 2 message whose PUBREC arrived before a reconnect. */
    void pubrel(int packetId);

    /** False while the connection's send buffer is full; QoS 0 messages are then dropped. */
    boolean isWritable();

    /** Closes the connection, logging {@code reason}; the will is published [MQTT-3.1.2-8]. */
    void close(String reason);

    /**
     * Closes the connection, logging {@code reason} at INFO; with {@code publishWill} false the will is discarded
     * (its device or product was deleted: nothing of it may be published any more).
     */
    void close(String reason, boolean publishWill);

    /** What the client logged in with (a kind and a digest, never the secret). */
    Credential credential();
}
