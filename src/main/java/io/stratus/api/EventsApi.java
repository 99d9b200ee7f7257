package io.stratus.api;

import io.javalin.http.Context;
import io.stratus.device.AdminAccount;
import io.stratus.device.Device;
import io.stratus.device.DeviceListener;
import io.stratus.device.DeviceRegistry;
import io.stratus.telemetry.StoredPoint;
import io.stratus.telemetry.Telemetry;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /events[?product_id=]}: live events as Server-Sent Events (rest-api.md, "Live events"), for the
 * console and programs. Events: {@code device.online}, {@code device.offline} and {@code datapoint}, each one
 * JSON object. The credential may be the {@code token} query parameter, since EventSource cannot set headers.
 *
 * <p>Events are produced on the MQTT event loops (presence) and the datapoint writer thread (after a commit),
 * which must never wait for a browser. So each stream has its own bounded queue that producers only
 * {@code offer} to, and its own thread (Javalin's async pool) that writes it out. When a slow stream's queue
 * is full, what it holds is dropped and counted, and the stream is told with a {@code dropped} event
 * ({@code {"count":n}}) so that it can re-read what it shows; no event older than that follows it. A comment line every
 * {@link #HEARTBEAT_MILLIS} keeps proxies from closing an idle stream and notices a gone client.
 */
final class EventsApi implements AutoCloseable {
    static final int MAX_STREAMS = 64;
    static final int QUEUE_CAPACITY = 1024;
    static final long HEARTBEAT_MILLIS = 15_000;
    /** Events written per flush when a backlog has built up. */
    private static final int MAX_BATCH = 256;
    /** Queue markers, told apart from frames by identity: the end of the stream, and "events were lost here". */
    private static final String CLOSE = new String("close");
    private static final String DROPPED = new String("dropped");
    private static final Logger log = LoggerFactory.getLogger(EventsApi.class);

    private final DeviceRegistry registry;
    private final AdminAccount admin;
    private final Times times;
    private final Telemetry telemetry;
    private final Set<Stream> streams = ConcurrentHashMap.newKeySet();
    private final AtomicInteger streamCount = new AtomicInteger();
    private final LongAdder dropped = new LongAdder();
    private volatile boolean closed;

    EventsApi(DeviceRegistry registry, AdminAccount admin, Telemetry telemetry, Times times) {
        this.registry = registry;
        this.admin = admin;
        this.times = times;
        this.telemetry = telemetry;
        registry.addListener(new DeviceListener() {
            @Override
            public void online(Device d) {
                presence("device.online", d, d.lastLogin());
            }

            @Override
            public void offline(Device d) {
                presence("device.offline", d, d.lastLogout());
            }
        });
        telemetry.addListener(this::stored);
    }

    /** The route: checks the caller, then holds the response open and writes events to it. */
    void stream(Context ctx) {
        Access caller = Access.ofHeaderOrQuery(ctx, registry, admin);
        caller.requireManager(); // a product's whole traffic: not for a device-level key
        caller.requireManager(); // a device-level key sees only its devices; the stream is product-wide
        // The admin may watch every product, or one with product_id; a master key only its own.
        long scope = caller.isAdmin() && Params.text(ctx, "product_id") == null ? 0 : caller.productId(ctx, registry);
        if (closed) {
            throw new ApiError(Errno.SYSTEM_LIMIT, "server is stopping");
        }
        if (streamCount.incrementAndGet() > MAX_STREAMS) {
            streamCount.decrementAndGet();
            throw new ApiError(Errno.SYSTEM_LIMIT, "too many event streams (at most " + MAX_STREAMS + ")");
        }
        Stream s = new Stream(scope);
        streams.add(s); // before the reply starts, so that nothing that happens from here on is missed
        try {
            HttpServletResponse res = ctx.res();
            res.setStatus(200);
            res.setCharacterEncoding("UTF-8");
            res.setContentType("text/event-stream");
            res.setHeader("Cache-Control", "no-cache");
            res.setHeader("X-Accel-Buffering", "no"); // reverse proxies: pass events through at once
            ctx.async(cfg -> cfg.timeout = 0, () -> s.run(res.getOutputStream()));
        } catch (RuntimeException e) {
            streams.remove(s);
            streamCount.decrementAndGet();
            throw e;
        }
    }

    /** Events dropped so far because a stream's queue was full. */
    long droppedCount() {
        return dropped.sum();
    }

    int openStreams() {
        return streams.size();
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
        final BlockingQueue<String> queue = new ArrayBlockingQueue<>(QUEUE_CAPACITY);
        final AtomicInteger droppedHere = new AtomicInteger();
        volatile boolean warned;

        Stream(long scope) {
            this.scope = scope;
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
            int n = 1 + (int) lost.stream().filter(f -> f != DROPPED && f != CLOSE).count();
            if (lost.contains(CLOSE)) {
                queue.offer(CLOSE);
                return;
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
                while (!closed) {
                    String first = queue.poll(HEARTBEAT_MILLIS, TimeUnit.MILLISECONDS);
                    if (first == null) {
                        write(out, ": heartbeat\n\n");
                        continue;
                    }
                    if (first == CLOSE) {
                        break;
                    }
                    batch.setLength(0);
                    String next = first;
                    for (int i = 0; next != null && next != CLOSE && i < MAX_BATCH; i++) {
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
                }
            } catch (IOException e) {
                log.debug("event stream closed by the client: {}", e.toString());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                streams.remove(this);
                streamCount.decrementAndGet();
            }
        }

        private void write(OutputStream out, String text) throws IOException {
            out.write(text.getBytes(StandardCharsets.UTF_8));
            out.flush();
        }
    }
}
