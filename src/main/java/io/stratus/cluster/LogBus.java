package io.stratus.cluster;

import io.nats.client.JetStreamApiException;
import io.nats.client.Message;
import io.nats.client.MessageConsumer;
import io.nats.client.impl.Headers;
import java.io.IOException;
import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * QoS 1 and 2 between nodes through the {@link MessageLog} (docs/cluster.md). A node appends each QoS 1/2 message of
 * its clients, and its publisher is acknowledged once the stream has it. One thread reads the node's consumer: a
 * message of another node is handed to the {@link Receiver}, and acknowledged to the stream once the receiver has
 * stored what it must (queued messages of persistent sessions); a failure leaves it to come again after the ack wait.
 */
public final class LogBus implements AutoCloseable {
    /** Told of each QoS 1/2 message of another node, on the bus's thread; completes once it is safe to forget it. */
    public interface Receiver {
        CompletableFuture<Void> received(long productId, String topic, byte[] payload, int qos);
    }

    static final String QOS = "Stratus-QoS";
    private static final Logger log = LoggerFactory.getLogger(LogBus.class);
    private static final int BATCH = 256;

    private final MessageLog messageLog;
    private final Subjects subjects;
    private final String origin;
    private final Receiver receiver;
    private final AtomicLong ids = new AtomicLong();
    private final LongAdder appended = new LongAdder();
    private final LongAdder appendsFailed = new LongAdder();
    private final LongAdder received = new LongAdder();
    private final LongAdder redelivered = new LongAdder();
    private volatile MessageConsumer consumer;

    public LogBus(MessageLog messageLog, Subjects subjects, String node, Receiver receiver) {
        this.messageLog = messageLog;
        this.subjects = subjects;
        this.origin = node + "/" + UUID.randomUUID();
        this.receiver = receiver;
        try {
            this.consumer = messageLog.consume(BATCH, this::take);
        } catch (IOException | JetStreamApiException e) {
            throw new IllegalStateException("cannot read the cluster's message stream: " + e.getMessage(), e);
        }
    }

    /** Appends a QoS 1/2 message of a client of this node; completes once the stream has stored it. */
    public CompletableFuture<Void> append(long productId, String topic, byte[] payload, int qos) {
        Headers headers = new Headers().put(RouteBus.ORIGIN, origin).put(QOS, String.valueOf(qos));
        String subject = subjects.topic(Subjects.Kind.QOS1, productId, topic);
        if (subject.equals(subjects.longSubject(Subjects.Kind.QOS1, productId))) {
            headers.put(RouteBus.TOPIC, topic);
        }
        return messageLog.append(subject, headers, payload, origin + ":" + ids.incrementAndGet())
                .handle((ack, failed) -> {
                    if (failed != null) {
                        appendsFailed.increment();
                        throw new IllegalStateException("the cluster's message log did not take it: " + failed.getMessage(), failed);
                    }
                    appended.increment();
                    return null;
                });
    }

    private void take(Message m) {
        Headers h = m.getHeaders();
        if (h == null || origin.equals(h.getFirst(RouteBus.ORIGIN))) {
            m.ack(); // this node's own: delivered here when it was published
            return;
        }
        if (m.metaData().deliveredCount() > 1) {
            redelivered.increment();
        }
        Subjects.Decoded d = subjects.decode(m.getSubject());
        String topic = d == null ? null : d.topic() != null ? d.topic() : h.getFirst(RouteBus.TOPIC);
        int qos = parseQos(h.getFirst(QOS));
        if (d == null || d.kind() != Subjects.Kind.QOS1 || topic == null || qos == 0) {
            m.ack(); // not a message of ours: nothing to deliver
            return;
        }
        received.increment();
        receiver.received(d.productId(), topic, m.getData() == null ? new byte[0] : m.getData(), qos)
                .whenComplete((v, failed) -> {
                    if (failed == null) {
                        m.ack();
                    } else {
                        m.nak(); // comes again; what was delivered meanwhile comes twice, as QoS 1 allows
                    }
                });
    }

    /**
     * A survivor adopting a dead node's sessions: delivers here what that node's consumer still held (messages of other
     * nodes it had not queued yet), then deletes its consumer. Returns how many were delivered.
     */
    public int drain(String deadNode, Duration ackWait, BooleanSupplier stillDead)
            throws IOException, JetStreamApiException, InterruptedException {
        int[] delivered = {0};
        messageLog.drain(deadNode, ackWait, stillDead, m -> {
            Headers h = m.getHeaders();
            Subjects.Decoded d = subjects.decode(m.getSubject());
            String topic = d == null || h == null ? null : d.topic() != null ? d.topic() : h.getFirst(RouteBus.TOPIC);
            int qos = h == null ? 0 : parseQos(h.getFirst(QOS));
            if (topic != null && qos > 0 && !origin.equals(h.getFirst(RouteBus.ORIGIN))) {
                try {
                    receiver.received(d.productId(), topic, m.getData() == null ? new byte[0] : m.getData(), qos)
                            .get(10, java.util.concurrent.TimeUnit.SECONDS);
                    delivered[0]++;
                } catch (Exception e) {
                    log.warn("a message of a dead node's consumer was not queued here: {}", e.toString());
                }
            }
            m.ack();
        });
        return delivered[0];
    }

    private static int parseQos(String qos) {
        return "1".equals(qos) ? 1 : "2".equals(qos) ? 2 : 0;
    }

    /** Messages appended, appends the stream refused or did not answer, messages of other nodes read, and read again. */
    public long appendedCount() {
        return appended.sum();
    }

    public long appendsFailedCount() {
        return appendsFailed.sum();
    }

    public long receivedCount() {
        return received.sum();
    }

    public long redeliveredCount() {
        return redelivered.sum();
    }

    /**
     * Reads the node's consumer again, made anew if it is gone: after this node was taken for dead (frozen, or cut off
     * from NATS for longer than the lease), a survivor deleted it while draining it.
     */
    /** Reads the node's consumer again when it is gone ({@link #resume}); true when it was. */
    public boolean resumeIfDeleted(Runnable recreate) {
        if (messageLog.consumerExists()) {
            return false;
        }
        resume(recreate);
        return true;
    }

    public synchronized void resume(Runnable recreate) {
        consumer.stop();
        recreate.run();
        try {
            consumer = messageLog.consume(BATCH, this::take);
        } catch (IOException | JetStreamApiException e) {
            log.warn("reading the cluster's message stream again failed: {}", e.toString());
        }
    }

    @Override
    public void close() {
        consumer.stop();
    }
}
