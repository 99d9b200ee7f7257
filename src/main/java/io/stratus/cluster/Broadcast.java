package io.stratus.cluster;

import io.nats.client.Connection;
import io.nats.client.Dispatcher;
import io.nats.client.Message;
import io.nats.client.impl.Headers;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Short text messages from one node to all others on one subject over core NATS, such as "device 42 changed": at most
 * once, a node's own dropped. Each broadcast has its own NATS dispatcher thread, on which the receiver runs, so a slow
 * receiver delays only its own kind (and NATS's pending limits bound what waits; drops are counted).
 */
public final class Broadcast implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Broadcast.class);

    private final Connection nats;
    private final String subject;
    private final String origin;
    private final Dispatcher dispatcher;

    public Broadcast(Connection nats, String subject, String node, Consumer<String> receiver) {
        this.nats = nats;
        this.subject = subject;
        this.origin = node + "/" + UUID.randomUUID();
        this.dispatcher = nats.createDispatcher(m -> receive(m, receiver));
        dispatcher.subscribe(subject);
    }

    public void send(String text) {
        nats.publish(subject, new Headers().put(RouteBus.ORIGIN, origin), text.getBytes(StandardCharsets.UTF_8));
    }

    private void receive(Message m, Consumer<String> receiver) {
        if (m.getHeaders() == null || origin.equals(m.getHeaders().getFirst(RouteBus.ORIGIN)) || m.getData() == null) {
            return;
        }
        try {
            receiver.accept(new String(m.getData(), StandardCharsets.UTF_8));
        } catch (RuntimeException e) {
            log.warn("{}: a message from {} failed: {}", subject, m.getHeaders().getFirst(RouteBus.ORIGIN), e.toString());
        }
    }

    /** At most {@code messages} wait for the receiver; beyond, NATS drops them ({@link #droppedCount}). */
    public void pendingAtMost(long messages) {
        dispatcher.setPendingLimits(messages, io.nats.client.Consumer.DEFAULT_MAX_BYTES);
    }

    /** Messages NATS dropped before this node took them (its pending limits). */
    public long droppedCount() {
        return dispatcher.getDroppedCount();
    }

    @Override
    public void close() {
        nats.closeDispatcher(dispatcher);
    }
}
