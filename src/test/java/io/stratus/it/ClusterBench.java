package io.stratus.it;

import io.stratus.cluster.NatsServer;
import io.stratus.it.CrashConsistencyIT.Login;
import io.stratus.store.PostgresServer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.eclipse.paho.client.mqttv3.IMqttActionListener;
import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.IMqttToken;
import org.eclipse.paho.client.mqttv3.MqttAsyncClient;
import org.eclipse.paho.client.mqttv3.MqttCallback;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;

/**
 * The cluster benchmark (issue 19, {@code bench/cluster.sh}): three Stratus node processes of the packaged jar
 * ({@link StratusCluster}) on one PostgreSQL database (a server of its own, PostgreSQL's default durability) and one
 * nats-server with JetStream, all on 127.0.0.1. It measures, with Paho clients in this JVM (latency is the receive
 * time minus the send time written in the payload, both from this JVM's {@code System.nanoTime}):
 * <ol>
 *   <li>same-node and cross-node latency at QoS 0 and QoS 1 at a fixed rate;</li>
 *   <li>the highest QoS 1 rate across nodes whose p99 stays under 50 ms with every acknowledged message delivered;</li>
 *   <li>takeovers of a client id by another node (CONNACK, and the old node closing its socket);</li>
 *   <li>after a SIGKILL: the CONNACK on another node, and the device offline on a survivor's API;</li>
 *   <li>QoS 1 to a persistent subscriber while nodes are SIGKILLed and restarted (with {@code --faults full}, the
 *       issue's schedule of {@link FaultSchedule}: 20 kills, a nats-server cut, a PostgreSQL restart): published,
 *       acknowledged, delivered, duplicates, lost.</li>
 * </ol>
 * A main program, not a test: {@code bench/cluster.sh --help}.
 */
public final class ClusterBench {
    private static final double SLO_MILLIS = 50;
    private static final int PAYLOAD = 64;
    private static final String PERSISTENT_TOPIC = "bench/p/m";

    private final Settings settings;
    private final StratusCluster nodes;
    private final String key;
    private final List<Login> devices;
    private final List<String[]> rows = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();
    private final List<String> loads = new ArrayList<>();
    private final PostgresServer pg;
    private final FaultSchedule.Nats nats;
    /** 1 while a node is up and may be connected to (index 1 to 3). */
    private final AtomicIntegerArray up = new AtomicIntegerArray(new int[] {0, 1, 1, 1});


    /** The options; --quick shortens every part. */
    static final class Settings {
        boolean quick;
        int lease = 10;
        List<String> parts = List.of("1", "2", "3", "4", "5");
        int rate = 1000;
        int latencySeconds = 10;
        int[] steps = {1000, 2000, 5000, 10000, 20000};
        int stepSeconds = 4;
        int publishers = 4;
        int takeovers = 20;
        int killRounds = 3;
        int messages = 2000;
        int kills = 4;
        /** Part 5's faults: "kills" ({@link #kills} SIGKILLs) or "full" (the issue's schedule, {@link FaultSchedule#full}). */
        String faults = "kills";
        boolean messagesGiven;
        int persistRate = 25;
        Path logs;

