package io.stratus.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * The side-by-side benchmark that {@code bench/compare.sh} runs: scenarios a-d, g (TLS, {@link TlsFigures}), h
 * ({@link ColdStartFigures}), i ({@link AckLatencyFigures}) and j ({@link ReconnectFigures}) against Stratus (started
 * with {@code --allow-anonymous}, but for i) and Mosquitto with the same client code, alternating which goes first,
 * then e, f and start-up against Stratus alone on each store ({@link StoreFigures}), and the migrate figure; prints a
 * Markdown table of medians and ratios. Every phase is bounded.
 */
public final class Compare {
    private static final List<String> FLAGS = List.of("quick", "help");
    private static final List<String> OPTIONS = List.of("quick", "help", "jar", "mosquitto", "runs", "duration", "warmup",
            "rate", "connections", "addresses", "publishers", "subscribers", "window", "only", "targets", "stratus-jvm",
            "threads", "devices", "work-dir", "hold", "concurrency", "stores", "migrate-points", "dp-warmup", "tls-connections",
            "tls-warmup", "settle", "cold-rates", "cold-publishers", "cold-duration", "ack-rates", "ack-publishers", "ack-subscribers",
            "storm-backoff", "storm-sample");

    /** Connections per round while a server's JIT settles (d, g). */
    private static final int SETTLE_ROUND = 4000;
    private final Args a;
    private final Path jar;
    private final Path mosquitto;
    private final int runs;
    private final Duration warmup;
    /** e's unmeasured load before its measurement: the JIT compiles the ingest path in its first seconds. */
    private final Duration dpWarmup;
    private final Duration measure;
    private final double rate;
    private final int publishers;
    private final int subscribers;
    private final int window;
    private final int threads;
    private final List<String> only;
    private final List<String> targets;
    private final List<String> stratusJvm;
    private final List<String> stores;
    private final long migratePoints;
    private final Path work;
    private final Results results = new Results();

    private Compare(Args a) throws IOException {
        this.a = a;
        boolean quick = a.flag("quick");
        this.jar = Path.of(a.text("jar", "target/stratus.jar"));
        this.mosquitto = Path.of(a.text("mosquitto", "/usr/sbin/mosquitto"));
        this.runs = a.integer("runs", quick ? 1 : 3);
        this.warmup = a.seconds("warmup", quick ? 0.5 : 1);
        this.dpWarmup = a.seconds("dp-warmup", quick ? 1 : 5);
        this.measure = a.seconds("duration", quick ? 2 : 5);
        this.rate = a.number("rate", 10_000);
        this.publishers = a.integer("publishers", 16);
        this.subscribers = a.integer("subscribers", 200);
        this.window = a.integer("window", 32);
        this.threads = a.integer("threads", 2);
        this.only = a.list("only", "a,b,c,d,e,f,g,h,i,j");
        this.targets = a.list("targets", "stratus,mosquitto");
        this.stratusJvm = a.words("stratus-jvm", "-Xmx200m");
        boolean postgresInstalled = PostgresUnderTest.installed();
        this.stores = a.list("stores", postgresInstalled ? "sqlite,postgresql" : "sqlite");
        if (!postgresInstalled && a.text("stores", null) == null) {
            log("PostgreSQL is not installed (apt-get install -y postgresql): e and f run on SQLite only");
            results.note("e and f ran on SQLite only: no PostgreSQL under /usr/lib/postgresql/*/bin");
        }
        for (String store : stores) {
            if (!List.of(StoreFigures.SQLITE, StoreFigures.POSTGRESQL).contains(store)) {
                throw new IllegalArgumentException("unknown store " + store + " (sqlite, postgresql)");
            }
            if (store.equals(StoreFigures.POSTGRESQL) && !postgresInstalled) {
                throw new IllegalArgumentException("--stores postgresql: PostgreSQL is not installed under /usr/lib/postgresql");
            }
        }
        this.migratePoints = Long.parseLong(a.text("migrate-points", "0"));
        this.work = a.text("work-dir", null) != null ? Path.of(a.text("work-dir", null))
                : Files.createTempDirectory("stratus-bench-");
    }

