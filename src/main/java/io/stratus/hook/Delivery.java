package io.stratus.hook;

import io.stratus.Config;
import io.stratus.monitor.Worker;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;
import org.eclipse.jetty.client.BytesRequestContent;
import org.eclipse.jetty.client.CompletableResponseListener;
import org.eclipse.jetty.client.ContentResponse;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.client.Result;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.util.Promise;
import org.eclipse.jetty.util.SocketAddressResolver;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.eclipse.jetty.util.thread.ScheduledExecutorScheduler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one way out for trigger and data-push requests: a bounded queue of POSTs, a small fixed pool of sender
 * threads on one Jetty {@link HttpClient} (connect and request timeouts, HTTP/1.1, redirects not followed), and
 * bounded retries with exponential back-off. {@link #post} never blocks: when the queue is full the post is
 * dropped, counted, and logged at most once per {@value #DROP_LOG_EVERY} drops. A retry waits on a timer, not on a
 * sender, so that a slow receiver costs its request timeouts only. Success is any 2xx reply (OneNET's receivers
 * answer 200; anything else makes OneNET resend, and so does Stratus, up to {@code hook.attempts} tries).
 *
 * <p>{@code hook.deny-networks} is enforced where the client resolves a host for a new connection: every address
 * the name resolves to is checked and the connection goes to one of those checked addresses, while the Host header
 * and TLS SNI and certificate check keep the URL's name. So a name pointing at a denied address, or re-pointed there
 * after the URL was accepted (DNS rebinding), never gets a connection. (The JDK's HttpClient resolves internally,
 * forbids setting Host, and on Java 17 has no resolver hook; checking before it resolves again would leave a race.)
 * A refused post fails at once, without retries, and is logged once per target per {@value #DENIED_LOG_MILLIS} ms.
 * Resolution runs on the client's own pool ({@code hook-http}), never on the caller's thread or a Netty event loop.
 */
public final class Delivery implements AutoCloseable {
    /** A drop is logged on the first one and then once per this many, so a dead receiver cannot flood the log. */
    static final int DROP_LOG_EVERY = 1000;
    /** A target refused by {@code hook.deny-networks} is logged at most once per this long, not per message. */
    static final long DENIED_LOG_MILLIS = 60_000;
    /** The largest reply body read for the push URL verification (the echo of a 16-character msg). */
    static final int MAX_VERIFY_REPLY_BYTES = 64 * 1024;

    private static final Logger log = LoggerFactory.getLogger(Delivery.class);

    /** Counters since start; {@code denied} posts (refused by {@code hook.deny-networks}) are counted in failed too. */
    public record Stats(long delivered, long failed, long dropped, long retried, long denied, int queued) {
    }

    /** A reply to {@link #get}: the status and the body as text. */
    public record Reply(int status, String body) {
    }

    private record Post(URI url, byte[] body, String what, int attempt) {
        Post next() {
            return new Post(url, body, what, attempt + 1);
        }
    }

    private final HttpClient client;
    private final Config.HookSettings settings;
    private final BlockingQueue<Post> queue;
    private final List<Worker> senders = new ArrayList<>();
    private final ScheduledExecutorService retries;
    private final LongAdder delivered = new LongAdder();
    private final LongAdder failed = new LongAdder();
    private final LongAdder dropped = new LongAdder();
    private final LongAdder retried = new LongAdder();
    private final LongAdder denied = new LongAdder();
    /** When each refused target (by {@code what}) was last logged. */
    private final Map<String, Long> deniedLoggedAt = new ConcurrentHashMap<>();
    private final DeliveryLog recent;
    private volatile boolean closed;

    /** {@code networks}: the addresses never connected to ({@code hook.deny-networks}). */
    public Delivery(Config.HookSettings settings, NetworkPolicy networks) {
        this.recent = new DeliveryLog(settings.recentTargets());
        this.settings = settings;
        this.client = client(settings, networks);
        this.queue = new ArrayBlockingQueue<>(settings.queueCapacity());
        this.retries = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "hook-retry"));
        for (int i = 0; i < settings.senders(); i++) {
            senders.add(Worker.start("hook-sender-" + i, this::sendOne));
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
     * A synchronous GET with the same client, timeouts and network policy, for checks made while a caller waits
     * (the data-push URL verification). Returns the status and body (at most {@value #MAX_VERIFY_REPLY_BYTES}
     * bytes); throws {@link NetworkPolicy.Denied} when the host is in a denied network, another {@link IOException}
     * when the receiver cannot be reached.
     */
    public Reply get(URI url) throws IOException, InterruptedException {
        Request request = client.newRequest(url).method(HttpMethod.GET).timeout(settings.timeout().toMillis(), TimeUnit.MILLISECONDS);
        try {
            ContentResponse reply = new CompletableResponseListener(request, MAX_VERIFY_REPLY_BYTES).send().get();
            return new Reply(reply.getStatus(), reply.getContentAsString());
        } catch (ExecutionException e) {
            throw ioException(e.getCause());
        }
    }

    public Stats stats() {
        return new Stats(delivered.sum(), failed.sum(), dropped.sum(), retried.sum(), denied.sum(), queue.size());
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
        outcome(what, "dropped: hook queue full", 0);
        long n = dropped.sum();
        if (n == 1 || n % DROP_LOG_EVERY == 0) {
            log.warn("Hook queue full ({} posts): {} dropped so far, latest {} to {}", settings.queueCapacity(), n, what,
                    url.getHost());
        }
    }

    private void outcome(String what, String problem, int attempts) {
        recent.record(what, new DeliveryLog.Outcome(System.currentTimeMillis(), problem == null, problem, attempts,
                what.startsWith("test of ")));
    }

    /** The last outcomes per target. */
    DeliveryLog recent() {
        return recent;
    }

    /** The sender threads, for readiness and tests. */
    List<Worker> senders() {
        return senders;
    }

    /** One post, taken from the queue (waiting for one); false once closed. */
    private boolean sendOne() throws InterruptedException {
        if (closed) {
            return false;
        }
        Post post = queue.take();
        String problem;
        try {
            problem = attempt(post);
        } catch (NetworkPolicy.Denied e) {
            refused(post, e);
            return true;
        }
        if (problem == null) {
            delivered.increment();
            outcome(post.what, null, post.attempt);
        } else if (closed) {
            return false;
        } else if (post.attempt < settings.attempts()) {
            retried.increment();
            long delay = settings.retryDelay().toMillis() << Math.min(post.attempt - 1, 16);
            log.debug("{} to {} failed ({}), try {} of {} in {} ms", post.what, post.url, problem, post.attempt + 1,
                    settings.attempts(), delay);
            try {
                retries.schedule(() -> offer(post.next()), delay, TimeUnit.MILLISECONDS);
            } catch (RejectedExecutionException e) {
                return false; // closed meanwhile
            }
        } else {
            failed.increment();
            outcome(post.what, problem, post.attempt);
            log.warn("{} to {} not delivered after {} tries: {}", post.what, post.url, post.attempt, problem);
        }
        return true;
    }

    /** One try: null when delivered, else what went wrong; {@link NetworkPolicy.Denied} when it must not be tried. */
    private String attempt(Post post) throws NetworkPolicy.Denied {
        CompletableFuture<Result> done = new CompletableFuture<>();
        // The request timeout bounds the whole exchange, so done completes; the reply body is read and discarded.
        client.newRequest(post.url)
                .method(HttpMethod.POST)
                .timeout(settings.timeout().toMillis(), TimeUnit.MILLISECONDS)
                .body(new BytesRequestContent("application/json", post.body))
                .send(done::complete);
        try {
            Result result = done.get();
            if (result.isFailed()) {
                IOException e = ioException(result.getFailure());
                if (e instanceof NetworkPolicy.Denied d) {
                    throw d;
                }
                return e.toString();
            }
            int status = result.getResponse().getStatus();
            return status / 100 == 2 ? null : "HTTP " + status;
        } catch (ExecutionException e) {
            return e.getCause().toString(); // not reached: done is only ever completed normally
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    /** A post refused by {@code hook.deny-networks}: failed for good, logged once per target per minute. */
    private void refused(Post post, NetworkPolicy.Denied e) {
        failed.increment();
        outcome(post.what, "refused: " + e.getMessage(), post.attempt);
        denied.increment();
        long now = System.currentTimeMillis();
        boolean[] logNow = {false};
        deniedLoggedAt.compute(post.what, (what, last) -> {
            logNow[0] = last == null || now - last >= DENIED_LOG_MILLIS;
            return logNow[0] ? now : last;
        });
        if (logNow[0]) {
            log.warn("{} to {} refused, not sent and not retried: {} (refused posts so far: {}; logged at most once a "
                    + "minute per target)", post.what, post.url.getHost(), e.getMessage(), denied.sum());
            if (deniedLoggedAt.size() > 10_000) { // targets come and go: forget those not refused for a minute
                deniedLoggedAt.values().removeIf(t -> now - t >= DENIED_LOG_MILLIS);
            }
        } else {
            log.debug("{} to {} refused: {}", post.what, post.url.getHost(), e.getMessage());
        }
    }

    /** The failure of an exchange as an IOException: the policy's refusal is found wherever Jetty wrapped it. */
    private static IOException ioException(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof NetworkPolicy.Denied d) {
                return d;
            }
        }
        return failure instanceof IOException io ? io : new IOException(failure.toString(), failure);
    }

    /**
     * The HTTP client: its own small pool and timer ({@code hook-http}), HTTP/1.1 (no h2c upgrade that simple
     * receivers might mishandle), no redirects (a 3xx is a failed post, so no redirect can lead to a denied
     * address), and the resolver that checks every address against {@code hook.deny-networks}.
     */
    private static HttpClient client(Config.HookSettings settings, NetworkPolicy policy) {
        long timeout = settings.timeout().toMillis();
        QueuedThreadPool pool = new QueuedThreadPool(Math.max(8, 2 * settings.senders() + 4), 2);
        pool.setName("hook-http");
        pool.setDaemon(true);
        ScheduledExecutorScheduler timer = new ScheduledExecutorScheduler("hook-http-timer", true);
        SocketAddressResolver dns = new SocketAddressResolver.Async(pool, timer, timeout);
        HttpClient client = new HttpClient();
        client.setExecutor(pool);
        client.setScheduler(timer);
        client.setConnectTimeout(timeout);
        client.setAddressResolutionTimeout(timeout);
        client.setFollowRedirects(false);
        client.setUserAgentField(new HttpField(HttpHeader.USER_AGENT, "Stratus"));
        client.setSocketAddressResolver((host, port, context, promise) -> dns.resolve(host, port, context, new Promise<>() {
            @Override
            public void succeeded(List<InetSocketAddress> addresses) {
                try {
                    policy.check(host, addresses);
                } catch (NetworkPolicy.Denied e) {
                    promise.failed(e);
                    return;
                }
                promise.succeeded(addresses);
            }

            @Override
            public void failed(Throwable x) {
                promise.failed(x);
            }
        }));
        try {
            client.start();
        } catch (Exception e) {
            throw new IllegalStateException("cannot start the hook HTTP client: " + e, e);
        }
        return client;
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
        senders.forEach(Worker::stop);
        try {
            client.stop(); // aborts what is in flight
        } catch (Exception e) {
            log.debug("hook HTTP client stop: {}", e.toString());
        }
        int left = queue.size();
        queue.clear();
        if (left > 0) {
            dropped.add(left);
            log.info("{} hook posts not sent at shutdown", left);
        }
    }
}
