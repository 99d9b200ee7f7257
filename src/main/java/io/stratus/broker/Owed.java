package io.stratus.broker;

/**
 * A QoS 1/2 message owed to a session, queued or in flight. {@code seq} is its row in the store (0 when not stored).
 * Its payload may be only in the store ({@code message} null): then it is read back when due. Guarded by its
 * session's lock.
 */
final class Owed {
    final long seq;
    final int qos;
    final int size;
    final long enqueuedAt;
    /** Queued bytes before it when it was queued: with the session's bytes taken since, how far it is from the head. */
    long queueOffset;
    /** Null while the payload is only in the store. */
    Message message;
    /** Its row is committed: the payload can be read back. */
    boolean stored;
    boolean sent;
    /** QoS 2 in flight: PUBREC received, PUBREL sent, only PUBCOMP is missing. */
    boolean released;
    /** Acknowledged, dropped or discarded: owed no more. */
    boolean done;
    /** Its row was not found (or not valid) when loaded: dropped when its turn comes. */
    boolean missing;

    Owed(long seq, int qos, int size, long enqueuedAt, Message message, boolean stored) {
        this.seq = seq;
        this.qos = qos;
        this.size = size;
        this.enqueuedAt = enqueuedAt;
        this.message = message;
        this.stored = stored;
    }
}
