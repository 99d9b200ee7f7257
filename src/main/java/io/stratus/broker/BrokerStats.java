package io.stratus.broker;

import java.util.concurrent.atomic.LongAdder;

/** Message counters of one broker, read by {@code /metrics}. Cheap to bump from any thread. */
public final class BrokerStats {
    private final LongAdder received = new LongAdder();
    private final LongAdder sent = new LongAdder();
    private final LongAdder dropped = new LongAdder();
    private final LongAdder slowConsumers = new LongAdder();

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
}
