package io.stratus.hook;

import io.stratus.Config;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one way out for trigger and data-push requests: a bounded queue of POSTs, a small fixed pool of sender
 * threads on one JDK {@link HttpClient} (connect and request timeouts), and bounded retries with exponential
 * back-off. {@link #post} never blocks: when the queue is full the post is dropped, counted, and logged at most
 * once per {@value #DROP_LOG_EVERY} drops. A retry waits on a timer, not on a sender, so that a slow receiver costs
 * its request timeouts only. Success is any 2xx reply (OneNET's receivers answer 200; anything else makes OneNET
 * resend, and so does Stratus, up to {@code hook.attempts} tries).
 */
public final class Delivery implements AutoCloseable {
    /** A drop is logged on the first one and then once per this many, so a dead receiver cannot flood the log. */
    static final int DROP_LOG_EVERY = 1000;

    private static final Logger log = LoggerFactory.getLogger(Delivery.class);

    /** Counters since start. */
    public record Stats(long delivered, long failed, long dropped, long retried, int queued) {
    }

    private record Post(URI url, byte[] body, String what, int attempt) {
        Post next() {
            return new Post(url, body, what, attempt + 1);
        }
    }

    private final HttpClient client;
    private final Config.HookSettings settings;
    private final BlockingQueue<Post> queue;
    private final List<Thread> senders = new ArrayList<>();
    private final ScheduledExecutorService retries;
    private final LongAdder delivered = new LongAdder();
    private final LongAdder failed = new LongAdder();
    private final LongAdder dropped = new LongAdder();
    private final LongAdder retried = new LongAdder();
    private volatile boolean closed;

    public Delivery(Config.HookSettings settings) {
        this.settings = settings;
        this.client = HttpClient.newBuilder()
                .connectTimeout(settings.timeout())
                // Plain HTTP/1.1: no h2c upgrade attempt that simple receivers might mishandle.
                .version(HttpClient.Version.HTTP_1_1)
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();
        this.queue = new ArrayBlockingQueue<>(settings.queueCapacity());
        this.retries = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "hook-retry"));
        for (int i = 0; i < settings.senders(); i++) {
            Thread t = daemon(this::send, "hook-sender-" + i);
            senders.add(t);
            t.start();
        }
    }

    /**
     * Queues a JSON POST to {@code url}; false when it was dropped (queue full or closed). {@code what} names it
     * in log lines (never the body: it may carry device data).
     */
    public boolean post(URI url, byte[] json, String what) {
        return offer(new Post(url, json, what, 1));
    }

    /**
     * As {@link #post(URI, byte[], String)}, but the body is built only when the queue has room: a receiver that
     * has fallen behind then costs a counter increment per post, not the work of building bodies to drop.
     */
    public boolean post(URI url, Supplier<byte[]> json, String what) {
        if (closed || queue.remainingCapacity() == 0) {
            drop(url, what);
            return false;
        }
        return offer(new Post(url, json.get(), what, 1));
    }

    /**
     * A synchronous GET with the same client and timeouts, for checks made while a caller waits (the data-push URL
     * verification). Returns the status and body; throws {@link IOException} when the receiver cannot be reached.
     */
    public HttpResponse<String> get(URI url) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(url).timeout(settings.timeout()).GET().build();
        return client.send(request, HttpResponse.BodyHandlers.ofString());
    }

    public Stats stats() {
        return new Stats(delivered.sum(), failed.sum(), dropped.sum(), retried.sum(), queue.size());
    }

    private boolean offer(Post post) {
        if (!closed && queue.offer(post)) {
            return true;
        }
        drop(post.url, post.what);
        return false;
    }

    private void drop(URI url, String what) {
        dropped.increment();
        long n = dropped.sum();
        if (n == 1 || n % DROP_LOG_EVERY == 0) {
            log.warn("Hook queue full ({} posts): {} dropped so far, latest {} to {}", settings.queueCapacity(), n, what,
                    url.getHost());
        }
    }

    private void send() {
        while (!closed) {
            Post post;
            try {
                post = queue.take();
            } catch (InterruptedException e) {
                return;
            }
            String problem = attempt(post);
            if (problem == null) {
                delivered.increment();
            } else if (closed) {
                return;
            } else if (post.attempt < settings.attempts()) {
                retried.increment();
                long delay = settings.retryDelay().toMillis() << Math.min(post.attempt - 1, 16);
                log.debug("{} to {} failed ({}), try {} of {} in {} ms", post.what, post.url, problem, post.attempt + 1,
                        settings.attempts(), delay);
                try {
                    retries.schedule(() -> offer(post.next()), delay, TimeUnit.MILLISECONDS);
                } catch (RejectedExecutionException e) {
                    return; // closed meanwhile
                }
            } else {
                failed.increment();
                log.warn("{} to {} not delivered after {} tries: {}", post.what, post.url, post.attempt, problem);
            }
        }
    }

    /** One try: null when delivered, else what went wrong. */
    private String attempt(Post post) {
        HttpRequest request = HttpRequest.newBuilder(post.url)
                .timeout(settings.timeout())
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(post.body))
                .build();
        try {
            HttpResponse<Void> reply = client.send(request, HttpResponse.BodyHandlers.discarding());
            return reply.statusCode() / 100 == 2 ? null : "HTTP " + reply.statusCode();
        } catch (IOException e) {
            return e.toString();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    /** Stops at once: what is still queued or waiting for a retry is not sent (counted as dropped, logged). */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        retries.shutdownNow();
        senders.forEach(Thread::interrupt);
        int left = queue.size();
        queue.clear();
        if (left > 0) {
            dropped.add(left);
            log.info("{} hook posts not sent at shutdown", left);
        }
    }
}
