package io.stratus.broker;

/**
 * Where a session's outgoing packets go: the client's connection in production, a list in tests.
 * Calls may come from any thread.
 */
public interface Outbox {
    /** Sends a PUBLISH; {@code packetId} is 0 for QoS 0. */
    void publish(Message message, int packetId, boolean dup);

    /** Re-sends a PUBREL for an outgoing QoS 2 message whose PUBREC arrived before a reconnect. */
    void pubrel(int packetId);

    /** False while the connection's send buffer is full; QoS 0 messages are then dropped. */
    boolean isWritable();

    /** Closes the connection, logging {@code reason}. */
    void close(String reason);
}
