package io.stratus.cluster;

import io.nats.client.Connection;
import io.nats.client.Dispatcher;
import io.nats.client.Message;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.UUID;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Requests from one node to another over core NATS, addressed to a node's incarnation (its name and this start of it):
 * {@code <prefix>.c.node.<incarnation>.<kind>}. A request to an incarnation that is gone fails at once (NATS answers
 * "no responders"), which is how a node learns that the owner of a client id died.
 */
public final class NodeRequests implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(NodeRequests.class);

    private final Connection nats;
    private final Subjects subjects;
    private final String incarnation;
    private final List<Dispatcher> dispatchers = new CopyOnWriteArrayList<>();

    public NodeRequests(Connection nats, Subjects subjects, String node) {
        this.nats = nats;
        this.subjects = subjects;
        this.incarnation = node + "/" + UUID.randomUUID();
    }

    /** This node's incarnation: the owner written beside the client ids it holds. */
    public String incarnation() {
        return incarnation;
    }

    /** Answers requests of {@code kind} to this node with {@code handler}, on a NATS thread of that kind's own. */
    public void serve(String kind, UnaryOperator<String> handler) {
        Dispatcher d = nats.createDispatcher();
        dispatchers.add(d);
        d.subscribe(subject(incarnation, kind), m -> answer(m, handler));
    }

    /** Whether a request failed because nobody serves that incarnation: the node is gone (NATS's 503). */
    public static boolean gone(Throwable failure) {
        Throwable cause = failure instanceof ExecutionException || failure instanceof CompletionException
                ? failure.getCause() : failure;
        return cause != null && String.valueOf(cause.getMessage()).contains("503");
    }

    /** Asks {@code incarnation}; fails when it is gone (no responders) or does not answer within {@code timeout}. */
    public CompletableFuture<String> ask(String incarnation, String kind, String body, Duration timeout) {
        return nats.requestWithTimeout(subject(incarnation, kind), body.getBytes(StandardCharsets.UTF_8), timeout)
                .thenApply(m -> m.getData() == null ? "" : new String(m.getData(), StandardCharsets.UTF_8));
    }

    private void answer(Message m, UnaryOperator<String> handler) {
        String reply;
        try {
            reply = handler.apply(m.getData() == null ? "" : new String(m.getData(), StandardCharsets.UTF_8));
        } catch (RuntimeException e) {
            log.warn("{}: request failed: {}", m.getSubject(), e.toString());
            reply = "error";
        }
        if (m.getReplyTo() != null) {
            nats.publish(m.getReplyTo(), reply.getBytes(StandardCharsets.UTF_8));
        }
    }

    private String subject(String incarnation, String kind) {
        return subjects.control("node") + "." + Subjects.token(incarnation) + "." + kind;
    }

    @Override
    public void close() {
        dispatchers.forEach(nats::closeDispatcher);
    }
}