    public static void main(String[] argv) throws Exception {
        Args a = Args.parse(argv, FLAGS);
        if (a.flag("help") || !a.unknown(OPTIONS).isEmpty()) {
            System.out.println(usage());
            System.exit(a.flag("help") ? 0 : 2);
        }
        new Compare(a).run();
    }

    /** Runs the scenarios; the work directory goes afterwards, also when a scenario failed. */
    private void run() throws Exception {
        try {
            runScenarios();
        } finally {
            deleteQuietly(work);
        }
    }

    private void runScenarios() throws Exception {
        long started = System.nanoTime();
        log("work directory " + work + "; " + runs + " run(s), " + measure.toMillis() / 1000.0 + " s per measurement, targets " + targets);
        if (only.stream().anyMatch(s -> List.of("a", "b", "c").contains(s))) {
            routing();
        }
        if (only.contains("d")) {
            idle();
        }
        if (only.contains("g")) {
            tls();
        }
        if (only.contains("h")) {
            List<Double> rates = a.list("cold-rates", "20000,50000").stream().map(Double::parseDouble).toList();
            new ColdStartFigures(new ColdStartFigures.Setup(targets, runs, threads, a.integer("cold-publishers", 4), rates,
                    a.seconds("cold-duration", 3)), (t, name) -> start(t, name, true), results).run();
        }
        if (only.contains("i")) {
            List<Double> rates = a.list("ack-rates", "10000,50000").stream().map(Double::parseDouble).toList();
            int ackPublishers = a.integer("ack-publishers", 100);
            new AckLatencyFigures(new AckLatencyFigures.Setup(targets, runs, threads, new AckLatencyLoad.Params(ackPublishers,
                    Math.min(ackPublishers, a.integer("ack-subscribers", 10)), 128, rates.get(0), warmup, measure), rates,
                    Duration.ofSeconds(a.flag("quick") ? 1 : 3)), (t, name) -> start(t, name, false), results).run();
        }
        if (only.contains("j")) {
            new ReconnectFigures(new ReconnectFigures.Setup(targets, runs, threads, new ReconnectStorm.Params(connections(),
                    a.integer("addresses", 16), a.integer("concurrency", 32), 60, a.seconds("storm-backoff", 2),
                    Duration.ofSeconds(60), a.integer("storm-sample", 1000))), (t, name) -> start(t, name, true), results).run();
        }
        String storesUsed;
        try (StoreFigures storeFigures = new StoreFigures(new StoreFigures.Setup(jar, stratusJvm, work, runs, threads,
                new DpLoad.Params(a.integer("devices", 8), 64, dpWarmup, measure, a.flag("quick") ? 10 : 30), only.contains("e"),
                only.contains("f"), stores, migratePoints), results, this::startStratus)) {
            if (targets.contains("stratus") && (only.contains("e") || only.contains("f"))) {
                storeFigures.datapoints();
            }
            if (migratePoints > 0 && PostgresUnderTest.installed()) {
                storeFigures.migrate();
            } else if (migratePoints > 0) {
                results.note("migrate not measured: PostgreSQL is not installed");
            }
            storesUsed = storeFigures.describe();
        }
        System.out.println();
        System.out.println(header(Duration.ofNanos(System.nanoTime() - started), storesUsed));
        System.out.println(results.table(targets));
    }

    // ---- a, b, c: one long-lived server per target, scenarios alternating between them ------------------

