package io.stratus.broker;

import io.stratus.device.Credential;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A connection that keeps what the broker sends it in lists: the fake {@link Outbox} of unit tests. Calls may come
 * from any thread (the broker's reader, a command worker), so the lists are thread-safe.
 */
public final class ListOutbox implements Outbox {
    /** One PUBLISH as the broker handed it over. */
    public record Sent(Message message, int packetId, boolean dup) {}

    /** A close the broker asked for, with whether the will was to be published. */
    public record Closed(String reason, boolean publishWill) {}

    private final Credential credential;
    private final List<Sent> published = new CopyOnWriteArrayList<>();
    private final List<Message> direct = new CopyOnWriteArrayList<>();
    private final List<Integer> pubrels = new CopyOnWriteArrayList<>();
    private final List<Closed> closed = new CopyOnWriteArrayList<>();
    private volatile boolean writable = true;

    public ListOutbox() {
        this(new Credential(Credential.Kind.AUTH_INFO, "digest"));
    }

    public ListOutbox(Credential credential) {
        this.credential = credential;
    }

    /** The PUBLISHes sent through a subscription (or a retained delivery), in order. */
    public List<Sent> published() {
        return List.copyOf(published);
    }

    /** The topics of {@link #published}, in order. */
    public List<String> topics() {
        return published.stream().map(s -> s.message().topic()).toList();
    }

    /** The messages sent outside any subscription ({@code $creq/...}). */
    public List<Message> direct() {
        return List.copyOf(direct);
    }

    public List<Integer> pubrels() {
        return List.copyOf(pubrels);
    }

    public List<Closed> closed() {
        return List.copyOf(closed);
    }

    public void writable(boolean now) {
        writable = now;
    }

    @Override
    public void publish(Message message, int packetId, boolean dup) {
        published.add(new Sent(message, packetId, dup));
    }

    @Override
    public CompletableFuture<Void> sendDirect(Message message) {
        direct.add(message);
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public void pubrel(int packetId) {
        pubrels.add(packetId);
    }

    @Override
    public boolean isWritable() {
        return writable;
    }

    @Override
    public void close(String reason) {
        close(reason, true);
    }

    @Override
    public void close(String reason, boolean publishWill) {
        closed.add(new Closed(reason, publishWill));
    }

    @Override
    public Credential credential() {
        return credential;
    }
}