        static Settings parse(String[] args) {
            Settings s = new Settings();
            if (Arrays.asList(args).contains("--quick")) {
                s.quick = true;
                s.latencySeconds = 4;
                s.steps = new int[] {1000, 5000, 10000};
                s.stepSeconds = 2;
                s.takeovers = 8;
                s.killRounds = 1;
                s.messages = 600;
                s.kills = 2;
            }
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--quick" -> { }
                    case "--lease" -> s.lease = Integer.parseInt(args[++i]);
                    case "--only" -> s.parts = List.of(args[++i].split(","));
                    case "--steps" -> s.steps = Arrays.stream(args[++i].split(",")).mapToInt(Integer::parseInt).toArray();
                    case "--messages" -> {
                        s.messages = Integer.parseInt(args[++i]);
                        s.messagesGiven = true;
                    }
                    case "--faults" -> {
                        s.faults = args[++i];
                        if (!List.of("kills", "full").contains(s.faults)) {
                            throw new IllegalArgumentException("--faults takes kills or full, not " + s.faults + "\n" + USAGE);
                        }
                    }
                    case "--kills" -> s.kills = Integer.parseInt(args[++i]);
                    case "--logs" -> s.logs = Path.of(args[++i]);
                    default -> throw new IllegalArgumentException("unknown option " + args[i] + "\n" + USAGE);
                }
            }
            return s;
        }

        /** Part 5's faults; with --faults full, N is the schedule's length at 25 msg/s unless --messages gives it. */
        FaultSchedule schedule() {
            if (faults.equals("kills")) {
                return FaultSchedule.kills(kills);
            }
            FaultSchedule full = FaultSchedule.full(lease);
            if (!messagesGiven) {
                messages = full.seconds * persistRate;
            }
            return full;
        }

        boolean runs(int part) {
            return parts.contains(String.valueOf(part));
        }
    }

    private static final String USAGE = """
            bench/cluster.sh [--quick] [--lease S] [--only 1,2,3,4,5] [--steps 1000,2000,...] [--messages N] [--kills K]
                             [--faults kills|full]
              1 same-node and cross-node latency, QoS 0 and 1, 1,000 msg/s (10 s; --quick 4 s)
              2 QoS 1 across nodes: offered rate steps, 4 publishers on node 1, 4 subscribers on node 2
              3 takeover of a client id by another node, median of 20 (--quick 8)
              4 CONNACK on another node, and offline on a survivor, after a SIGKILL (3 rounds; --quick 1)
              5 QoS 1 to a persistent subscriber across K SIGKILLs and restarts, 25 msg/s (N=2000, K=4; --quick 600, 2)
                --faults full: the issue's whole schedule instead, one fault at a time: 20 SIGKILLs (whose node cycles
                subscriber's, publisher's, neither's; every second one stays down past the lease, so survivors adopt), a
                nats-server SIGKILL and restart on its port and store (down 5 s) after the 10th, and a PostgreSQL
                `pg_ctl restart -m fast` after the 11th; N = 12,625 (505 s at 25 msg/s with lease 10) unless --messages
                is given (the faults then spread over N). Part 5 alone (--only 5 --faults full) takes about 10 minutes
              --lease sets cluster.lease-seconds (default 10); --logs DIR writes each node's log there at the end""";

    private ClusterBench(Settings settings, StratusCluster nodes, String key, List<Login> devices, PostgresServer pg,
                         FaultSchedule.Nats nats) {
        this.pg = pg;
        this.nats = nats;
        this.settings = settings;
        this.nodes = nodes;
        this.key = key;
        this.devices = devices;
    }

    public static void main(String[] args) throws Exception {
        if (Arrays.asList(args).contains("--help")) {
            System.out.println(USAGE);
            return;
        }
        Settings s = Settings.parse(args);
        Path dir = Files.createTempDirectory("stratus-cluster-bench");
        PostgresServer pg = PostgresServer.startOwn();
        String store = pg.createDatabase();
        long began = System.nanoTime();
        try (NatsServer natsServer = NatsServer.start();
             FaultSchedule.Nats nats = new FaultSchedule.Nats(natsServer.pid()); // closed first: natsServer removes the store
             StratusCluster nodes = StratusCluster.of(dir, 3, store, natsServer.url(), Map.of("cluster.lease-seconds", String.valueOf(s.lease)))) {
            ServerProcess node1 = nodes.start(1);
            String[] pd = node1.createProductAndDevice("bench", "sn-0");
            List<Login> devices = new ArrayList<>(List.of(new Login(pd[2], pd[0], "sn-0")));
            for (int i = 1; i < 24; i++) {
                devices.add(new Login(node1.createDevice(pd[1], "bench-" + i, "sn-" + i), pd[0], "sn-" + i));
            }
            nodes.startAll(); // after the devices exist (StratusCluster)
            log("3 nodes up, lease %d s, PostgreSQL pid %d, nats-server pid %d", s.lease, pg.pid(), nats.pid());
            ClusterBench bench = new ClusterBench(s, nodes, pd[1], devices, pg, nats);
            try {
                bench.run();
            } finally {
                bench.saveLogs();
            }
            bench.print(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - began));
        } finally {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
        System.exit(0); // Paho's threads of abandoned clients are not daemons
    }

    private void run() throws Exception {
        load("1");
        if (settings.runs(1)) {
            latency(0, devices.get(0), devices.get(1), devices.get(2));
            latency(1, devices.get(0), devices.get(1), devices.get(2));
        }
        if (settings.runs(2)) {
            load("2");
            throughput(devices.subList(3, 3 + settings.publishers), devices.subList(8, 8 + settings.publishers));
        }
        if (settings.runs(3)) {
            load("3");
            plainConnects(devices.get(12), 2);
            takeovers(devices.get(13), new int[] {1, 2}, "takeover by another node (alternately node 1 -> 2 and 2 -> 1)");
            takeovers(devices.get(14), new int[] {1}, "takeover on one node (baseline: node 1 -> node 1)");
            returns(devices.get(19), settings.quick ? 3 : 5);
        }
        // 5 before 4: a node killed in 4 is taken for dead after the lease, and a survivor then drains its consumer for up
        // to the 30 s ack wait; 5 waits the lease and 35 s at its end, so 4 starts on a settled cluster.
        if (settings.runs(5)) {
            load("5");
            persistent(devices.get(17), devices.get(18));
        }
        if (settings.runs(4)) {
            load("4");
            killed(devices.get(15), devices.get(16));
        }
        load("end");
        notes.add("Load average (1 minute) of the machine at the start of each part: " + String.join(", ", loads) + ".\n");
    }

    // ---- 1. Latency ---------------------------------------------------------------------------------------------------

    private void latency(int qos, Login publisher, Login same, Login cross) throws Exception {
        String topic = "bench/lat" + qos;
        Sink local = new Sink();
        Sink remote = new Sink();
        MqttClient s1 = subscriber(1, same, topic, qos, local);
        MqttClient s2 = subscriber(2, cross, topic, qos, remote);
        MqttAsyncClient pub = asyncClient(1, publisher);
        // Warm-up at the same rate (the JIT of every process, and the NATS interest of node 2): not counted.
        local.reset(1);
        remote.reset(1);
        Paced warm = Paced.run(pub, topic, qos, 1, settings.rate, TimeUnit.SECONDS.toNanos(settings.quick ? 2 : 3));
        awaitUntil(() -> remote.distinct() > 0 && local.distinct() > 0, 10_000);
        local.reset(2);
        remote.reset(2);
        log("latency QoS %d: %d msg/s for %d s (warm-up sent %d)", qos, settings.rate, settings.latencySeconds, warm.sent);
        Paced p = Paced.run(pub, topic, qos, 2, settings.rate, TimeUnit.SECONDS.toNanos(settings.latencySeconds));
        p.awaitAcks(10_000);
        awaitUntil(() -> local.distinct() >= p.acked.get() && remote.distinct() >= p.acked.get(), 10_000);
        for (Sink sink : List.of(local, remote)) {
            Summary l = sink.summary();
            String where = sink == local ? "same-node (publisher and subscriber on node 1)" : "cross-node (subscriber on node 2)";
            rows.add(new String[] {"1", "QoS " + qos + " latency, " + where, "ms",
                    ms(l.p50) + " / " + ms(l.p99) + " / " + ms(l.max),
                    String.format(Locale.ROOT, "p50 / p99 / max; %,d msg/s offered, %,d sent in %.1f s, %,d acknowledged, %,d received",
                            settings.rate, p.sent, p.seconds(), p.acked.get(), sink.distinct())});
        }
        close(s1, s2);
        close(pub);
    }

    // ---- 2. QoS 1 throughput across nodes -----------------------------------------------------------------------------

    private void throughput(List<Login> publishers, List<Login> subscribers) throws Exception {
        int n = publishers.size();
        Sink[] sinks = new Sink[n];
        MqttClient[] subs = new MqttClient[n];
        MqttAsyncClient[] pubs = new MqttAsyncClient[n];
        for (int k = 0; k < n; k++) {
            sinks[k] = new Sink();
            subs[k] = subscriber(2, subscribers.get(k), "bench/tp/" + k, 1, sinks[k]);
            pubs[k] = asyncClient(1, publishers.get(k));
        }
        // Warm-up at the first step's rate, not counted: the JIT of every process, when part 1 did not run before.
        Thread[] warm = new Thread[n];
        for (int k = 0; k < n; k++) {
            int i = k;
            sinks[k].reset(100);
            warm[k] = new Thread(() -> Paced.run(pubs[i], "bench/tp/" + i, 1, 100, settings.steps[0] / (double) n,
                    TimeUnit.SECONDS.toNanos(3)), "warm-up-" + k);
            warm[k].start();
        }
        for (Thread t : warm) {
            t.join();
        }
        Thread.sleep(1_000);
        List<String[]> steps = new ArrayList<>();
        int best = 0;
        int failures = 0;
        int run = 100;
        for (int rate : settings.steps) {
            run++;
            for (Sink sink : sinks) {
                sink.reset(run);
            }
            long nanos = TimeUnit.SECONDS.toNanos(settings.stepSeconds);
            long[] cpuBefore = cpu();
            Map<String, Double> dropsBefore = drops();
            Paced[] paced = new Paced[n];
            Thread[] threads = new Thread[n];
            for (int k = 0; k < n; k++) {
                int i = k;
                int r = run;
                threads[k] = new Thread(() -> paced[i] = Paced.run(pubs[i], "bench/tp/" + i, 1, r, rate / (double) n, nanos),
                        "publisher-" + k);
                threads[k].start();
            }
            for (Thread t : threads) {
                t.join();
            }
            long[] cpuAfter = cpu();
            long acked = 0;
            long sent = 0;
            long failed = 0;
            double seconds = 0;
            for (Paced p : paced) {
                p.awaitAcks(15_000);
                acked += p.acked.get();
                sent += p.sent;
                failed += p.refused + (p.sent - p.acked.get());
                seconds = Math.max(seconds, p.seconds());
            }
            long ackedTotal = acked;
            awaitUntil(() -> Arrays.stream(sinks).mapToLong(Sink::distinct).sum() >= ackedTotal, 15_000);
            long delivered = Arrays.stream(sinks).mapToLong(Sink::distinct).sum();
            String dropped = dropsSince(dropsBefore);
            if (delivered < acked) {
                notes.add(String.format(Locale.ROOT, "2: at %,d msg/s, %,d acknowledged messages were not delivered within 15 s of "
                        + "the step's end; drop counters that moved meanwhile: %s%n", rate, acked - delivered,
                        dropped.isEmpty() ? "none" : dropped));
            }
            long duplicates = Arrays.stream(sinks).mapToLong(Sink::duplicates).sum();
            Summary l = Summary.of(Arrays.stream(sinks).map(Sink::latencies).toArray(long[][]::new));
            double achieved = sent / seconds;
            boolean pass = failed == 0 && delivered == acked && l.p99 < SLO_MILLIS * 1e6;
            if (pass) {
                best = Math.max(best, (int) Math.round(achieved));
                failures = 0;
            } else {
                failures++;
            }
            log("step %,d msg/s: achieved %,.0f, acked %,d/%,d, delivered %,d, p99 %s ms%s", rate, achieved, acked, sent,
                    delivered, ms(l.p99), pass ? "" : " (fails)");
            steps.add(new String[] {String.format(Locale.ROOT, "%,d", rate), String.format(Locale.ROOT, "%,.0f", achieved),
                    String.format(Locale.ROOT, "%,d", sent), String.format(Locale.ROOT, "%,d", acked),
                    String.format(Locale.ROOT, "%,d", delivered), String.valueOf(duplicates), ms(l.p50), ms(l.p99), ms(l.max),
                    busy(cpuBefore, cpuAfter, seconds), pass ? "yes" : "no"});
            if (failures == 2) {
                break; // two failing steps in a row: more load only queues more
            }
        }
        rows.add(new String[] {"2", "QoS 1 across nodes at p99 < 50 ms, everything delivered (" + n + " publishers on node 1, "
                + n + " subscribers on node 2)", "msg/s", best == 0 ? "none" : String.format(Locale.ROOT, "%,d", best),
                "highest achieved rate of a passing step (table below)"});
        StringBuilder t = new StringBuilder("| offered msg/s | achieved msg/s | sent | acknowledged | delivered | duplicates "
                + "| p50 ms | p99 ms | max ms | cores busy: node 1 / 2 / 3 / nats-server / load tool | passes |\n"
                + "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|\n");
        for (String[] s : steps) {
            t.append("| ").append(String.join(" | ", s)).append(" |\n");
        }
        notes.add("QoS 1 rate steps (" + settings.stepSeconds + " s each, " + PAYLOAD + "-byte payloads, latency from the "
                + "publish call to the subscriber's callback):\n\n" + t);
        close(subs);
        close(pubs);
    }

    /** Every counter of the nodes whose name says it drops or refuses (node-qualified, labels kept). */
    private Map<String, Double> drops() {
        Map<String, Double> out = new java.util.TreeMap<>();
        for (int i = 1; i <= 3; i++) {
            try {
                for (String line : nodes.node(i).call("GET", "/metrics", null, Map.of()).text().split("\n")) {
                    int space = line.lastIndexOf(' ');
                    if (!line.startsWith("#") && space > 0 && line.matches("^stratus_\\S*(dropped|full|refused|failed)\\S* .*")) {
                        out.put("node " + i + " " + line.substring(0, space), Double.parseDouble(line.substring(space + 1)));
                    }
                }
            } catch (IOException | InterruptedException | RuntimeException e) {
                out.put("node " + i + " unreadable: " + e, 0.0);
            }
        }
        return out;
    }

    private String dropsSince(Map<String, Double> before) {
        return drops().entrySet().stream().filter(e -> e.getValue() - before.getOrDefault(e.getKey(), 0.0) != 0)
                .map(e -> e.getKey() + " +" + Math.round(e.getValue() - before.getOrDefault(e.getKey(), 0.0)))
                .collect(Collectors.joining(", "));
    }

    /** CPU ticks (user + system) of nodes 1 to 3, the nats-server and this JVM. */
    private long[] cpu() {
        long[] pids = {nodes.node(1).pid(), nodes.node(2).pid(), nodes.node(3).pid(), nats.pid(), ProcessHandle.current().pid()};
        long[] ticks = new long[pids.length];
        for (int i = 0; i < pids.length; i++) {
            try {
                String stat = Files.readString(Path.of("/proc/" + pids[i] + "/stat"));
                String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                ticks[i] = Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime and stime, fields 14 and 15
            } catch (IOException | RuntimeException e) {
                ticks[i] = -1;
            }
        }
        return ticks;
    }

    /** Cores kept busy by each process between two {@link #cpu} readings (ticks of 10 ms). */
    private static String busy(long[] before, long[] after, double seconds) {
        return IntStream.range(0, before.length).mapToObj(i -> before[i] < 0 || after[i] < 0 ? "?"
                : String.format(Locale.ROOT, "%.2f", (after[i] - before[i]) / 100.0 / seconds)).collect(Collectors.joining(" / "));
    }

    private void load(String part) {
        try {
            loads.add(part + ": " + Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
        } catch (IOException e) {
            loads.add(part + ": ?");
        }
    }

    // ---- 3. Takeover --------------------------------------------------------------------------------------------------

    /**
     * An MQTT connection on a plain socket, timed from the CONNECT's write to the CONNACK's read (Paho's own connect
     * adds about 300 ms on the client side, even against a server that answers at once), with the moment its socket
     * ends, seen by a reader thread.
     */
    private final class Raw {
        final java.net.Socket socket;
        final long written;
        final long connacked;
        final CountDownLatch closed = new CountDownLatch(1);
        volatile long closedAt;

        Raw(int node, Login login) throws IOException {
            socket = new java.net.Socket("127.0.0.1", nodes.node(node).mqttPort());
            try {
                socket.setTcpNoDelay(true);
                socket.setSoTimeout(10_000);
                written = System.nanoTime();
                socket.getOutputStream().write(connectPacket(login));
                byte[] connack = socket.getInputStream().readNBytes(4);
                connacked = System.nanoTime();
                if (connack.length != 4 || connack[0] != 0x20 || connack[3] != 0) {
                    throw new IOException("no CONNACK 0 but " + Arrays.toString(connack));
                }
                socket.setSoTimeout(0);
            } catch (IOException e) {
                socket.close();
                throw e;
            }
            Thread reader = new Thread(() -> {
                try {
                    while (socket.getInputStream().read() >= 0) {
                        // nothing is subscribed: PINGRESPs at most
                    }
                } catch (IOException e) {
                    // reset or closed here: the end either way
                }
                closedAt = System.nanoTime();
                closed.countDown();
            }, "raw-reader");
            reader.setDaemon(true);
            reader.start();
        }

        long connack() {
            return connacked - written;
        }

        void disconnect() throws IOException {
            socket.getOutputStream().write(new byte[] {(byte) 0xE0, 0});
            socket.close();
        }

        void abandon() {
            try {
                socket.close();
            } catch (IOException ignored) {
                // closed already
            }
        }
    }

    /** MQTT 3.1.1 CONNECT: clean session, keep-alive 30 s, user name and password. */
    private static byte[] connectPacket(Login login) {
        byte[] id = login.deviceId().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] user = login.productId().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] pass = login.authInfo().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        int length = 10 + 6 + id.length + user.length + pass.length;
        if (length > 127) {
            throw new IllegalArgumentException("a CONNECT of one length byte only");
        }
        ByteBuffer b = ByteBuffer.allocate(length + 2).put((byte) 0x10).put((byte) length);
        b.put(new byte[] {0, 4, 'M', 'Q', 'T', 'T', 4, (byte) 0xC2, 0, 30});
        for (byte[] field : List.of(id, user, pass)) {
            b.putShort((short) field.length).put(field);
        }
        return b.array();
    }

    /** CONNECT to CONNACK of a client id no one holds, then DISCONNECT: the baseline of the takeovers. */
    private void plainConnects(Login device, int node) throws Exception {
        List<Long> connacks = new ArrayList<>();
        for (int i = 0; i < settings.takeovers; i++) {
            Raw c = new Raw(node, device);
            connacks.add(c.connack());
            c.disconnect();
            Thread.sleep(200);
        }
        rows.add(new String[] {"3", "CONNECT of a client id no one holds (baseline), node " + node + ": CONNACK", "ms",
                ms(median(connacks)), "median of " + connacks.size() + "; all: " + list(connacks)});
    }

    /**
     * A chain of takeovers: the client id connects on one node, then on the other, and back, each connection taking over
     * the one before it (no DISCONNECT between them, so its claim's epoch only grows).
     */
    private void takeovers(Login device, int[] path, String what) throws Exception {
        List<Long> connacks = new ArrayList<>();
        List<Long> closes = new ArrayList<>();
        Raw holder = new Raw(path[0], device);
        for (int i = 0; i < settings.takeovers; i++) {
            int to = path[(i + 1) % path.length];
            Thread.sleep(200); // the last login's announcement settles on the other nodes
            Raw next;
            try {
                next = new Raw(to, device);
            } catch (IOException e) {
                String failure = String.format(Locale.ROOT, "3: %s, takeover %d (to node %d): no CONNACK: %s", what, i, to, e);
                log("%s", failure);
                logLines(device.deviceId());
                notes.add(failure);
                continue;
            }
            connacks.add(next.connack());
            closes.add(holder.closed.await(5, TimeUnit.SECONDS) ? holder.closedAt - next.written : -1);
            holder.abandon();
            holder = next;
        }
        holder.disconnect();
        rows.add(new String[] {"3", what + ": CONNACK", "ms", ms(median(connacks)),
                "median of " + connacks.size() + ", CONNECT written to CONNACK read; all: " + list(connacks)});
        rows.add(new String[] {"3", what + ": old socket closed", "ms", ms(median(closes)),
                "median, from the new CONNECT's write to the old socket's end as its client read it (negative: before; -1 "
                        + "alone: not within 5 s); all: " + list(closes)});
    }

    /**
     * A client id taken over by node 2, disconnected there (clean session: its claim row is deleted), then connecting to
     * node 1 again: counts the attempts node 1 refuses.
     */
    private void returns(Login device, int attempts) throws Exception {
        int[] outcomes = new int[3]; // connected, closed before its CONNACK, closed just after it
        int refusedAgain = 0;
        for (int i = 0; i < attempts; i++) {
            Raw first = new Raw(1, device);
            Thread.sleep(200);
            Raw second = new Raw(2, device);
            first.abandon();
            second.disconnect();
            Thread.sleep(300);
            int outcome = connects(1, device);
            outcomes[outcome]++;
            if (outcome != 0) {
                Thread.sleep(300);
                if (connects(1, device) != 0) {
                    refusedAgain++;
                }
            }
            Thread.sleep(300);
        }
        if (outcomes[0] < attempts) {
            logLines(device.deviceId());
        }
        rows.add(new String[] {"3", "back on node 1 after a takeover by node 2 and a DISCONNECT there: CONNECTs refused",
                "of " + attempts, String.valueOf(attempts - outcomes[0]), outcomes[1] + " closed before the CONNACK, " + outcomes[2]
                + " within 100 ms after it; a second try 300 ms later refused " + refusedAgain + " times"});
    }

    /** 0: connected and still open 100 ms later; 1: closed before its CONNACK; 2: closed within 100 ms after it. */
    private int connects(int node, Login device) throws InterruptedException {
        try {
            Raw c = new Raw(node, device);
            boolean closed = c.closed.await(100, TimeUnit.MILLISECONDS);
            c.disconnect();
            return closed ? 2 : 0;
        } catch (IOException e) {
            return 1;
        }
    }

    // ---- 4. After a SIGKILL -------------------------------------------------------------------------------------------

    private void killed(Login moving, Login watched) throws Exception {
        List<Long> connacks = new ArrayList<>();
        List<Long> offline = new ArrayList<>();
        for (int round = 0; round < settings.killRounds; round++) {
            Raw a = new Raw(3, moving);
            Raw b = new Raw(3, watched);
            awaitUntil(() -> online(1, watched), 5_000);
            if (!online(1, watched)) {
                notes.add("4: round " + round + ": the device on node 3 was not online on node 1's API within 5 s");
            }
            up.set(3, 0);
            nodes.kill(3);
            long killed = System.nanoTime();
            Raw c = new Raw(2, moving);
            connacks.add(c.connacked - killed);
            long deadline = killed + TimeUnit.SECONDS.toNanos(settings.lease * 3L);
            while (online(1, watched) && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            offline.add(online(1, watched) ? -1 : System.nanoTime() - killed);
            a.abandon();
            b.abandon();
            c.disconnect();
            nodes.restart(3);
            up.set(3, 1);
            log("kill round %d: CONNACK %s ms, offline %s ms", round, ms(connacks.get(round)), ms(offline.get(round)));
        }
        rows.add(new String[] {"4", "CONNACK on node 2 after node 3, which held the client id, was SIGKILLed", "ms",
                ms(median(connacks)), "median of " + connacks.size() + ", from the killed process's exit to the CONNACK read (TCP "
                + "connect included); all: " + list(connacks)});
        rows.add(new String[] {"4", "device offline on node 1's API after node 3, which held it, was SIGKILLed", "ms",
                ms(median(offline)), "median of " + offline.size() + " (lease " + settings.lease + " s; polled every 50 ms; -1: still "
                + "online after 3 leases); all: " + list(offline)});
    }

    /** The nodes' last log lines that name a client id, to explain a failure. */
    private void logLines(String clientId) {
        for (int i = 1; i <= 3; i++) {
            List<String> lines = nodes.node(i).lines(clientId);
            for (String line : lines.subList(Math.max(0, lines.size() - 6), lines.size())) {
                log("node %d: %s", i, line);
            }
        }
    }

    /** Each node's kept log lines (all its starts) to {@code --logs}. */
    private void saveLogs() throws IOException {
        if (settings.logs == null) {
            return;
        }
        Files.createDirectories(settings.logs);
        for (int i = 1; i <= 3; i++) {
            Files.write(settings.logs.resolve(StratusCluster.name(i) + ".log"), nodes.node(i).lines());
        }
        log("node logs in %s", settings.logs);
    }

    /** The nodes' log lines about adoption, fencing, draining and taking back, on the standard error. */
    private void clusterLines() {
        java.util.regex.Pattern about = java.util.regex.Pattern.compile("(?i)adopt|drain|fenc|take[sn]? back|took back|for dead|consumer");
        for (int i = 1; i <= 3; i++) {
            for (String line : nodes.node(i).lines()) {
                if (about.matcher(line).find()) {
                    log("node %d: %s", i, line);
                }
            }
        }
    }

    private boolean online(int node, Login device) {
        try {
            return nodes.node(node).withKey(key, "GET", "/devices/" + device.deviceId()).data().path("online").asBoolean();
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    // ---- 5. QoS 1 to a persistent subscriber across node kills (--faults full: and NATS and PostgreSQL faults) -------

    /** A fault of part 5 as it happened: when (nanoseconds after the first publish), and its report line. */
    private record Happened(long at, String line) {}

    private void persistent(Login publisher, Login subscriber) throws Exception {
        FaultSchedule schedule = settings.schedule();
        int n = settings.messages;
        long start = System.nanoTime();
        PersistentSubscriber sub = new PersistentSubscriber(subscriber, start);
        sub.start(2);
        AtomicInteger progress = new AtomicInteger();
        AtomicInteger pubNode = new AtomicInteger(1);
        List<Happened> faults = new CopyOnWriteArrayList<>();
        Thread chaos = new Thread(() -> chaos(schedule, n, progress, pubNode, sub, faults, start), "chaos");
        chaos.start();
        log("persistent: %,d QoS 1 messages at %d msg/s, %s", n, settings.persistRate, schedule.describe());
        BitSet acked = new BitSet(n);
        long[] ackedAt = new long[n];
        int resends = 0;
        MqttClient pub = connect(pubNode.get(), publisher, true);
        long interval = (long) (1e9 / settings.persistRate);
        for (int seq = 0; seq < n; seq++) {
            parkUntil(start + seq * interval);
            while (true) {
                try {
                    pub.publish(PERSISTENT_TOPIC, payload(System.nanoTime(), 5, seq), 1, false);
                    acked.set(seq);
                    ackedAt[seq] = System.nanoTime() - start;
                    break;
                } catch (MqttException e) { // its node died (or did not answer in 10 s): the same message through another
                    resends++;
                    abandon(pub);
                    pub = reconnect(publisher, pubNode, true);
                }
            }
            progress.set(seq + 1);
        }
        long published = System.nanoTime();
        chaos.join();
        abandon(pub);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(settings.lease + 35L);
        log("persistent: published and acknowledged in %.1f s; waiting up to %d s for the rest", (published - start) / 1e9,
                settings.lease + 35);
        while (System.nanoTime() < deadline && !sub.hasAll(acked)) {
            Thread.sleep(200);
        }
        long waited = System.nanoTime() - published;
        sub.stop();
        TreeSet<Integer> lost = new TreeSet<>();
        acked.stream().filter(i -> !sub.counts.containsKey(i)).forEach(lost::add);
        long duplicates = sub.counts.values().stream().mapToLong(c -> c - 1).sum();
        rows.add(new String[] {"5", "QoS 1 to a persistent subscriber across " + schedule.describe() + ": "
                + "published / acknowledged / delivered (distinct) / duplicates / lost", "messages",
                n + " / " + acked.cardinality() + " / " + sub.counts.size() + " / " + duplicates + " / " + lost.size(),
                String.format(Locale.ROOT, "%d resends by the publisher; the subscriber reconnected %d times (session present %d); "
                        + "%.1f s from the last PUBACK to the end of the wait", resends, sub.reconnects.get(), sub.present.get(),
                        waited / 1e9)});
        boolean killsOnly = schedule.faults.stream().allMatch(f -> f.kind() == FaultSchedule.Kind.KILL);
        StringBuilder k = new StringBuilder((killsOnly ? "Kills" : "Faults") + " of part 5 (times from the first publish, at "
                + clock(start) + (killsOnly ? "" : "; \"lost\": acknowledged between the fault and the next, never delivered")
                + "):\n\n");
        if (!killsOnly) {
            k.append("- before the first fault: lost ").append(lostBetween(lost, ackedAt, 0, faults.isEmpty() ? Long.MAX_VALUE
                    : faults.get(0).at())).append('\n');
        }
        for (int i = 0; i < faults.size(); i++) {
            k.append("- ").append(faults.get(i).line());
            if (!killsOnly) {
                long to = i + 1 < faults.size() ? faults.get(i + 1).at() : Long.MAX_VALUE;
                k.append("; lost ").append(lostBetween(lost, ackedAt, faults.get(i).at(), to));
            }
            k.append('\n');
        }
        if (!lost.isEmpty()) {
            k.append("\nLost (acknowledged, never delivered): ").append(ranges(lost, ackedAt)).append('\n');
            k.append("\nLost, the first 50 numbers: ").append(lost.stream().limit(50).map(String::valueOf)
                    .collect(Collectors.joining(", "))).append('\n');
        }
        TreeSet<Integer> twice = sub.counts.entrySet().stream().filter(e -> e.getValue() > 1).map(Map.Entry::getKey)
                .collect(Collectors.toCollection(TreeSet::new));
        if (!twice.isEmpty()) {
            k.append("\nDelivered more than once: ").append(ranges(twice, ackedAt)).append('\n');
            k.append("\nTimes delivered, of those: ").append(sub.counts.values().stream().filter(c -> c > 1)
                    .collect(Collectors.groupingBy(c -> c, java.util.TreeMap::new, Collectors.counting())).entrySet().stream()
                    .map(e -> e.getKey() + " times: " + e.getValue()).collect(Collectors.joining(", ")))
                    .append("; the duplicates arrived (seconds from the first publish, bursts apart by over 2 s): ")
                    .append(bursts(sub.duplicateAt)).append('\n');
        }
        k.append("\nSubscriber: ").append(String.join("; ", sub.events)).append('\n');
        k.append("\nCluster metrics at the end: ").append(metrics()).append('\n');
        clusterLines();
        notes.add(k.toString());
    }

    /** Arrival times (nanoseconds) as bursts apart by more than 2 s: "from-to s: count". */
    private static String bursts(java.util.Collection<Long> times) {
        long[] t = times.stream().mapToLong(Long::longValue).sorted().toArray();
        List<String> out = new ArrayList<>();
        for (int i = 0, first = 0; i < t.length; i++) {
            if (i + 1 == t.length || t[i + 1] - t[i] > 2_000_000_000L) {
                out.add(String.format(Locale.ROOT, "%.1f-%.1f s: %d", t[first] / 1e9, t[i] / 1e9, i - first + 1));
                first = i + 1;
            }
        }
        return String.join(", ", out);
    }

    /** How many of {@code lost} were acknowledged from {@code from} to before {@code to} (nanoseconds after the start). */
    private static long lostBetween(TreeSet<Integer> lost, long[] ackedAt, long from, long to) {
        return lost.stream().filter(i -> ackedAt[i] >= from && ackedAt[i] < to).count();
    }

    /** The wall-clock time of a {@code System.nanoTime()} reading, to the millisecond. */
    private static String clock(long nanoTime) {
        return java.time.LocalTime.now().minusNanos(System.nanoTime() - nanoTime).truncatedTo(java.time.temporal.ChronoUnit.MILLIS)
                .toString();
    }

    /** Runs the schedule's faults as the publisher passes their points, one after another (one node down at a time). */
    private void chaos(FaultSchedule schedule, int n, AtomicInteger progress, AtomicInteger pubNode, PersistentSubscriber sub,
                       List<Happened> faults, long start) {
        try {
            int k = 0;
            for (FaultSchedule.Fault f : schedule.faults) {
                int at = (int) (n * f.at());
                while (progress.get() < at) {
                    Thread.sleep(20);
                }
                String who = "publisher on node " + pubNode.get() + ", subscriber on node " + sub.node;
                Happened h = switch (f.kind()) {
                    case KILL -> kill(f, who, progress, pubNode, sub, start);
                    case NATS -> natsCut(who, progress, start);
                    case POSTGRES -> postgresRestart(who, progress, start);
                };
                faults.add(h);
                log("fault %d: %s", ++k, h.line());
            }
        } catch (Exception e) {
            faults.add(new Happened(System.nanoTime() - start, "chaos stopped: " + e));
        }
    }

    /** SIGKILL to the node of the fault's client (or of neither), restarted at once or after the lease and 3 s. */
    private Happened kill(FaultSchedule.Fault f, String who, AtomicInteger progress, AtomicInteger pubNode,
                          PersistentSubscriber sub, long start) throws Exception {
        int victim = switch (f.whose()) {
            case "subscriber" -> sub.node;
            case "publisher" -> pubNode.get();
            default -> IntStream.rangeClosed(1, 3).filter(i -> i != sub.node && i != pubNode.get()).findFirst()
                    .orElse(pubNode.get());
        };
        up.set(victim, 0);
        nodes.kill(victim);
        long killed = System.nanoTime();
        int seq = progress.get();
        if (f.pastLease()) {
            Thread.sleep(TimeUnit.SECONDS.toMillis(settings.lease + 3L));
        }
        long down = System.nanoTime() - killed;
        nodes.restart(victim);
        up.set(victim, 1);
        return new Happened(killed - start, String.format(Locale.ROOT, "%.1f s (%s): node %d SIGKILLed (%s; %s), after message "
                + "%d; restarted %.1f s later, ready %.1f s after that", (killed - start) / 1e9, clock(killed), victim,
                f.whose().equals("neither") ? "neither client's node" : "the " + f.whose() + "'s node", who, seq, down / 1e9,
                (System.nanoTime() - killed - down) / 1e9));
    }

    /** SIGKILL to the nats-server, and the same command line started again on its port and store after a while. */
    private Happened natsCut(String who, AtomicInteger progress, long start) throws Exception {
        long pid = nats.pid();
        nats.kill();
        long killed = System.nanoTime();
        int seq = progress.get();
        Thread.sleep(TimeUnit.SECONDS.toMillis(FaultSchedule.NATS_DOWN_SECONDS));
        long down = System.nanoTime() - killed;
        nats.start();
        return new Happened(killed - start, String.format(Locale.ROOT, "%.1f s (%s): nats-server (pid %d) SIGKILLed (%s), after "
                + "message %d; started again %.1f s later on port %d and the same store (pid %d), listening %.1f s after that",
                (killed - start) / 1e9, clock(killed), pid, who, seq, down / 1e9, nats.port(), nats.pid(),
                (System.nanoTime() - killed - down) / 1e9));
    }

    /** {@code pg_ctl restart -m fast} on the benchmark's PostgreSQL server. */
    private Happened postgresRestart(String who, AtomicInteger progress, long start) throws Exception {
        long pid = pg.pid();
        long began = System.nanoTime();
        int seq = progress.get();
        FaultSchedule.restartPostgres(pid);
        return new Happened(began - start, String.format(Locale.ROOT, "%.1f s (%s): PostgreSQL restarted with pg_ctl restart -m "
                + "fast (%s), after message %d; accepting connections again %.1f s later (postmaster pid %d, then %d)",
                (began - start) / 1e9, clock(began), who, seq, (System.nanoTime() - began) / 1e9, pid, pg.pid()));
    }

    /** The persistent subscriber: clean session false, reconnects to a live node whenever its connection ends. */
    private final class PersistentSubscriber implements MqttCallback {
        final Login login;
        final ConcurrentHashMap<Integer, Integer> counts = new ConcurrentHashMap<>();
        final AtomicInteger reconnects = new AtomicInteger();
        final AtomicInteger present = new AtomicInteger();
        final List<String> events = new CopyOnWriteArrayList<>();
        final LinkedBlockingQueue<Throwable> lost = new LinkedBlockingQueue<>();
        /** When each delivery of a number already delivered arrived, in nanoseconds after {@code started}. */
        final java.util.Queue<Long> duplicateAt = new java.util.concurrent.ConcurrentLinkedQueue<>();
        final long started;
        volatile int node;
        volatile MqttClient client;
        volatile boolean stopping;
        Thread reconnector;

        PersistentSubscriber(Login login, long started) {
            this.login = login;
            this.started = started;
        }

        void start(int first) throws MqttException {
            node = first;
            client = client(first, login);
            client.setCallback(this);
            client.connect(options(login, false));
            client.subscribe(PERSISTENT_TOPIC, 1);
            reconnector = new Thread(this::reconnect, "subscriber-reconnect");
            reconnector.start();
        }

        private void reconnect() {
            try {
                while (!stopping) {
                    Throwable cause = lost.poll(100, TimeUnit.MILLISECONDS);
                    if (cause == null || stopping) {
                        continue;
                    }
                    long t0 = System.nanoTime();
                    abandon(client);
                    while (!stopping) {
                        int next = nextUp(node);
                        try {
                            MqttClient c = client(next, login);
                            c.setCallback(this);
                            boolean sessionPresent = c.connectWithResult(options(login, false)).getSessionPresent();
                            client = c;
                            node = next;
                            reconnects.incrementAndGet();
                            if (sessionPresent) {
                                present.incrementAndGet();
                            } else {
                                c.subscribe(PERSISTENT_TOPIC, 1); // the session was gone: what it held is lost with it
                            }
                            events.add(String.format(Locale.ROOT, "%.1f s on node %d (%d ms after the loss, session present: %s)",
                                    (System.nanoTime() - started) / 1e9, next, (System.nanoTime() - t0) / 1_000_000, sessionPresent));
                            break;
                        } catch (MqttException e) {
                            Thread.sleep(100);
                        }
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        boolean hasAll(BitSet acked) {
            return acked.stream().allMatch(counts::containsKey);
        }

        void stop() throws InterruptedException {
            stopping = true;
            reconnector.join();
            close(client);
        }

        @Override
        public void connectionLost(Throwable cause) {
            lost.offer(cause);
        }

        @Override
        public void messageArrived(String topic, MqttMessage message) {
            if (counts.merge(ByteBuffer.wrap(message.getPayload()).getInt(12), 1, Integer::sum) > 1) {
                duplicateAt.add(System.nanoTime() - started);
            }
        }

        @Override
        public void deliveryComplete(IMqttDeliveryToken token) {
        }
    }

    private MqttClient reconnect(Login login, AtomicInteger node, boolean clean) throws InterruptedException {
        while (true) {
            int next = nextUp(node.get());
            try {
                MqttClient c = connect(next, login, clean);
                node.set(next);
                return c;
            } catch (MqttException e) {
                Thread.sleep(100);
            }
        }
    }

    /** The first node after {@code after} (1, 2, 3, 1, ...) that is up; {@code after} itself last. */
    private int nextUp(int after) throws InterruptedException {
        while (true) {
            for (int k = 1; k <= 3; k++) {
                int candidate = (after + k - 1) % 3 + 1;
                if (up.get(candidate) == 1) {
                    return candidate;
                }
            }
            Thread.sleep(50);
        }
    }

    private String metrics() {
        StringBuilder b = new StringBuilder();
        for (int i = 1; i <= 3; i++) {
            try {
                String text = nodes.node(i).call("GET", "/metrics", null, Map.of()).text();
                b.append("node ").append(i).append(" (since its last start): ").append(text.lines()
                        .filter(l -> Stream.of("stratus_cluster_adopted_total", "stratus_cluster_log_redelivered_total",
                                "stratus_cluster_takeovers_owner_gone_total", "stratus_cluster_fences_total")
                                .anyMatch(m -> l.startsWith(m + " ")))
                        .map(l -> l.replace("stratus_cluster_", "")).collect(Collectors.joining(", "))).append("; ");
            } catch (Exception e) {
                b.append("node ").append(i).append(": ").append(e).append("; ");
            }
        }
        return b.toString();
    }

    // ---- Clients ------------------------------------------------------------------------------------------------------

    private static MqttConnectOptions options(Login login, boolean clean) {
        MqttConnectOptions o = CrashConsistencyIT.options(login, clean);
        o.setMaxInflight(4000);
        return o;
    }

    private MqttClient client(int node, Login login) throws MqttException {
        MqttClient c = new MqttClient("tcp://127.0.0.1:" + nodes.node(node).mqttPort(), login.deviceId(), new MemoryPersistence());
        c.setTimeToWait(10_000);
        return c;
    }

    private MqttClient connect(int node, Login login, boolean clean) throws MqttException {
        MqttClient c = client(node, login);
        c.connect(options(login, clean));
        return c;
    }

    private MqttClient subscriber(int node, Login login, String topic, int qos, Sink sink) throws MqttException {
        MqttClient c = client(node, login);
        c.setCallback(sink);
        c.connect(options(login, true));
        c.subscribe(topic, qos);
        return c;
    }

    private MqttAsyncClient asyncClient(int node, Login login) throws MqttException {
        MqttAsyncClient c = new MqttAsyncClient("tcp://127.0.0.1:" + nodes.node(node).mqttPort(), login.deviceId(),
                new MemoryPersistence());
        c.connect(options(login, true)).waitForCompletion(10_000);
        return c;
    }

    private static void close(MqttClient... clients) {
        for (MqttClient c : clients) {
            try {
                if (c.isConnected()) {
                    c.disconnect(2_000);
                }
                c.close(true);
            } catch (MqttException e) {
                abandon(c);
            }
        }
    }

    private static void close(MqttAsyncClient... clients) {
        for (MqttAsyncClient c : clients) {
            try {
                c.disconnect(2_000).waitForCompletion(3_000);
                c.close(true);
            } catch (MqttException e) {
                // its server is gone or slow: nothing more to release here
            }
        }
    }

    /** A client whose server was killed: Paho may not have noticed yet. */
    private static void abandon(MqttClient... clients) {
        for (MqttClient c : clients) {
            try {
                if (c.isConnected()) {
                    c.disconnectForcibly(0, 0, false);
                }
                c.close(true);
            } catch (MqttException ignored) {
                // the connection is gone either way
            }
        }
    }

    static byte[] payload(long sentNanos, int run, int seq) {
        return ByteBuffer.allocate(PAYLOAD).putLong(sentNanos).putInt(run).putInt(seq).array();
    }

    // ---- Load and measurement -----------------------------------------------------------------------------------------

    /** One publisher at a fixed rate; its QoS 1 acknowledgements (QoS 0: writes) arrive on Paho's threads. */
    static final class Paced {
        final AtomicInteger acked = new AtomicInteger();
        final AtomicInteger failed = new AtomicInteger();
        int sent;
        int refused;
        long nanos;

        static Paced run(MqttAsyncClient c, String topic, int qos, int run, double rate, long duration) {
            Paced p = new Paced();
            IMqttActionListener listener = new IMqttActionListener() {
                @Override
                public void onSuccess(IMqttToken token) {
                    p.acked.incrementAndGet();
                }

                @Override
                public void onFailure(IMqttToken token, Throwable e) {
                    p.failed.incrementAndGet();
                }
            };
            long interval = (long) (1e9 / rate);
            long start = System.nanoTime();
            while (true) {
                long due = start + p.sent * interval;
                if (due - start >= duration) {
                    break;
                }
                parkUntil(due);
                try {
                    c.publish(topic, payload(System.nanoTime(), run, p.sent), qos, false, null, listener);
                    p.sent++;
                } catch (MqttException e) {
                    if (e.getReasonCode() == MqttException.REASON_CODE_MAX_INFLIGHT) {
                        LockSupport.parkNanos(100_000); // back-pressure: the achieved rate shows it
                    } else {
                        p.refused++;
                        break;
                    }
                }
            }
            p.nanos = System.nanoTime() - start;
            return p;
        }

        double seconds() {
            return nanos / 1e9;
        }

        void awaitAcks(long millis) throws InterruptedException {
            awaitUntil(() -> acked.get() + failed.get() >= sent, millis);
        }
    }

    /** A subscriber's receipts of one run: latencies, distinct sequence numbers, duplicates. */
    static final class Sink implements MqttCallback {
        private int run;
        private long[] latencies = new long[1 << 14];
        private int count;
        private BitSet seen = new BitSet();
        private long distinct;
        private long duplicates;

        synchronized void reset(int newRun) {
            run = newRun;
            count = 0;
            seen = new BitSet();
            distinct = 0;
            duplicates = 0;
        }

        @Override
        public void messageArrived(String topic, MqttMessage message) {
            long now = System.nanoTime();
            ByteBuffer b = ByteBuffer.wrap(message.getPayload());
            long sent = b.getLong();
            int r = b.getInt();
            int seq = b.getInt();
            synchronized (this) {
                if (r != run) {
                    return; // an earlier run's straggler
                }
                if (seen.get(seq)) {
                    duplicates++;
                    return;
                }
                seen.set(seq);
                distinct++;
                if (count == latencies.length) {
                    latencies = Arrays.copyOf(latencies, count * 2);
                }
                latencies[count++] = now - sent;
            }
        }

        synchronized long distinct() {
            return distinct;
        }

        synchronized long duplicates() {
            return duplicates;
        }

        synchronized long[] latencies() {
            return Arrays.copyOf(latencies, count);
        }

        Summary summary() {
            return Summary.of(latencies());
        }

        @Override
        public void connectionLost(Throwable cause) {
            log("a subscriber lost its connection: %s", cause);
        }

        @Override
        public void deliveryComplete(IMqttDeliveryToken token) {
        }
    }

    record Summary(double p50, double p99, double max) {
        static Summary of(long[]... parts) {
            long[] all = Arrays.stream(parts).flatMapToLong(Arrays::stream).sorted().toArray();
            if (all.length == 0) {
                return new Summary(Double.NaN, Double.NaN, Double.NaN);
            }
            return new Summary(at(all, 0.50), at(all, 0.99), all[all.length - 1]);
        }

        private static double at(long[] sorted, double p) {
            return sorted[Math.max(0, (int) Math.ceil(p * sorted.length) - 1)];
        }
    }

    private static void parkUntil(long due) {
        long wait;
        while ((wait = due - System.nanoTime()) > 0) {
            LockSupport.parkNanos(wait);
        }
    }

    private static void awaitUntil(BooleanSupplier done, long millis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (!done.getAsBoolean() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
    }

    private static double median(List<Long> nanos) {
        long[] sorted = nanos.stream().mapToLong(Long::longValue).sorted().toArray();
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int m = sorted.length / 2;
        return sorted.length % 2 == 1 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2.0;
    }

    /** Nanoseconds as milliseconds: one decimal under 100 ms. */
    private static String ms(double nanos) {
        if (Double.isNaN(nanos)) {
            return "n/a";
        }
        if (nanos == -1) {
            return "-1";
        }
        double ms = nanos / 1e6;
        return ms < 100 ? String.format(Locale.ROOT, "%.1f", ms) : String.format(Locale.ROOT, "%,.0f", ms);
    }

    private static String list(List<Long> nanos) {
        return nanos.stream().map(n -> n == -1 ? "-1" : String.format(Locale.ROOT, "%.1f", n / 1e6))
                .collect(Collectors.joining(", "));
    }

    /** Runs of consecutive numbers, each with the span of their PUBACKs (seconds from the first publish). */
    private static String ranges(TreeSet<Integer> values, long[] ackedAt) {
        List<String> out = new ArrayList<>();
        int first = -2;
        int last = -2;
        for (int v : values) {
            if (v != last + 1 && first >= 0) {
                out.add(range(first, last, ackedAt));
            }
            if (v != last + 1) {
                first = v;
            }
            last = v;
        }
        if (first >= 0) {
            out.add(range(first, last, ackedAt));
        }
        return String.join(", ", out);
    }

    private static String range(int first, int last, long[] ackedAt) {
        return String.format(Locale.ROOT, "%s (acknowledged %.2f-%.2f s)", first == last ? String.valueOf(first) : first + "-" + last,
                ackedAt[first] / 1e9, ackedAt[last] / 1e9);
    }

    private static void log(String format, Object... args) {
        System.err.printf("[cluster-bench] " + format + "%n", args);
    }

    private void print(long seconds) {
        StringBuilder b = new StringBuilder("\n| part | figure | unit | value | detail |\n|---|---|---|---:|---|\n");
        for (String[] r : rows.stream().sorted(java.util.Comparator.comparing((String[] r) -> r[0])).toList()) {
            b.append("| ").append(String.join(" | ", r)).append(" |\n");
        }
        for (String note : notes) {
            b.append('\n').append(note);
        }
        b.append(String.format(Locale.ROOT, "%nWhole run: %d s (3 nodes, 160 MB heap each, lease %d s).%n", seconds, settings.lease));
        System.out.print(b);
    }
}