    private void routing() {
        List<ServerProcess> servers = new ArrayList<>();
        try {
            for (String t : targets) {
                ServerProcess s = start(t, "routing", true);
                servers.add(s);
                warm(s);
            }
            for (int run = 1; run <= runs; run++) {
                List<ServerProcess> order = Results.inRunOrder(servers, run);
                for (Phase phase : phases()) {
                    for (ServerProcess s : order) {
                        try (LoadClient client = new LoadClient(s.mqttAddress(), threads)) {
                            RoutingLoad.Outcome o = RoutingLoad.run(client, phase.params, s.pid());
                            log(String.format(Locale.ROOT, "run %d %-9s %-26s %,10.0f /s  p50 %7.0f us  p99 %7.0f us  p999 %7.0f us"
                                            + "  lost %d  CPU/msg server %.2f us, tool %.2f us", run, s.name, phase.name,
                                    o.deliveriesPerSecond(), o.latency().p50(), o.latency().p99(), o.latency().p999(), o.lost(),
                                    o.serverCpuMicrosPerDelivery(), o.clientCpuMicrosPerDelivery()));
                            phase.record.accept(s.name, o);
                            if (o.lost() > 0 || o.notOffered() > 0) {
                                results.note(s.name + ", " + phase.name + ": " + o.lost() + " deliveries lost, "
                                        + o.notOffered() + " messages not offered (client window full) in run " + run);
                            }
                        }
                    }
                }
            }
        } finally {
            servers.forEach(ServerProcess::close);
        }
    }

    /** Unmeasured load first, so that no broker's first figure includes its warm-up (the JIT, for Stratus). */
    private void warm(ServerProcess s) {
        try (LoadClient client = new LoadClient(s.mqttAddress(), threads)) {
            for (int qos = 0; qos <= 1; qos++) {
                RoutingLoad.run(client, new RoutingLoad.Params(RoutingLoad.Shape.FAN_IN, publishers, 1, qos, 128, window, 0,
                        Duration.ofSeconds(a.flag("quick") ? 1 : 3), Duration.ofMillis(100)), 0);
            }
        }
    }

    private record Phase(String name, RoutingLoad.Params params, java.util.function.BiConsumer<String, RoutingLoad.Outcome> record) {}

    private List<Phase> phases() {
        List<Phase> phases = new ArrayList<>();
        String fixed = String.format(Locale.ROOT, "%,.0f msg/s", rate);
        if (only.contains("a")) {
            for (int qos : new int[] {0, 1}) {
                String tag = "a fan-in QoS " + qos + ", " + publishers + "->1";
                phases.add(new Phase("a fan-in q" + qos + " max", routing(RoutingLoad.Shape.FAN_IN, qos, 1, 0),
                        (t, o) -> rate(t, "a" + qos, tag + ", max rate", o)));
                phases.add(new Phase("a fan-in q" + qos + " @" + fixed, routing(RoutingLoad.Shape.FAN_IN, qos, 1, rate),
                        (t, o) -> latency(t, "a" + qos, tag + " at " + fixed, o)));
            }
        }
        if (only.contains("b")) {
            String tag = "b point to point QoS 1, " + publishers + " pairs";
            phases.add(new Phase("b p2p q1 max", routing(RoutingLoad.Shape.POINT_TO_POINT, 1, publishers, 0),
                    (t, o) -> rate(t, "b1", tag + ", max rate", o)));
            phases.add(new Phase("b p2p q1 @" + fixed, routing(RoutingLoad.Shape.POINT_TO_POINT, 1, publishers, rate),
                    (t, o) -> latency(t, "b1", tag + " at " + fixed, o)));
        }
        if (only.contains("c")) {
            phases.add(new Phase("c fan-out q0 max", new RoutingLoad.Params(RoutingLoad.Shape.FAN_OUT, 1, subscribers, 0, 128,
                    Math.max(2, window / 4), 0, warmup, measure),
                    (t, o) -> {
                        results.add(new Results.Row("c", "c fan-out QoS 0, 1->" + subscribers + ", deliveries", "msg/s", true), t,
                                o.deliveriesPerSecond());
                        results.add(new Results.Row("c.cpu", "c fan-out, server CPU per delivery", "us", false), t,
                                o.serverCpuMicrosPerDelivery());
                    }));
        }
        return phases;
    }

