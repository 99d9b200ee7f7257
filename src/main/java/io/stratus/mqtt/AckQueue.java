package io.stratus.mqtt;

import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * Acknowledgements of incoming PUBLISHes in the order the PUBLISHes arrived [MQTT-4.6.0-2], even when
 * their storage completes out of order. Used only on the connection's event loop.
 */
final class AckQueue {
    private record Pending(CompletableFuture<Void> stored, Runnable ack, Consumer<Throwable> fail) {}

    private final ArrayDeque<Pending> pending = new ArrayDeque<>(2); // grows when used; idle connections are many

    void add(CompletableFuture<Void> stored, Runnable ack, Consumer<Throwable> fail) {
        pending.addLast(new Pending(stored, ack, fail));
    }

    int size() {
        return pending.size();
    }

    /** Sends every acknowledgement at the head whose storage has finished; stops at the first failure. */
    void release() {
        while (!pending.isEmpty() && pending.peekFirst().stored.isDone()) {
            Pending p = pending.pollFirst();
            Throwable failure = p.stored.handle((v, e) -> e).join();
            if (failure != null) {
                pending.clear();
                p.fail.accept(failure instanceof java.util.concurrent.CompletionException ? failure.getCause() : failure);
                return;
            }
            p.ack.run();
        }
    }

    void clear() {
        pending.clear();
    }
}
