package io.stratus.api;

import io.javalin.http.Context;
import io.stratus.Config;
import io.stratus.device.AdminAccount;
import io.stratus.device.Device;
import io.stratus.device.DeviceListener;
import io.stratus.device.DeviceRegistry;
import io.stratus.device.Product;
import io.stratus.telemetry.StoredPoint;
import io.stratus.telemetry.Telemetry;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /events[?product_id=]}: live events as Server-Sent Events (API "Live events", docs/decisions.md), for the
 * console and programs. Events: {@code device.online}, {@code device.offline} and {@code datapoint}, each one
 * JSON object. The credential may be the {@code token} query parameter, since EventSource cannot set headers; a
 * wrong one counts as a failed login ({@link LoginGuard}), as on every other route.
 *
 * <p>Events are produced on the MQTT event loops (presence) and the datapoint writer thread (after a commit),
 * which must never wait for a browser. So each stream has its own bounded queue that producers only
 * {@code offer} to, and its own thread (Javalin's async pool) that writes it out. When a slow stream's queue
 * is full, what it holds is dropped and counted, and the stream is told with a {@code dropped} event
 * ({@code {"count":n}}) so that it can re-read what it shows; no event older than that follows it. A comment line every
 * {@link #HEARTBEAT_MILLIS} keeps proxies from closing an idle stream.
 *
 * <p>Streams are bounded in all ({@code events.max-streams}), per product ({@code events.max-streams-per-product}) and
 * per credential ({@code events.max-streams-per-credential}), so that one product cannot hold every slot: beyond,
 * errno 13 (HTTP 503 for the server's bound, 429 for a product's or a credential's). A slot is freed as soon as the
 * client closes its connection ({@link Disconnects}), not at the next write. A stream whose credential stops
 * holding (logout, master key rotated, product deleted, session expired) ends with a last {@code revoked} event
 * ({@code {"reason":...}}): at once when the registry or a logout tells, else at its next event or heartbeat.
 */
public final class EventsApi implements AutoCloseable {
    static final int QUEUE_CAPACITY = 1024;
    static final long HEARTBEAT_MILLIS = 15_000;
    /** Events written per flush when a backlog has built up. */
    private static final int MAX_BATCH = 256;
    /** Queue markers, told apart from frames by identity: the end of the stream, and "events were lost here". */
    private static final String CLOSE = new String("close");
    private static final String DROPPED = new String("dropped");
    private static final String REVOKED = new String("revoked");
    private static final Logger log = LoggerFactory.getLogger(EventsApi.class);

    private final DeviceRegistry registry;
    private final AdminAccount admin;
    private final LoginGuard guard;
    private final Times times;
    private final Telemetry telemetry;
    private final Set<Stream> streams = ConcurrentHashMap.newKeySet();
    private final EventSlots slots;
    private final LongAdder dropped = new LongAdder();
    private volatile boolean closed;

    EventsApi(DeviceRegistry registry, AdminAccount admin, LoginGuard guard, Telemetry telemetry, Times times,
              Config.SharedLimits limits) {
        this.registry = registry;
        this.admin = admin;
        this.guard = guard;
        this.times = times;
        this.telemetry = telemetry;
        this.slots = new EventSlots(limits);
    }

    /** Presence events to stream, and the end of streams whose product was deleted. */
    public DeviceListener deviceEvents() {
        return new DeviceListener() {
            @Override
            public void online(Device d) {
                presence("device.online", d, d.lastLogin());
            }

            @Override
            public void offline(Device d) {
                presence("device.offline", d, d.lastLogout());
            }

            @Override
            public void productRemoved(Product product) {
                revokeInvalid();
            }
        };
    }

    /** Data point events to stream, after each commit. */
    public Telemetry.Listener pointEvents() {
        return this::stored;
    }

    /** The route: checks the caller, then holds the response open and writes events to it. */
    void stream(Context ctx) {
        Access caller = guard.identify(ctx, () -> Access.ofHeaderOrQuery(ctx, registry, admin));
        caller.requireManager(); // a device-level key sees only its devices; the stream is product-wide
        // The admin may watch every product, or one with product_id; a master key only its own.
        long scope = caller.isAdmin() && Params.text(ctx, "product_id") == null ? 0 : caller.productId(ctx, registry);
        if (closed) {
            throw new ApiError(Errno.SYSTEM_LIMIT, "server is stopping");
        }
        Stream s = new Stream(scope, caller);
        slots.take(s.scope, s.credential);
        streams.add(s); // before the reply starts, so that nothing that happens from here on is missed
        try {
            HttpServletResponse res = ctx.res();
            res.setStatus(200);
            res.setCharacterEncoding("UTF-8");
            res.setContentType("text/event-stream");
            res.setHeader("Cache-Control", "no-cache");
            res.setHeader("X-Accel-Buffering", "no"); // reverse proxies: pass events through at once
            res.setHeader("Connection", "close"); // Disconnects: the connection serves this stream only
            Disconnects.watch(ctx.req(), s::clientGone);
            OutputStream out = res.getOutputStream(); // here, while the request is alive, not in the async task
            ctx.async(cfg -> cfg.timeout = 0, () -> s.run(out));
        } catch (IOException e) {
            s.release();
            log.debug("event stream closed by the client before it started: {}", e.toString());
            return;
        } catch (RuntimeException e) {
            s.release();
            throw e;
        }
        String reason = s.revoked();
        if (reason != null) {
            s.revoke(reason); // revoked while it opened: the listeners may have missed it
        }
    }

    /**
     * Ends, with a {@code revoked} event, every stream whose credential or product no longer holds. Called on the
     * thread that revoked something (memory reads only, nothing blocks).
     */
    void revokeInvalid() {
        for (Stream s : streams) {
            String reason = s.revoked();
            if (reason != null) {
                s.revoke(reason);
            }
        }
    }

    /** Streams refused so far by a bound of streams. */
    long refusedCount() {
        return slots.refusedCount();
    }

    /** Events dropped so far because a stream's queue was full. */
    long droppedCount() {
        return dropped.sum();
    }

    int openStreams() {
        return slots.inUse();
    }

    // ---- producers: never block -------------------------------------------------------------------

    private void presence(String event, Device d, long at) {
        if (streams.isEmpty()) {
            return;
        }
        String json = "{\"device\":\"" + d.id() + "\",\"product\":\"" + d.productId() + "\",\"title\":"
                + quote(d.title()) + ",\"at\":" + quote(times.format(at)) + "}";
        publish(d.productId(), frame(event, json));
    }

    private void stored(long productId, long deviceId, List<StoredPoint> points) {
        if (streams.isEmpty()) {
            return;
        }
        for (StoredPoint p : points) {
            String json = "{\"device\":\"" + deviceId + "\",\"product\":\"" + productId + "\",\"stream\":" + quote(p.stream())
                    + ",\"at\":\"" + telemetry.formatTime(p.at()) + "\",\"value\":" + p.valueJson() + "}";
            publish(productId, frame("datapoint", json));
        }
    }

    private void publish(long productId, String frame) {
        for (Stream s : streams) {
            if (s.scope == 0 || s.scope == productId) {
                s.offer(frame);
            }
        }
    }

    private static String frame(String event, String json) {
        return "event: " + event + "\ndata: " + json + "\n\n";
    }

    private static String quote(String s) {
        return s == null ? "null" : JsonBody.MAPPER.getNodeFactory().textNode(s).toString();
    }

    /** Ends every stream (their writers finish what they hold) and refuses new ones. */
    @Override
    public void close() {
        closed = true;
        for (Stream s : streams) {
            s.queue.clear();
            s.queue.offer(CLOSE);
        }
    }

    /** One open event stream: its queue, and the loop that writes it out on its own thread. */
    private final class Stream {
        final long scope;
        final Access caller;
        final String credential;
        final BlockingQueue<String> queue = new ArrayBlockingQueue<>(QUEUE_CAPACITY);
        final AtomicInteger droppedHere = new AtomicInteger();
        final AtomicBoolean released = new AtomicBoolean();
        volatile boolean warned;
        volatile String revokedReason;

        Stream(long scope, Access caller) {
            this.scope = scope;
            this.caller = caller;
            this.credential = caller.credentialKey();
        }

        /** Why this stream may no longer run (its credential, or the one product the admin watches), else null. */
        String revoked() {
            String reason = caller.revoked(registry, admin);
            if (reason == null && scope != 0 && registry.product(scope).isEmpty()) {
                reason = "the product was deleted";
            }
            return reason;
        }

        /** Gives the slot back, once, and stops taking events; the writer ends at its next look at the queue. */
        void release() {
            if (released.compareAndSet(false, true)) {
                streams.remove(this);
                slots.give(scope, credential);
            }
        }

        /** The client closed its connection: the slot is free at once, the writer ends without writing. */
        void clientGone() {
            release();
            endWith(CLOSE);
        }

        /** The credential no longer holds: a last {@code revoked} event, then the end. */
        void revoke(String reason) {
            if (revokedReason == null) {
                revokedReason = reason;
                log.info("an event stream (product scope {}) ended: {}", scope == 0 ? "all" : scope, reason);
            }
            streams.remove(this); // no more events for it
            endWith(REVOKED);
        }

        /** Replaces whatever is queued by {@code marker}: nothing queued is written after it. */
        private void endWith(String marker) {
            queue.clear();
            if (!queue.offer(marker)) {
                queue.clear();
                queue.offer(marker);
            }
        }

        /**
         * Queues a frame; when the queue is full, everything queued is thrown away and replaced by a DROPPED
         * marker. So every event written after the client is told {@code dropped} is newer than what it lost,
         * and the state it re-reads cannot be overwritten by a stale event still in the queue.
         */
        void offer(String frame) {
            if (queue.offer(frame)) {
                return;
            }
            List<String> lost = new ArrayList<>(queue.size());
            queue.drainTo(lost);
            int n = 1 + (int) lost.stream().filter(f -> f != DROPPED && f != CLOSE && f != REVOKED).count();
            for (String end : List.of(CLOSE, REVOKED)) {
                if (lost.stream().anyMatch(f -> f == end)) {
                    queue.offer(end);
                    return;
                }
            }
            dropped.add(n);
            droppedHere.addAndGet(n);
            queue.offer(DROPPED);
            if (!warned) {
                warned = true; // once per stream: a stalled browser must not flood the log
                log.warn("an event stream is not keeping up; dropping its events (product scope {})", scope == 0 ? "all" : scope);
            }
        }

        void run(OutputStream out) {
            try {
                // retry: how long a browser waits before reconnecting when the stream ends.
                write(out, ": stratus events\nretry: 2000\n\n");
                StringBuilder batch = new StringBuilder();
                while (!closed && !released.get()) {
                    String first = queue.poll(HEARTBEAT_MILLIS, TimeUnit.MILLISECONDS);
                    // Every event and heartbeat first checks the credential: a session that expired ends the stream
                    // even when nothing told the registry's listeners.
                    String reason = first == CLOSE || first == REVOKED ? null : revoked();
                    if (reason != null) {
                        revoke(reason);
                        first = REVOKED;
                    }
                    if (first == null) {
                        write(out, ": heartbeat\n\n");
                        continue;
                    }
                    if (first == CLOSE) {
                        break;
                    }
                    if (first == REVOKED) {
                        write(out, frame("revoked", "{\"reason\":" + quote(revokedReason) + "}"));
                        break;
                    }
                    batch.setLength(0);
                    String next = first;
                    for (int i = 0; next != null && next != CLOSE && next != REVOKED && i < MAX_BATCH; i++) {
                        if (next == DROPPED) {
                            batch.append(frame("dropped", "{\"count\":" + droppedHere.getAndSet(0) + "}"));
                        } else {
                            batch.append(next);
                        }
                        next = i + 1 < MAX_BATCH ? queue.poll() : null;
                    }
                    write(out, batch.toString());
                    if (next == CLOSE) {
                        break;
                    }
                    if (next == REVOKED) {
                        write(out, frame("revoked", "{\"reason\":" + quote(revokedReason) + "}"));
                        break;
                    }
                }
            } catch (IOException | RuntimeException e) {
                // A client gone mid-write shows up as an I/O error or as the container's own exception; the stream's
                // thread must end here either way, not hand it to the request's error handler, whose request is gone.
                log.debug("event stream closed by the client: {}", e.toString());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                release();
            }
        }

        private void write(OutputStream out, String text) throws IOException {
            out.write(text.getBytes(StandardCharsets.UTF_8));
            out.flush();
        }
    }
}
