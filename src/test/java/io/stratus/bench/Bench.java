package io.stratus.bench;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.function.IntFunction;

/**
 * One scenario against a broker that is already running (for profiling, or for a server elsewhere on this
 * machine): {@code java -cp target/test-classes:target/stratus.jar io.stratus.bench.Bench --port 1883 --scenario a1}.
 * Scenarios: a0, a1 (fan-in QoS 0/1), b (point to point), c (fan-out), d (idle; --pid for the server's RSS),
 * e (Stratus `$dp` ingest and history query; --http-port, --admin-password, optional --data-dir), i (QoS 1 PUBACK
 * latency at --ack-rates; anonymous, or as devices of a new product with --http-port and --admin-password), j
 * (reconnect storm: cuts the server's connections with {@code ss -K}, as root).
 */
public final class Bench {
    private static final List<String> OPTIONS = List.of("port", "scenario", "duration", "warmup", "rate", "publishers",
            "subscribers", "window", "threads", "connections", "addresses", "pid", "http-port", "admin-password", "data-dir",
            "devices", "hold", "concurrency", "ack-rates", "backoff", "sample");

    private Bench() {
    }

    public static void main(String[] argv) throws IOException {
        Args a = Args.parse(argv, List.of());
        if (!a.unknown(OPTIONS).isEmpty() || a.text("port", null) == null) {
            System.out.println("usage: Bench --port P --scenario a0|a1|b|c|d|e|i|j [--duration 5 --warmup 1 --rate 0 (closed loop)"
                    + " --publishers 16 --subscribers 200 --window 32 --threads 2 --connections 19000 --addresses 16 --pid PID"
                    + " --http-port H --admin-password X --data-dir DIR --devices 8; i: --ack-rates 10000,50000, --publishers 100"
                    + " --subscribers 10; j: --backoff 2 --sample 1000]");
            System.exit(2);
        }
        InetSocketAddress server = new InetSocketAddress(InetAddress.getLoopbackAddress(), a.integer("port", 1883));
        String scenario = a.text("scenario", "a1");
        int publishers = a.integer("publishers", 16);
        try (LoadClient client = new LoadClient(server, a.integer("threads", 2))) {
            switch (scenario) {
                case "a0", "a1", "b", "c" -> {
                    RoutingLoad.Shape shape = switch (scenario) {
                        case "b" -> RoutingLoad.Shape.POINT_TO_POINT;
                        case "c" -> RoutingLoad.Shape.FAN_OUT;
                        default -> RoutingLoad.Shape.FAN_IN;
                    };
                    int qos = scenario.equals("a0") || scenario.equals("c") ? 0 : 1;
                    RoutingLoad.Params p = new RoutingLoad.Params(shape, shape == RoutingLoad.Shape.FAN_OUT ? 1 : publishers,
                            a.integer("subscribers", shape == RoutingLoad.Shape.FAN_OUT ? 200 : 1), qos, 128,
                            a.integer("window", 32), a.number("rate", 0), a.seconds("warmup", 1), a.seconds("duration", 5));
                    RoutingLoad.Outcome o = RoutingLoad.run(client, p, Long.parseLong(a.text("pid", "0")));
                    System.out.printf(Locale.ROOT, "%s: %,.0f deliveries/s, latency p50 %.0f us, p99 %.0f us, p99.9 %.0f us,"
                                    + " max %.0f us; sent %,d, lost %d, not offered %d; CPU per delivery: server %.2f us,"
                                    + " load tool %.2f us%n", scenario, o.deliveriesPerSecond(),
                            o.latency().p50(), o.latency().p99(), o.latency().p999(), o.latency().max(), o.sent(), o.lost(),
                            o.notOffered(), o.serverCpuMicrosPerDelivery(), o.clientCpuMicrosPerDelivery());
                }
                case "d" -> {
                    long pid = Long.parseLong(a.text("pid", "0"));
                    IdleLoad.Outcome o = IdleLoad.run(client, new IdleLoad.Params(a.integer("connections", 19_000),
                            a.integer("addresses", 16), a.integer("concurrency", 32), 60, a.seconds("hold", 3), 1000), pid);
                    System.out.printf(Locale.ROOT, "d: %,d connected (%d failed), %,.0f connects/s, all subscribed in %.2f s,"
                                    + " server RSS %,d -> %,d KiB = %,.0f B/connection, %,d held; CPU per connection: server %.0f us,"
                                    + " load tool %.0f us%n", o.connected(), o.failed(),
                            o.connectsPerSecond(), o.secondsToAllSubscribed(), o.rssBeforeKb(), o.rssAfterKb(),
                            o.bytesPerConnection(), o.held(), o.serverCpuMicrosPerConnection(), o.clientCpuMicrosPerConnection());
                }
                case "e" -> {
                    String dir = a.text("data-dir", null);
                    DpLoad.Outcome o = DpLoad.run(client, new StratusHttp(a.integer("http-port", 8080)),
                            a.text("admin-password", ""), new DpLoad.Params(a.integer("devices", 8), 64,
                                    a.seconds("warmup", 1), a.seconds("duration", 5), 30), dir == null ? DpLoad.Store.viaApi() : DpLoad.Store.sqliteFile(Path.of(dir)),
                            Long.parseLong(a.text("pid", "0")));
                    System.out.printf(Locale.ROOT, "e: %,.0f points/s, PUBACK p50 %.2f ms p99 %.2f ms p99.9 %.2f ms; acked %,d"
                                    + " messages, stored %,d points (%s), server CPU %.2f us/point; f: %d points, median %.1f ms,"
                                    + " p90 %.1f ms%n",
                            o.pointsPerSecond(), o.puback().p50() / 1000, o.puback().p99() / 1000, o.puback().p999() / 1000,
                            o.ackedMessages(), o.stored(), o.storedMatchesAcked() ? "equal" : "DIFFERENT",
                            o.serverCpuMicrosPerPoint(), o.queryPoints(), o.queryMillisMedian(), o.queryMillisP90());
                }
                case "i" -> {
                    int ackPublishers = a.integer("publishers", 100);
                    AckLatencyLoad.Params p = new AckLatencyLoad.Params(ackPublishers, Math.min(ackPublishers,
                            a.integer("subscribers", 10)), 128, 0, a.seconds("warmup", 1), a.seconds("duration", 5));
                    String adminPassword = a.text("admin-password", null);
                    IntFunction<LoadConnection.Login> logins = AckLatencyLoad.logins(p,
                            adminPassword == null ? null : new StratusHttp(a.integer("http-port", 8080)), adminPassword);
                    for (String rate : a.list("ack-rates", "10000,50000")) {
                        AckLatencyLoad.Outcome o = AckLatencyLoad.run(client, new AckLatencyLoad.Params(p.publishers(), p.groups(),
                                p.payloadBytes(), Double.parseDouble(rate), p.warmup(), p.measure()), logins,
                                Long.parseLong(a.text("pid", "0")));
                        System.out.printf(Locale.ROOT, "i @%s/s: %,.0f acked/s, PUBACK p50 %.0f us, p99 %.0f us, p99.9 %.0f us,"
                                        + " max %.0f us; sent %,d, late %,d, not acked %d, not delivered %d, publishers lost %d;"
                                        + " CPU per message: server %.2f us, load tool %.2f us%n", rate, o.ackedPerSecond(),
                                o.latency().p50(), o.latency().p99(), o.latency().p999(), o.latency().max(), o.sent(), o.late(),
                                o.notAcked(), o.notDelivered(), o.publishersLost(), o.serverCpuMicrosPerMessage(),
                                o.clientCpuMicrosPerMessage());
                    }
                }
                case "j" -> {
                    Path cutLog = Files.createTempFile("stratus-bench-ss-K", ".log");
                    try {
                        ReconnectStorm.Outcome o = ReconnectStorm.run(client, new ReconnectStorm.Params(
                                a.integer("connections", 19_000), a.integer("addresses", 16), a.integer("concurrency", 32), 60,
                                a.seconds("backoff", 2), Duration.ofSeconds(60), a.integer("sample", 1000)),
                                a.integer("port", 1883), cutLog);
                        System.out.printf(Locale.ROOT, "j: %,d connected (%d failed), ss -K destroyed %,d in %.0f ms, %,d cut,"
                                        + " %,d reconnected in %.2f s, session present %,d, failed attempts %,d, dropped again %d;"
                                        + " sample delivered %,d of %,d%n", o.connected(), o.failedToConnect(), o.destroyed(),
                                o.cutMillis(), o.cut(), o.reconnected(), o.secondsToAllReconnected(), o.sessionPresent(),
                                o.failedAttempts(), o.droppedAgain(), o.delivered(), o.sampled());
                    } finally {
                        Files.deleteIfExists(cutLog);
                    }
                }
                default -> throw new IllegalArgumentException("unknown scenario " + scenario);
            }
        }
    }
}