    private RoutingLoad.Params routing(RoutingLoad.Shape shape, int qos, int subs, double fixedRate) {
        return new RoutingLoad.Params(shape, publishers, subs, qos, 128, window, fixedRate, warmup, measure);
    }

    private void rate(String target, String key, String label, RoutingLoad.Outcome o) {
        results.add(new Results.Row(key + ".rate", label, "msg/s", true), target, o.deliveriesPerSecond());
        results.add(new Results.Row(key + ".cpu", label + ", server CPU per message", "us", false), target,
                o.serverCpuMicrosPerDelivery());
    }

    private void latency(String target, String key, String label, RoutingLoad.Outcome o) {
        results.add(new Results.Row(key + ".p50", label + ", latency p50", "us", false), target, o.latency().p50());
        results.add(new Results.Row(key + ".p99", label + ", latency p99", "us", false), target, o.latency().p99());
        results.add(new Results.Row(key + ".p999", label + ", latency p99.9", "us", false), target, o.latency().p999());
    }

    // ---- d: a fresh server per run -------------------------------------------------------------------

    private void idle() {
        IdleLoad.Params p = new IdleLoad.Params(connections(), a.integer("addresses", 16), a.integer("concurrency", 32), 60,
                a.seconds("hold", a.flag("quick") ? 1 : 3), 1000);
        IdleLoad.Params rounds = p.measuring(Math.min(p.connections(), SETTLE_ROUND));
        Duration settleCap = settleCap();
        if (!settleCap.isZero()) {
            String t = targets.contains("mosquitto") ? "mosquitto" : targets.get(0);
            try (ServerProcess s = start(t, "idle-tool-warm-up", true); LoadClient client = new LoadClient(s.mqttAddress(), threads)) {
                IdleLoad.warmTool(client, rounds, settleCap, t);
            }
        }
        for (int run = 1; run <= runs; run++) {
            List<String> order = Results.inRunOrder(targets, run);
            for (String t : order) {
                try (ServerProcess s = start(t, "idle-" + run, true); LoadClient client = new LoadClient(s.mqttAddress(), threads)) {
                    IdleLoad.Outcome o = IdleLoad.run(client, p, s.pid());
                    log(String.format(Locale.ROOT, "run %d %-9s d idle %,d: %,.0f connects/s, all subscribed in %.2f s, RSS %,d -> %,d KiB"
                                    + " = %,.0f B/connection, held %,d, failed %d; CONNACK p50 %.1f ms p99 %.1f ms; CPU per connection: server %.0f us,"
                                    + " tool %.0f us",
                            run, t, o.connected(), o.connectsPerSecond(), o.secondsToAllSubscribed(), o.rssBeforeKb(), o.rssAfterKb(),
                            o.bytesPerConnection(), o.held(), o.failed(), o.connectLatency().p50() / 1000,
                            o.connectLatency().p99() / 1000, o.serverCpuMicrosPerConnection(),
                            o.clientCpuMicrosPerConnection()));
                    String tag = "d idle " + String.format(Locale.ROOT, "%,d", p.connections());
                    results.add(new Results.Row("d.rate", tag + ", connect rate", "conn/s", true), t, o.connectsPerSecond());
                    results.add(new Results.Row("d.p99", tag + ", connect() to CONNACK p99", "ms", false), t,
                            o.connectLatency().p99() / 1000);
                    results.add(new Results.Row("d.cpu", tag + ", server CPU per connection", "us", false), t,
                            o.serverCpuMicrosPerConnection());
                    results.add(new Results.Row("d.bytes", tag + ", server RSS growth per connection", "bytes", false), t,
                            o.bytesPerConnection());
                    results.add(new Results.Row("d.rss", tag + ", server RSS with all connected", "MiB", false), t,
                            o.rssAfterKb() / 1024.0);
                    results.add(new Results.Row("d.held", tag + ", connections held to the end", "conn", true), t, o.held());
                    if (t.equals("stratus")) {
                        results.note("Stratus for d runs as: java " + String.join(" ", stratusJvm) + " -jar stratus.jar");
                    }
                    if (!settleCap.isZero()) {
                        idleSettled(run, t, s, client, rounds, p.measuring(p.connections()), settleCap);
                    }
                }
            }
        }
    }

