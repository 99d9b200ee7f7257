package io.stratus.cluster;

import io.nats.client.Connection;
import io.nats.client.Dispatcher;
import io.nats.client.Message;
import io.nats.client.impl.Headers;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;

/**
 * QoS 0 between nodes over core NATS (docs/cluster.md). A node publishes each QoS 0 message of its clients on the
 * topic's subject ({@link Subjects}), and takes the messages of every product it has subscribers in: NATS interest is
 * the route table, so a message goes only to nodes that may want it, and the receiving node matches it in its own
 * topic tree. A node's own messages come back to it and are dropped here (it delivered them locally already).
 *
 * <p>Interest is per product (one NATS subscription to {@code <prefix>.m.P.>}), not per filter: two overlapping filters
 * on one node would otherwise each deliver a copy of the same message to that node. Messages are at most once, as QoS
 * 0 is: one a node misses while NATS reconnects is lost.
 */
public final class RouteBus implements AutoCloseable {
    /** Told of each message from another node, on the bus's own thread. */
    public interface Receiver {
        void received(long productId, String topic, byte[] payload);
    }

    /** The node a message came from: a node drops its own. */
    static final String ORIGIN = "Stratus-Node";
    /** The topic of a message sent on the product's long subject (its subject could not hold it). */
    static final String TOPIC = "Stratus-Topic";

    private final Connection nats;
    private final Subjects subjects;
    /** Who a message of this bus is from: the node's name and this start of it, so two starts never look alike. */
    private final String origin;
    private final Receiver receiver;
    private final Dispatcher dispatcher;
    /** The products this node holds a NATS subscription of. */
    private final Set<Long> products = new HashSet<>();
    private final LongAdder sent = new LongAdder();
    private final LongAdder received = new LongAdder();

    public RouteBus(Connection nats, Subjects subjects, String node, Receiver receiver) {
        this.nats = nats;
        this.subjects = subjects;
        this.origin = node + "/" + UUID.randomUUID();
        this.receiver = receiver;
        this.dispatcher = nats.createDispatcher(this::onMessage);
    }

    /**
     * Call after each change of the subscriptions of product {@code productId} on this node: {@code wanted} says whether
     * any are left, and is read under this bus's lock, so that of racing changes the last one read decides.
     */
    public synchronized void interest(long productId, BooleanSupplier wanted) {
        boolean want = wanted.getAsBoolean();
        if (want && products.add(productId)) {
            dispatcher.subscribe(subjects.all(Subjects.Kind.QOS0, productId));
        } else if (!want && products.remove(productId)) {
            dispatcher.unsubscribe(subjects.all(Subjects.Kind.QOS0, productId));
        }
    }

    /** Products this node takes QoS 0 messages of. */
    public synchronized int products() {
        return products.size();
    }

    /** Messages sent to other nodes, and messages from other nodes handed to this node's subscribers. */
    public long sentCount() {
        return sent.sum();
    }

    public long receivedCount() {
        return received.sum();
    }

    /** Messages NATS dropped on their way to this node because it took them too slowly (jnats's pending limits). */
    public long droppedCount() {
        return dispatcher.getDroppedCount();
    }

    /** Whether the NATS connection is up now. */
    public boolean connected() {
        return nats.getStatus() == Connection.Status.CONNECTED;
    }

    /** Waits until nats-server has this node's subscriptions, so that a SUBACK sent after it means routed. */
    public void flush(Duration timeout) throws TimeoutException, InterruptedException {
        nats.flush(timeout);
    }

    /** Sends a QoS 0 message of a client of this node to the other nodes. */
    public void publish(long productId, String topic, byte[] payload) {
        Headers headers = new Headers().put(ORIGIN, origin);
        String subject = subjects.topic(Subjects.Kind.QOS0, productId, topic);
        if (subject.equals(subjects.longSubject(Subjects.Kind.QOS0, productId))) {
            headers.put(TOPIC, topic);
        }
        nats.publish(subject, headers, payload);
        sent.increment();
    }

    private void onMessage(Message m) {
        if (m.getHeaders() == null || origin.equals(m.getHeaders().getFirst(ORIGIN))) {
            return;
        }
        Subjects.Decoded d = subjects.decode(m.getSubject());
        if (d == null || d.kind() != Subjects.Kind.QOS0) {
            return;
        }
        String topic = d.topic() != null ? d.topic() : m.getHeaders().getFirst(TOPIC);
        if (topic != null) {
            received.increment();
            receiver.received(d.productId(), topic, m.getData() == null ? new byte[0] : m.getData());
        }
    }

    @Override
    public void close() {
        nats.closeDispatcher(dispatcher);
    }
}
