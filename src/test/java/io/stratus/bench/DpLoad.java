package io.stratus.bench;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import java.util.concurrent.locks.LockSupport;

/**
 * Scenarios e and f against Stratus with OneNET credentials (a product and devices made through the HTTP
 * API). e: devices publish `$dp` type-3 JSON (4 streams, no time: the server gives each point a fresh time)
 * at QoS 1; the PUBACK comes after the commit, so acknowledged means stored. Reports stored points/s, PUBACK
 * latency, and checks the stored count against the acknowledged count; a store in a process of its own
 * (PostgreSQL) has its CPU per point counted too. f: a 6,000-point range of one stream through
 * {@code GET /devices/{id}/datapoints}, timed per query.
 */
final class DpLoad {
    static final String[] STREAMS = {"temperature", "humidity", "pressure", "voltage"};
    static final int HISTORY_POINTS = 6000;
    private static final DateTimeFormatter AT = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss");

    record Params(int devices, int window, Duration warmup, Duration measure, int queries) {}

    /** Opens a connection to the store. */
    interface Connector {
        Connection open() throws SQLException;
    }

    /**
     * Where e counts the stored points: a connection to the store (else, when null, the history API); and for a store
     * in a process of its own, its CPU time (else null) and what to do once every PUBACK of e is in (before the count).
     */
    record Store(Connector connector, LongSupplier cpuNanos, Runnable afterIngest) {
        /** The embedded store: the SQLite file in Stratus's data directory, read beside the running server (WAL allows it). */
        static Store sqliteFile(Path dataDir) {
            String url = "jdbc:sqlite:" + dataDir.resolve("stratus.db").toAbsolutePath();
            return new Store(() -> DriverManager.getConnection(url), null, () -> { });
        }

        static Store viaApi() {
            return new Store(null, null, () -> { });
        }
    }

    /**
     * @param stored points in the store (-1 when not checked); must equal {@code ackedMessages * 4}
     * @param storeCpuMicrosPerPoint the store's own process CPU per point (NaN for the embedded store)
     */
    record Outcome(double pointsPerSecond, Latencies.Summary puback, long ackedMessages, long stored,
                   double queryMillisMedian, double queryMillisP90, int queryPoints, double serverCpuMicrosPerPoint,
                   double storeCpuMicrosPerPoint) {
        boolean storedMatchesAcked() {
            return stored == ackedMessages * STREAMS.length;
        }
    }

    private final Params p;
    private final Latencies pubackLatency = new Latencies(4_000_000);
    private final LongAdder ackedInWindow = new LongAdder();
    private final List<Device> devices = new ArrayList<>();
    private volatile boolean measuring;
    private int lastQueryPoints;

    private DpLoad(Params p) {
        this.p = p;
    }

    /** Runs e then f against the server with process id {@code serverPid} (0: unknown) on {@code store}. */
    static Outcome run(LoadClient client, StratusHttp http, String adminPassword, Params p, Store store, long serverPid) {
        return new DpLoad(p).run(client, http, adminPassword, store, serverPid);
    }