    /** d again on the same server once its JIT has settled: the connect rate of a server that has run for a while. */
    private void idleSettled(int run, String t, ServerProcess s, LoadClient client, IdleLoad.Params rounds,
                             IdleLoad.Params measured, Duration cap) {
        IdleLoad.Settled settled = IdleLoad.settle(client, rounds, s.pid(), cap);
        IdleLoad.Outcome o = IdleLoad.run(client, measured, s.pid());
        log(String.format(Locale.ROOT, "run %d %-9s d settled after %,d connections (%.0f s): %,.0f connects/s, CONNACK p99 %.1f ms;"
                        + " CPU per connection: server %.0f us, tool %.0f us", run, t, settled.connections(), settled.seconds(),
                o.connectsPerSecond(), o.connectLatency().p99() / 1000, o.serverCpuMicrosPerConnection(),
                o.clientCpuMicrosPerConnection()));
        String tag = "d idle " + String.format(Locale.ROOT, "%,d", measured.connections()) + ", JIT settled";
        results.add(new Results.Row("d.settled.rate", tag + ", connect rate", "conn/s", true), t, o.connectsPerSecond());
        results.add(new Results.Row("d.settled.p99", tag + ", connect() to CONNACK p99", "ms", false), t,
                o.connectLatency().p99() / 1000);
        results.add(new Results.Row("d.settled.cpu", tag + ", server CPU per connection", "us", false), t,
                o.serverCpuMicrosPerConnection());
    }

    /** How long d and g may take to let the server's JIT settle ({@code --settle}); zero: they do not. */
    private Duration settleCap() {
        return a.seconds("settle", a.flag("quick") ? 0 : 120);
    }

    /** The connections of d and j: --connections, or fewer when this process may not open that many files. */
    private int connections() {
        long fdLimit = fdLimit();
        int connections = a.integer("connections", a.flag("quick") ? 2000 : 19_000);
        if (connections + 200 > fdLimit) {
            int fit = (int) Math.max(100, fdLimit - 200);
            results.note("connections of d and j lowered from " + connections + " to " + fit + ": this process may open "
                    + fdLimit + " files (raise ulimit -n)");
            connections = fit;
        }
        return connections;
    }

    // ---- g: TLS, a fresh server per run --------------------------------------------------------------

    private void tls() {
        boolean quick = a.flag("quick");
        IdleLoad.Params connects = new IdleLoad.Params(a.integer("tls-connections", quick ? 1000 : 4000), a.integer("addresses", 16),
                a.integer("concurrency", 32), 60, a.seconds("hold", quick ? 1 : 3), a.integer("tls-warmup", quick ? 300 : 1000));
        RoutingLoad.Params p2p = routing(RoutingLoad.Shape.POINT_TO_POINT, 1, publishers, 0);
        new TlsFigures(new TlsFigures.Setup(targets, runs, threads, connects, p2p, Duration.ofSeconds(quick ? 1 : 3),
                settleCap()),
                BenchTls.create(work.resolve("tls")), this::startTls, results).run();
    }

