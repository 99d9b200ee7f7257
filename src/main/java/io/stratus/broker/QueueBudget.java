package io.stratus.broker;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The queued QoS 1/2 messages of one product's sessions, in count and payload bytes, against {@code
 * product.max-queued} and {@code product.max-queued-bytes}: what one tenant's queues may hold however many sessions
 * it has. In-flight messages do not count (they are bounded per session by the window), so a fast subscriber never
 * queues against it. Lock-free: sessions of one product reserve from their own threads.
 */
final class QueueBudget {
    private final int maxMessages;
    private final long maxBytes;
    private final AtomicLong messages = new AtomicLong();
    private final AtomicLong bytes = new AtomicLong();

    QueueBudget(int maxMessages, long maxBytes) {
        this.maxMessages = maxMessages;
        this.maxBytes = maxBytes;
    }

    /** Takes one message of {@code size} bytes; false (and nothing taken) when that would pass a limit. */
    boolean reserve(int size) {
        if (messages.incrementAndGet() > maxMessages) {
            messages.decrementAndGet();
            return false;
        }
        if (bytes.addAndGet(size) > maxBytes) {
            bytes.addAndGet(-size);
            messages.decrementAndGet();
            return false;
        }
        return true;
    }

    void release(int size) {
        messages.decrementAndGet();
        bytes.addAndGet(-size);
    }

    long messages() {
        return messages.get();
    }

    long bytes() {
        return bytes.get();
    }
}