    private Outcome run(LoadClient client, StratusHttp http, String adminPassword, Store store, long serverPid) {
        StratusHttp.Product product = http.createProduct(adminPassword, "bench-" + System.nanoTime());
        List<CompletableFuture<Void>> ready = new ArrayList<>();
        for (int i = 0; i < p.devices(); i++) {
            LoadConnection.Login login = http.deviceLogin(product, "bench-" + i, "SN-BENCH-" + i);
            Device d = new Device(login.clientId());
            devices.add(d);
            ready.add(client.connect(login, 60, d).thenAccept(c -> d.conn = c));
        }
        RoutingLoad.await(ready, "devices");
        for (Device d : devices) {
            d.conn.loop().execute(d::start);
        }
        RoutingLoad.pause(p.warmup());
        pubackLatency.reset();
        ackedInWindow.reset();
        long cpu0 = serverPid == 0 ? 0 : ServerProcess.cpuNanos(serverPid);
        long storeCpu0 = store.cpuNanos() == null ? 0 : store.cpuNanos().getAsLong();
        measuring = true;
        long t0 = System.nanoTime();
        RoutingLoad.pause(p.measure());
        measuring = false;
        long t1 = System.nanoTime();
        long acked = ackedInWindow.sum();
        double cpuPerPoint = serverPid == 0 ? Double.NaN
                : (ServerProcess.cpuNanos(serverPid) - cpu0) / 1e3 / (acked * STREAMS.length);
        double storeCpuPerPoint = store.cpuNanos() == null ? Double.NaN
                : (store.cpuNanos().getAsLong() - storeCpu0) / 1e3 / (acked * STREAMS.length);
        for (Device d : devices) {
            d.running = false;
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (devices.stream().anyMatch(d -> d.pending > 0) && System.nanoTime() < deadline) {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        }
        long ackedTotal = devices.stream().mapToLong(d -> d.acked).sum();
        store.afterIngest().run();
        long stored = store.connector() != null ? countInStore(store.connector(), devices.stream().map(d -> d.id).toList())
                : countViaApi(http, product);
        List<CompletableFuture<Void>> closed = new ArrayList<>();
        devices.forEach(d -> closed.add(d.conn.disconnect()));
        RoutingLoad.await(closed, "disconnect");

        double[] queryMillis = history(http, product, devices.get(0).id);
        Arrays.sort(queryMillis);
        return new Outcome(acked * STREAMS.length / ((t1 - t0) / 1e9), pubackLatency.summary(), ackedTotal, stored,
                queryMillis[queryMillis.length / 2], queryMillis[(int) (queryMillis.length * 0.9)], lastQueryPoints, cpuPerPoint,
                storeCpuPerPoint);
    }

    /**
     * f: 6,000 points of their own stream, one per second from a fixed start, uploaded over HTTP (so the figure
     * does not depend on how fast e ran), then that start/end range queried {@code p.queries()} times.
     */
    private double[] history(StratusHttp http, StratusHttp.Product product, String deviceId) {
        LocalDateTime first = LocalDateTime.of(2025, 1, 1, 0, 0);
        for (int batch = 0; batch < HISTORY_POINTS / 1000; batch++) {
            StringBuilder json = new StringBuilder("{\"datastreams\":[{\"id\":\"level\",\"datapoints\":[");
            for (int i = batch * 1000; i < (batch + 1) * 1000; i++) {
                json.append(i % 1000 == 0 ? "" : ",").append("{\"at\":\"").append(AT.format(first.plusSeconds(i)))
                        .append("\",\"value\":").append(20 + (i % 100) / 10.0).append('}');
            }
            http.upload(product, deviceId, json.append("]}]}").toString());
        }
        Map<String, String> range = new LinkedHashMap<>();
        range.put("datastream_id", "level");
        range.put("start", AT.format(first));
        range.put("end", AT.format(first.plusSeconds(HISTORY_POINTS - 1)));
        range.put("limit", String.valueOf(HISTORY_POINTS));
        for (int i = 0; i < 20; i++) {
            http.history(product, deviceId, range); // warm-up: the JIT compiles the reply's hot loop
        }
        double[] millis = new double[p.queries()];
        byte[] body = null;
        for (int i = 0; i < millis.length; i++) {
            long t = System.nanoTime();
            body = http.history(product, deviceId, range);
            millis[i] = (System.nanoTime() - t) / 1e6;
        }
        lastQueryPoints = StratusHttp.data(body).path("count").asInt();
        return millis;
    }

    /** Counts the points of the given devices in Stratus's store. */
    private static long countInStore(Connector store, List<String> deviceIds) {
        String ids = String.join(",", deviceIds.stream().map(id -> String.valueOf(Long.parseLong(id))).toList());
        try (Connection c = store.open();
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM datapoint WHERE device_id IN (" + ids + ")")) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot count the stored points: " + e.getMessage(), e);
        }
    }

    /** Counts every stored point of every benchmark device, page by page through the history API. */
    private long countViaApi(StratusHttp http, StratusHttp.Product product) {
        long total = 0;
        for (Device d : devices) {
            String cursor = null;
            for (int page = 0; page < 100_000; page++) {
                Map<String, String> q = new LinkedHashMap<>();
                q.put("datastream_id", String.join(",", STREAMS));
                q.put("start", "2000-01-01T00:00:00");
                q.put("limit", String.valueOf(HISTORY_POINTS));
                if (cursor != null) {
                    q.put("cursor", cursor);
                }
                JsonNode data = StratusHttp.data(http.history(product, d.id, q));
                total += data.path("count").asLong();
                cursor = data.path("cursor").asText(null);
                if (cursor == null) {
                    break;
                }
            }
        }
        return total;
    }

    /** One device publishing `$dp` with up to {@code window} PUBACKs outstanding; runs on its event loop. */
    private final class Device implements LoadConnection.Handler {
        final String id;
        final long[] sentAt = new long[65536];
        LoadConnection conn;
        volatile boolean running;
        volatile int pending;
        volatile long acked;
        int nextId;
        long seq;

        Device(String id) {
            this.id = id;
        }

        void start() {
            running = true;
            pump();
        }

        void pump() {
            int n = 0;
            while (running && pending < p.window() && conn.isWritable() && n < 256) {
                nextId = nextId % 65535 + 1;
                sentAt[nextId] = System.nanoTime();
                conn.publish(DOLLAR_DP, 1, nextId, payload(seq++));
                pending++;
                n++;
            }
            if (n > 0) {
                conn.flush();
            }
        }

        @Override
        public void acked(LoadConnection c, int packetId) {
            if (measuring) {
                pubackLatency.record(System.nanoTime() - sentAt[packetId]);
                ackedInWindow.increment();
            }
            acked++;
            pending--;
            if (pending <= p.window() / 2) {
                pump();
            }
        }

        @Override
        public void writable(LoadConnection c) {
            pump();
        }
    }

    private static final byte[] DOLLAR_DP = "$dp".getBytes(StandardCharsets.US_ASCII);

    /** Type 3: {@code 0x03, u16 length, {"temperature":..,"humidity":..,"pressure":..,"voltage":..}}. */
    static byte[] payload(long seq) {
        String json = "{\"temperature\":" + (20 + seq % 15) + "." + (seq % 10) + ",\"humidity\":" + (40 + seq % 50)
                + ",\"pressure\":" + (1000 + seq % 30) + ".25,\"voltage\":" + (3 + seq % 2) + "." + (seq % 100) + "}";
        byte[] body = json.getBytes(StandardCharsets.US_ASCII);
        byte[] out = new byte[body.length + 3];
        out[0] = 3;
        out[1] = (byte) (body.length >> 8);
        out[2] = (byte) body.length;
        System.arraycopy(body, 0, out, 3, body.length);
        return out;
    }
}
