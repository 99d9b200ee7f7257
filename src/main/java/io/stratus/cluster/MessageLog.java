package io.stratus.cluster;

import io.nats.client.Connection;
import io.nats.client.JetStream;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamManagement;
import io.nats.client.JetStreamSubscription;
import io.nats.client.ConsumeOptions;
import io.nats.client.Message;
import io.nats.client.MessageConsumer;
import io.nats.client.MessageHandler;
import io.nats.client.PublishOptions;
import io.nats.client.PullSubscribeOptions;
import io.nats.client.api.AckPolicy;
import io.nats.client.api.ConsumerInfo;
import io.nats.client.api.ConsumerConfiguration;
import io.nats.client.api.DeliverPolicy;
import io.nats.client.api.DiscardPolicy;
import io.nats.client.api.PublishAck;
import io.nats.client.api.RetentionPolicy;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import io.nats.client.impl.Headers;
import io.nats.client.impl.NatsMessage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * The cluster's log of QoS 1 and 2 messages (docs/cluster.md): one JetStream stream, {@value #STREAM}, holding every
 * {@code <prefix>.q.>} subject, and one durable pull consumer per node, however many sessions the node holds (a
 * consumer is a replicated state machine in NATS; one per session would not scale). A message counts as accepted
 * once {@link #append} completes: the stream has it, so a PUBACK may go. A node reads every message of the log and
 * matches it against its own sessions.
 *
 * <p>Opening creates the stream and the node's consumer, or updates them to the given {@link Settings}; a node that
 * restarts binds to its consumer again and goes on where it stopped.
 */
public final class MessageLog {
    public static final String STREAM = "STRATUS_MSG";

    /**
     * @param replicas         copies of the stream: 1 on one nats-server, 3 on a NATS cluster of 3
     * @param maxAge           how long an unacknowledged message is kept at most (long enough to adopt a dead node's)
     * @param maxBytes         what may wait unacknowledged at most: when full, new messages are refused (never old ones
     *                         dropped)
     * @param duplicateWindow  a message appended again with the same id within this is stored once
     * @param ackWait          a message read but not acknowledged within this is delivered again
     * @param maxAckPending    messages a node may hold read but not acknowledged
     */
    public record Settings(int replicas, Duration maxAge, long maxBytes, Duration duplicateWindow, Duration ackWait,
                           long maxAckPending) {}

    /** "stream not found" of the JetStream API. */
    private static final int STREAM_NOT_FOUND = 10059;
    /** "consumer not found" of the JetStream API. */
    private static final int CONSUMER_NOT_FOUND = 10014;

    private final Connection nats;
    private final JetStream jetStream;
    private final String consumerName;
    private JetStreamSubscription fetching; // made at the first read

    private MessageLog(Connection nats, JetStream jetStream, String consumerName) {
        this.nats = nats;
        this.jetStream = jetStream;
        this.consumerName = consumerName;
    }

    /** Opens the log for node {@code node} on {@code nats}, creating or updating the stream and the node's consumer. */
    public static MessageLog open(Connection nats, Subjects subjects, String node, Settings settings)
            throws IOException, JetStreamApiException {
        JetStreamManagement management = nats.jetStreamManagement();
        StreamConfiguration stream = StreamConfiguration.builder()
                .name(STREAM)
                .subjects(subjects.all(Subjects.Kind.QOS1))
                .storageType(StorageType.File)
                // A message goes once every node's consumer acknowledged it: the stream holds what some node still owes,
                // not an hour of traffic (age and size remain the bounds for a node that stopped reading).
                .retentionPolicy(RetentionPolicy.Interest)
                .discardPolicy(DiscardPolicy.New)
                .replicas(settings.replicas())
                .maxAge(settings.maxAge())
                .maxBytes(settings.maxBytes())
                .duplicateWindow(settings.duplicateWindow())
                .build();
        try {
            management.getStreamInfo(STREAM);
            management.updateStream(stream);
        } catch (JetStreamApiException e) {
            if (e.getApiErrorCode() != STREAM_NOT_FOUND) {
                throw e;
            }
            management.addStream(stream);
        }
        String name = consumerName(node);
        management.addOrUpdateConsumer(STREAM, ConsumerConfiguration.builder()
                .durable(name)
                .filterSubject(subjects.all(Subjects.Kind.QOS1))
                .deliverPolicy(DeliverPolicy.New)
                .ackPolicy(AckPolicy.Explicit)
                .ackWait(settings.ackWait())
                .maxAckPending(settings.maxAckPending())
                .build());
        return new MessageLog(nats, nats.jetStream(), name);
    }

    /**
     * Appends a message; completes when the stream has stored it. {@code messageId} (unique per message and ingress
     * node, e.g. node, incarnation and a sequence) makes a retry within the duplicate window a no-op that still
     * completes, with {@link PublishAck#isDuplicate()}.
     */
    public CompletableFuture<PublishAck> append(String subject, byte[] body, String messageId) {
        return jetStream.publishAsync(subject, body, PublishOptions.builder().messageId(messageId).build());
    }

    /** {@link #append} with headers. */
    public CompletableFuture<PublishAck> append(String subject, Headers headers, byte[] body, String messageId) {
        return jetStream.publishAsync(NatsMessage.builder().subject(subject).headers(headers).data(body).build(),
                PublishOptions.builder().messageId(messageId).build());
    }

    /** Up to {@code max} messages this node has not read yet, waiting at most {@code wait}; each must be acked. */
    public synchronized List<Message> read(int max, Duration wait) throws IOException, JetStreamApiException {
        if (fetching == null) {
            fetching = jetStream.subscribe(null, PullSubscribeOptions.bind(STREAM, consumerName));
        }
        return fetching.fetch(max, wait);
    }

    /**
     * Hands each message this node has not read yet to {@code handler} as it arrives (on a NATS thread), keeping up to
     * {@code batch} requested ahead; each must be acked. Stop it with {@link MessageConsumer#stop()}.
     */
    public MessageConsumer consume(int batch, MessageHandler handler) throws IOException, JetStreamApiException {
        return nats.getConsumerContext(STREAM, consumerName)
                .consume(ConsumeOptions.builder().batchSize(batch).build(), handler);
    }

    /**
     * Reads what the consumer of node {@code node} (dead) still holds, unread or read and not acknowledged (those come
     * again after the ack wait, so this waits up to {@code ackWait} for them), handing each to {@code handler}, which
     * acknowledges it, after {@code eachRound} ran before each batch; then deletes that consumer. Returns how many; 0 when there is no such consumer.
     */
    public int drain(String node, Duration ackWait, BooleanSupplier stillDead, Runnable eachRound, Consumer<Message> handler)
            throws IOException, JetStreamApiException, InterruptedException {
        String name = consumerName(node);
        JetStreamManagement management = nats.jetStreamManagement();
        ConsumerInfo info;
        try {
            info = management.getConsumerInfo(STREAM, name);
        } catch (JetStreamApiException e) {
            return 0;
        }
        JetStreamSubscription sub = jetStream.subscribe(null, PullSubscribeOptions.bind(STREAM, name));
        long deadline = System.nanoTime() + ackWait.plusSeconds(5).toNanos();
        int n = 0;
        while ((info.getNumPending() > 0 || info.getNumAckPending() > 0) && System.nanoTime() < deadline
                && stillDead.getAsBoolean()) {
            eachRound.run();
            for (Message m : sub.fetch(256, Duration.ofSeconds(1))) {
                handler.accept(m);
                n++;
            }
            info = management.getConsumerInfo(STREAM, name);
        }
        sub.unsubscribe();
        if (stillDead.getAsBoolean()) { // a node that came back meanwhile goes on reading its consumer
            management.deleteConsumer(STREAM, name);
        }
        return n;
    }

    /** The sequence of the last message the stream stored. */
    public long lastSeq() {
        try {
            return nats.jetStreamManagement().getStreamInfo(STREAM).getStreamState().getLastSequence();
        } catch (IOException | JetStreamApiException e) {
            throw new IllegalStateException("the stream's state is out of reach: " + e.getMessage(), e);
        }
    }

    /** Where this node's consumer is: messages not yet delivered to it, delivered and unacknowledged, the last delivered. */
    public record Progress(long pending, long ackPending, long delivered) {}

    /** This node's consumer's {@link Progress}; null when it is gone (a survivor deleted it while draining it). */
    public Progress progress() throws IOException, JetStreamApiException {
        try {
            ConsumerInfo info = nats.jetStreamManagement().getConsumerInfo(STREAM, consumerName);
            return new Progress(info.getNumPending(), info.getNumAckPending(), info.getDelivered().getStreamSequence());
        } catch (JetStreamApiException e) {
            if (e.getApiErrorCode() == CONSUMER_NOT_FOUND) {
                return null;
            }
            throw e;
        }
    }

    /**
     * The durable consumer's name for a node name: characters outside {@code [A-Za-z0-9-]} (a host name's dots, the
     * port's colon) are written as {@code _XX} in hex, so names stay distinct and NATS accepts them.
     */
    static String consumerName(String node) {
        StringBuilder s = new StringBuilder("node-");
        for (byte b : node.getBytes(StandardCharsets.UTF_8)) {
            char c = (char) (b & 0xFF);
            if (c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
                s.append(c);
            } else {
                s.append('_').append(String.format("%02X", b & 0xFF));
            }
        }
        return s.toString();
    }
}
