package io.stratus.mqtt;

import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * Acknowledgements of incoming PUBLISHes in the order the PUBLISHes arrived [MQTT-4.6.0-2], even when
 * their storage completes out of order. Used only on the connection's event loop.
 */
final class AckQueue {
    private record Pending(CompletableFuture<Void> stored, Runnable ack, Consumer<Throwable> fail, int bytes) {}

    private final ArrayDeque<Pending> pending = new ArrayDeque<>(2); // grows when used; idle connections are many
    private long bytes;

    /** {@code bytes}: the PUBLISH's payload, held until its storage finishes. */
    void add(CompletableFuture<Void> stored, Runnable ack, Consumer<Throwable> fail, int bytes) {
        pending.addLast(new Pending(stored, ack, fail, bytes));
        this.bytes += bytes;
    }

    int size() {
        return pending.size();
    }

    /** Payload bytes of the PUBLISHes not yet acknowledged. */
    long bytes() {
        return bytes;
    }

    /**
     * Whether the connection should stop reading: {@code maxCount} PUBLISHes or {@code maxBytes} of their payloads wait
     * for the store (payloads waiting are heap: a publisher of large messages waits, as one of many does).
     */
    boolean full(int maxCount, long maxBytes) {
        return pending.size() >= maxCount || bytes >= maxBytes;
    }

    /** Whether a connection that stopped reading ({@link #full}) may read again: below half of both limits. */
    boolean drained(int maxCount, long maxBytes) {
        return pending.size() < maxCount / 2 && bytes < maxBytes / 2;
    }

    /** Sends every acknowledgement at the head whose storage has finished; stops at the first failure. */
    void release() {
        while (!pending.isEmpty() && pending.peekFirst().stored.isDone()) {
            Pending p = pending.pollFirst();
            bytes -= p.bytes;
            Throwable failure = p.stored.handle((v, e) -> e).join();
            if (failure != null) {
                clear();
                p.fail.accept(failure instanceof java.util.concurrent.CompletionException ? failure.getCause() : failure);
                return;
            }
            p.ack.run();
        }
    }

    void clear() {
        pending.clear();
        bytes = 0;
    }
}
