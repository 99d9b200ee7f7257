package io.stratus.broker;

import java.util.concurrent.atomic.LongAdder;

/** Message counters of one broker, read by {@code /metrics}. Cheap to bump from any thread. */
public final class BrokerStats {
    private final LongAdder received = new LongAdder();
    private final LongAdder publishDenied = new LongAdder();
    private final LongAdder sent = new LongAdder();
    private final LongAdder dropped = new LongAdder();
    private final LongAdder slowConsumers = new LongAdder();
    private final LongAdder invalidTopics = new LongAdder();
    private final LongAdder retainedRefused = new LongAdder();
    private final LongAdder productQueueFull = new LongAdder();
    private final LongAdder topicsRefused = new LongAdder();
    private final LongAdder oversizeBeforeConnect = new LongAdder();
    private final LongAdder queuedMessages = new LongAdder();
    private final LongAdder queuedBytes = new LongAdder();
    private final LongAdder queuedHeapBytes = new LongAdder();

    /** A PUBLISH arrived from a client (user or system topic). */
    public void received() {
        received.increment();
    }

    /** A PUBLISH was written to a client. */
    public void sent() {
        sent.increment();
    }

    /** A message owed to a client was dropped by policy (QoS 0 to a full connection, queue overflow, expiry). */
    void dropped() {
        dropped.increment();
    }

    /** A client was disconnected because it did not read what it was sent. */
    public void slowConsumerDisconnected() {
        slowConsumers.increment();
    }

    /** A message whose topic is no valid topic name (a stream id with '#', say) was dropped before any delivery. */
    void invalidTopicDropped() {
        invalidTopics.increment();
    }

    /** A retained PUBLISH over its product's retained budget was not retained. */
    void retainedRefused() {
        retainedRefused.increment();
    }

    /** A QoS 1/2 message was not queued for a session because its product's queues were full. */
    void productQueueFull() {
        productQueueFull.increment();
    }

    /** A subscription was refused (SUBACK 0x80) because its product has its maximum of user topics. */
    void topicRefused() {
        topicsRefused.increment();
    }

    /** A PUBLISH was acknowledged and not routed: a device may not publish another device's forward topic. */
    public void publishDenied() {
        publishDenied.increment();
    }

    public long publishDeniedCount() {
        return publishDenied.sum();
    }

    /** A connection was closed for a packet over {@code mqtt.max-connect-bytes} before its CONNECT was accepted. */
    public void oversizeBeforeConnect() {
        oversizeBeforeConnect.increment();
    }

    void queued(int messages, long bytes) {
        queuedMessages.add(messages);
        queuedBytes.add(bytes);
    }

    void heldInHeap(long bytes) {
        queuedHeapBytes.add(bytes);
    }

    public long receivedCount() {
        return received.sum();
    }

    public long sentCount() {
        return sent.sum();
    }

    public long droppedCount() {
        return dropped.sum();
    }

    public long slowConsumerCount() {
        return slowConsumers.sum();
    }

    public long invalidTopicCount() {
        return invalidTopics.sum();
    }

    public long retainedRefusedCount() {
        return retainedRefused.sum();
    }

    public long productQueueFullCount() {
        return productQueueFull.sum();
    }

    public long topicsRefusedCount() {
        return topicsRefused.sum();
    }

    public long oversizeBeforeConnectCount() {
        return oversizeBeforeConnect.sum();
    }

    /** QoS 1/2 messages waiting in sessions' queues (behind their in-flight windows), online and offline. */
    public long queuedMessageCount() {
        return queuedMessages.sum();
    }

    /** Payload bytes of those messages, wherever they are (heap or store). */
    public long queuedByteCount() {
        return queuedBytes.sum();
    }

    /** Payload bytes of messages owed to sessions (queued or in flight) that the heap holds; the rest is in the store. */
    public long queuedHeapByteCount() {
        return queuedHeapBytes.sum();
    }
}
