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

    /**
     * Told of every QoS 1/2 message read from node {@code node}'s consumer (this node's own, or a dead node's being
     * drained), with its stream sequence: sessions that left that node may still be owed it. Completes once it was sent
     * on.
     */
    public interface Handovers {
        CompletableFuture<Void> owed(String node, long productId, String topic, byte[] payload, int qos, long seq);
    }

    static final String QOS = "Stratus-QoS";
    private static final Logger log = LoggerFactory.getLogger(LogBus.class);
    private static final int BATCH = 256;
    private static final CompletableFuture<Void> NOTHING = CompletableFuture.completedFuture(null);

    private final MessageLog messageLog;
    private final Subjects subjects;
    private final String origin;
    private final Receiver receiver;
    private final Handovers handovers;
    private final String node;
    private final AtomicLong ids = new AtomicLong();
    private final LongAdder appended = new LongAdder();
    private final LongAdder appendsFailed = new LongAdder();
    private final LongAdder received = new LongAdder();
    private final LongAdder redelivered = new LongAdder();
    private volatile MessageConsumer consumer;
    private volatile boolean reading = true;
    private volatile MessageLog.Progress lastLook;
    /** Messages of the consumer being handled now: done once what they owe is stored or sent on. */
    private final java.util.Set<CompletableFuture<Void>> handling = java.util.concurrent.ConcurrentHashMap.newKeySet();

    public LogBus(MessageLog messageLog, Subjects subjects, String node, Receiver receiver, Handovers handovers) {
        this.messageLog = messageLog;
        this.node = node;
        this.handovers = handovers;
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

    /** Completes once every message this node began to handle before the call is handled. */
    public CompletableFuture<Void> settled() {
        return CompletableFuture.allOf(handling.toArray(CompletableFuture[]::new));
    }

    private void take(Message m) {
        CompletableFuture<Void> handled = new CompletableFuture<>();
        handling.add(handled);
        CompletableFuture<Void> done;
        try {
            done = handle(m);
        } catch (RuntimeException e) { // e.g. the store restarting: the message comes again
            log.warn("a message of the stream was not handled: {}", e.toString());
            done = CompletableFuture.failedFuture(e);
        }
        done.whenComplete((v, failed) -> {
            if (failed == null) {
                m.ack();
            } else {
                m.nak(); // comes again; what was delivered meanwhile comes twice, as QoS 1 allows
            }
            handling.remove(handled);
            handled.complete(null);
        });
    }

    private CompletableFuture<Void> handle(Message m) {
        Read r = read(m);
        if (r == null) {
            return NOTHING; // not a message of ours: nothing to deliver
        }
        CompletableFuture<Void> owed = handovers.owed(node, r.productId, r.topic, r.payload, r.qos, r.seq);
        if (origin.equals(m.getHeaders().getFirst(RouteBus.ORIGIN))) {
            return owed; // this node's own: delivered here when it was published
        }
        if (m.metaData().deliveredCount() > 1) {
            redelivered.increment();
        }
        received.increment();
        return CompletableFuture.allOf(owed, receiver.received(r.productId, r.topic, r.payload, r.qos));
    }

    /** A QoS 1/2 message of the stream as its subject and headers name it. */
    private record Read(long productId, String topic, byte[] payload, int qos, long seq) {}

    /** What {@code m} carries; null when it is not a QoS 1/2 message of this cluster's. */
    private Read read(Message m) {
        Headers h = m.getHeaders();
        Subjects.Decoded d = subjects.decode(m.getSubject());
        String topic = d == null || h == null ? null : d.topic() != null ? d.topic() : h.getFirst(RouteBus.TOPIC);
        int qos = h == null ? 0 : parseQos(h.getFirst(QOS));
        if (d == null || d.kind() != Subjects.Kind.QOS1 || topic == null || qos == 0) {
            return null;
        }
        return new Read(d.productId(), topic, m.getData() == null ? new byte[0] : m.getData(), qos,
                m.metaData().streamSequence());
    }

    /**
     * A survivor adopting a dead node's sessions: sends what that node's consumer still held to the sessions that left
     * it (its sessions this node adopted among them; see {@link Handovers}), then deletes its consumer unless the node
     * came back; {@code eachRound} runs before each batch (sessions that left it may still be recorded meanwhile).
     * Returns how many messages it read, or -1 when it stopped because the node came back.
     */
    public int drain(String deadNode, Duration ackWait, BooleanSupplier stillDead, Runnable eachRound)
            throws IOException, JetStreamApiException, InterruptedException {
        int[] read = {0};
        messageLog.drain(deadNode, ackWait, stillDead, eachRound, m -> {
            Read r = read(m);
            if (r != null) {
                try {
                    handovers.owed(deadNode, r.productId, r.topic, r.payload, r.qos, r.seq)
                            .get(30, java.util.concurrent.TimeUnit.SECONDS);
                } catch (Exception e) {
                    log.warn("a message of a dead node's consumer was not handed on: {}", e.toString());
                }
            }
            read[0]++;
            m.ack();
        });
        return stillDead.getAsBoolean() ? read[0] : -1;
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
     * Every heartbeat: reads the node's consumer again, made anew by {@code recreate} if it is gone, when it is not
     * being read: a survivor deleted it while this node was taken for dead (frozen, or cut off from NATS for longer than
     * the lease), reading it again failed, or it stalled (messages wait, none is in flight, and none was delivered since
     * the last look, as after a restart of the nats-server). Returns why it was read again, or null when it was fine.
     */
    public String resumeIfNotReading(Runnable recreate) {
        MessageLog.Progress now;
        try {
            now = messageLog.progress();
        } catch (IOException | JetStreamApiException e) {
            return null; // NATS is away: the reconnection reads the consumer again anyway
        }
        MessageLog.Progress before = lastLook;
        lastLook = now;
        String why = now == null ? "it was deleted (this node was taken for dead)" : !reading ? "reading it failed before"
                : before != null && now.pending() > 0 && now.ackPending() == 0 && now.delivered() == before.delivered()
                ? "it stalled" : null;
        if (why != null) {
            resume(recreate);
            lastLook = null;
        }
        return why;
    }

    public synchronized void resume(Runnable recreate) {
        consumer.stop();
        try {
            recreate.run();
            consumer = messageLog.consume(BATCH, this::take);
            reading = true;
        } catch (IOException | JetStreamApiException | RuntimeException e) {
            reading = false; // tried again at the next heartbeat
            log.warn("reading the cluster's message stream again failed: {}", e.toString());
        }
    }

    @Override
    public void close() {
        consumer.stop();
    }
}
