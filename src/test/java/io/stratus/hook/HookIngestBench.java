package io.stratus.hook;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3AsyncClient;
import com.hivemq.client.mqtt.mqtt3.Mqtt3Client;
import io.stratus.e2e.TestPlatform;
import io.stratus.e2e.TestPlatform.TestDevice;
import io.stratus.e2e.TestPlatform.TestProduct;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

/**
 * Throwaway driver (not a test): `$dp` QoS 1 ingest rate with no hooks versus with a trigger firing on every point
 * and a data push, both to a receiver that never answers. Devices publish type-3 JSON with 2 streams, a window of
 * in-flight publishes each; PUBACK means stored. Run: {@code java -cp <test classpath> io.stratus.hook.HookIngestBench
 * [rounds] [devices] [seconds]}.
 */
public final class HookIngestBench {
    private HookIngestBench() {
    }

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 2;
        int devices = args.length > 1 ? Integer.parseInt(args[1]) : 4;
        int seconds = args.length > 2 ? Integer.parseInt(args[2]) : 10;
        for (int r = 1; r <= rounds; r++) {
            // Alternate the order between rounds, so that warm-up and leftovers of the previous run favour neither.
            for (boolean hooks : r % 2 == 1 ? new boolean[] {false, true} : new boolean[] {true, false}) {
                double rate = run(hooks, devices, seconds);
                System.out.printf("round %d %-28s %,10.0f points/s%n", r, hooks ? "hanging trigger + push:" : "no hooks:", rate);
            }
        }
        System.exit(0);
    }

    private static double run(boolean hooks, int deviceCount, int seconds) throws Exception {
        Path dir = Files.createTempDirectory("hook-bench");
        try (TestPlatform platform = TestPlatform.start(dir, Map.of("hook.deny-networks", HookFixtures.ALLOW_LOOPBACK)); Receiver receiver = Receiver.start()) {
            TestProduct product = platform.createProduct("bench");
            if (hooks) {
                HookFixtures.createTrigger(platform, product, Map.of("ds_id", "temperature", "url", receiver.url("/hook"),
                        "type", ">", "threshold", -1));
                receiver.answer(q -> Receiver.Reply.ok(q.query().getOrDefault("msg", "ok")));
                platform.withKey(product.masterKey(), "PUT", "/products/" + product.id() + "/push",
                        Map.of("url", receiver.url("/push"), "token", "t"));
                receiver.hang();
            }
            LongAdder acked = new LongAdder();
            AtomicBoolean running = new AtomicBoolean(true);
            List<Mqtt3AsyncClient> clients = new ArrayList<>();
            List<Thread> publishers = new ArrayList<>();
            for (int i = 0; i < deviceCount; i++) {
                TestDevice d = platform.createDevice(product, "d" + i, "bench-" + i);
                Mqtt3AsyncClient c = Mqtt3Client.builder().identifier(d.id()).serverHost("127.0.0.1").serverPort(platform.mqttPort())
                        .simpleAuth().username(product.id()).password(d.authInfo().getBytes(UTF_8)).applySimpleAuth().buildAsync();
                c.connect().get(10, TimeUnit.SECONDS);
                clients.add(c);
                Thread t = new Thread(() -> publish(c, running, acked), "bench-" + i);
                publishers.add(t);
                t.start();
            }
            TimeUnit.SECONDS.sleep(3); // warm-up (a driver, not a test)
            long before = acked.sum();
            long t0 = System.nanoTime();
            TimeUnit.SECONDS.sleep(seconds);
            long points = (acked.sum() - before) * 2;
            double rate = points / ((System.nanoTime() - t0) / 1e9);
            running.set(false);
            for (Thread t : publishers) {
                t.join();
            }
            for (Mqtt3AsyncClient c : clients) {
                c.disconnect().get(10, TimeUnit.SECONDS);
            }
            if (hooks) {
                System.out.println("  " + platform.platform().hooks().deliveryStats() + ", events dropped "
                        + platform.platform().hooks().droppedEvents());
            }
            return rate;
        }
    }

    private static void publish(Mqtt3AsyncClient c, AtomicBoolean running, LongAdder acked) {
        Semaphore window = new Semaphore(32);
        long i = 0;
        while (running.get()) {
            try {
                window.acquire();
            } catch (InterruptedException e) {
                return;
            }
            byte[] json = ("{\"temperature\":" + (i % 50) + ",\"humidity\":" + (i % 90) + "}").getBytes(UTF_8);
            byte[] dp = new byte[json.length + 3];
            dp[0] = 3;
            dp[1] = (byte) (json.length >> 8);
            dp[2] = (byte) json.length;
            System.arraycopy(json, 0, dp, 3, json.length);
            i++;
            c.publishWith().topic("$dp").qos(MqttQos.AT_LEAST_ONCE).payload(dp).send().whenComplete((r, e) -> {
                if (e == null) {
                    acked.increment();
                }
                window.release();
            });
        }
        try {
            window.acquire(32);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