    /** A target with a TLS port for g; its start-up is not recorded (the start-up rows are of plain servers). */
    private ServerProcess startTls(String target, String name, BenchTls tls) {
        Path dir = work.resolve(target + "-" + name);
        ServerProcess s = switch (target) {
            case "stratus" -> ServerProcess.stratus(jar, stratusJvm, dir, true, "", tls);
            case "mosquitto" -> ServerProcess.mosquitto(mosquitto, dir, tls);
            default -> throw new IllegalArgumentException("unknown target " + target + " (stratus, mosquitto)");
        };
        log(String.format(Locale.ROOT, "started %s (pid %d) on %d, TLS on %d, in %.0f ms", target, s.pid(), s.mqttPort, s.tlsPort,
                s.startupMillis));
        return s;
    }

    private ServerProcess start(String target, String name, boolean anonymous) {
        return start(target, name, anonymous, StoreFigures.SQLITE, "");
    }

    /** Stratus with OneNET credentials (not anonymous) for e and f, on {@code store}. */
    private ServerProcess startStratus(String name, String store, String storeUrl) {
        return start("stratus", name, false, store, storeUrl);
    }

    /** Starts a target and records its start-up; Stratus on PostgreSQL has rows of its own (its migrations differ). */
    private ServerProcess start(String target, String name, boolean anonymous, String store, String storeUrl) {
        Path dir = work.resolve(target + "-" + name);
        ServerProcess s = switch (target) {
            case "stratus" -> ServerProcess.stratus(jar, stratusJvm, dir, anonymous, storeUrl);
            case "mosquitto" -> ServerProcess.mosquitto(mosquitto, dir);
            default -> throw new IllegalArgumentException("unknown target " + target + " (stratus, mosquitto)");
        };
        log(String.format(Locale.ROOT, "started %s (pid %d) on %d in %.0f ms%s%s", target, s.pid(), s.mqttPort, s.startupMillis,
                s.reportedReadyMillis >= 0 ? " (platform ready " + s.reportedReadyMillis + " ms after the JVM started it)" : "",
                storeUrl.isEmpty() ? "" : " on " + store));
        String key = store.equals(StoreFigures.SQLITE) ? "start" : "start." + store;
        String on = store.equals(StoreFigures.SQLITE) ? "" : " (" + store + ")";
        results.add(new Results.Row(key, "start-up: process start to accepting connections" + on, "ms", false), target,
                s.startupMillis);
        if (s.reportedReadyMillis >= 0) {
            results.add(new Results.Row(key + ".own", "start-up: Stratus's own count, JVM running to ready" + on, "ms", false), target,
                    s.reportedReadyMillis);
        }
        return s;
    }

    private String header(Duration took, String storesUsed) {
        String cpu = "unknown CPU";
        try (Stream<String> lines = Files.lines(Path.of("/proc/cpuinfo"))) {
            cpu = lines.filter(l -> l.startsWith("model name")).findFirst().map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse(cpu);
        } catch (IOException ignored) {
            // not Linux: leave it unknown
        }
        return String.format(Locale.ROOT, """
                ## Stratus vs Mosquitto, %s
                Machine: %s, %d cores, %s MiB RAM, Linux %s, Java %s; %s. Load tool in the same machine (shares the cores).
                Parameters: %d run(s) per figure (median shown), %.1f s warm-up (e: %.1f s) + %.1f s measurement; %d publishers,
                128-byte payloads, closed-loop window %d messages per publisher (max rate) or %,.0f msg/s offered (latency);
                fan-out to %d subscribers; Stratus JVM options: %s. Stores for e, f: %s. Took %d s.
                """,
                ZonedDateTime.now().format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm xxx")), cpu,
                Runtime.getRuntime().availableProcessors(), totalMemoryMib(), System.getProperty("os.version"),
                System.getProperty("java.version"), mosquittoVersion(), runs, warmup.toMillis() / 1000.0, dpWarmup.toMillis() / 1000.0,
                measure.toMillis() / 1000.0, publishers, window, rate, subscribers, String.join(" ", stratusJvm), storesUsed,
                took.toSeconds());
    }

