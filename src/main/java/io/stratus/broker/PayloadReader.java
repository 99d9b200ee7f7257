package io.stratus.broker;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One thread that reads payloads the heap does not hold (queued messages of persistent sessions, large retained
 * messages) from the store when they are due, so that no event loop waits on the disk. Its queue is bounded: a
 * session has at most one read queued at a time, and {@link #submit} says false when the queue is full.
 */
final class PayloadReader implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(PayloadReader.class);
    private static final Runnable STOP = () -> { };

    private final BlockingQueue<Runnable> queue;
    private final Thread thread;

    PayloadReader(int capacity) {
        this.queue = new ArrayBlockingQueue<>(capacity);
        this.thread = new Thread(this::run, "broker-reader");
        thread.setDaemon(true);
        thread.start();
    }

    /** Queues a read; false when the queue is full (the caller gives up on it and says so). */
    boolean submit(Runnable read) {
        return queue.offer(read);
    }

    int queueDepth() {
        return queue.size();
    }

    private void run() {
        while (true) {
            Runnable read;
            try {
                read = queue.take();
            } catch (InterruptedException e) {
                return;
            }
            if (read == STOP) {
                return;
            }
            try {
                read.run();
            } catch (RuntimeException e) {
                log.warn("reading payloads from the store failed: {}", e.toString());
            }
        }
    }

    @Override
    public void close() {
        queue.clear();
        if (!queue.offer(STOP)) {
            thread.interrupt();
        }
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