    private String mosquittoVersion() {
        if (!targets.contains("mosquitto")) {
            return "Mosquitto not run";
        }
        try {
            Process p = new ProcessBuilder(mosquitto.toString(), "-h").redirectErrorStream(true).start();
            String first = new String(p.getInputStream().readAllBytes()).lines().findFirst().orElse("");
            p.waitFor();
            return first.trim();
        } catch (IOException | InterruptedException e) {
            return "mosquitto";
        }
    }

    private static String totalMemoryMib() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return String.format(Locale.ROOT, "%,d", os.getTotalMemorySize() / (1024 * 1024));
        }
        return "?";
    }

    private static long fdLimit() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.UnixOperatingSystemMXBean os) {
            return os.getMaxFileDescriptorCount();
        }
        return Long.MAX_VALUE;
    }

    static void log(String line) {
        System.out.println(DateTimeFormatter.ofPattern("HH:mm:ss").format(java.time.LocalTime.now()) + " " + line);
    }

    private static void deleteQuietly(Path dir) {
        try (Stream<Path> all = Files.walk(dir)) {
            all.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a temporary directory: the OS cleans it in the end
        }
    }

    private static String usage() {
        return """
                bench/compare.sh [options]      (runs io.stratus.bench.Compare)
                  --quick               1 run, 2 s measurements, 2,000 idle connections
                  --runs N              runs per figure, median reported (3)
                  --duration S          seconds measured per figure (5); --warmup S before it (1)
                  --only a,b,c,d,e,f,g,h,i,j  scenarios to run (all; g: TLS connects, QoS 1 point to point and idle
                                        memory over TLS, with a CA and ECDSA P-256 certificate made with openssl;
                                        h: QoS 0 lost on a freshly started server; i: QoS 1 PUBACK latency at fixed
                                        rates; j: reconnect storm of persistent sessions)
                  --targets LIST        stratus,mosquitto (both)
                  --publishers N        publishers in a, pairs in b (16); --window N messages in flight each (32)
                  --rate R              offered msg/s for the latency figures of a and b (10000)
                  --subscribers N       fan-out subscribers in c (200)
                  --connections N       idle connections in d, clients in j (19000); --addresses N source addresses (16);
                                        --hold S (3)
                  --tls-connections N   TLS connections in g (4000; 1000 with --quick), --concurrency at a time (32);
                                        --tls-warmup N connections come and go first, unmeasured (1000; 300)
                  --settle S            d and g: then rounds of 4,000 connections until the server's JIT compilers are
                                        quiet, at most S seconds (120; 0 with --quick: none), and the connect figures
                                        again; first the load tool settles its own JIT against a throwaway server
                  --cold-rates LIST     offered msg/s of h, a fresh server each (20000,50000); --cold-publishers N
                                        into 1 subscriber (4); --cold-duration S each (3)
                  --ack-rates LIST      offered msg/s of i, one after the other on one server (10000,50000);
                                        --ack-publishers N with 1 QoS 1 message in flight each (100), into
                                        --ack-subscribers N QoS 0 subscribers (10)
                  --storm-backoff S     j's reconnect back-off, uniform random up to S (2); --storm-sample N topics
                                        published to afterwards (1000)
                  --devices N           devices publishing $dp in e (8); --dp-warmup S of unmeasured $dp load (5)
                  --stores LIST         stores e and f run on, side by side: sqlite,postgresql (both when PostgreSQL
                                        is installed under /usr/lib/postgresql; the benchmark starts its own cluster)
                  --migrate-points N    time `stratus migrate` of an embedded store of N points into PostgreSQL
                                        (0: skip; e.g. 10000000, or 200000 with --quick)
                  --stratus-jvm OPTS    JVM options of the Stratus server ("-Xmx200m")
                  --threads N           client event loops (2)
                  --jar PATH            Stratus jar (target/stratus.jar); --mosquitto PATH (/usr/sbin/mosquitto)
                """;
    }
}
