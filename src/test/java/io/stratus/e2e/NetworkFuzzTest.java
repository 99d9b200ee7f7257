package io.stratus.e2e;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;
import com.hivemq.client.mqtt.mqtt3.message.publish.Mqtt3Publish;
import io.stratus.e2e.TestPlatform.TestDevice;
import io.stratus.e2e.TestPlatform.TestProduct;
import io.stratus.fuzz.Mutator;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * A network fuzzer against a live server: workers open connections and write mutated MQTT frames (after a valid or a
 * mutated CONNECT) until the server closes them, while a well-behaved device keeps publishing QoS 1 to itself.
 * The server never dies, the device loses nothing and is never disconnected, and once the fuzz connections are gone the
 * process holds no more descriptors and no more heap than before. Inputs (frames written; the server stops reading a
 * connection at its first malformed frame, so the rest of that connection's frames go unread): 50,000 here,
 * {@code -Dfuzz.network.inputs=1000000} for the long form.
 */
class NetworkFuzzTest {
    @TempDir
    Path dataDir;

    @Test
    void mutated_frames_from_many_connections_leave_the_server_serving_and_leak_nothing() throws Exception {
        int inputs = Integer.getInteger("fuzz.network.inputs", 50_000);
        long seed = Mutator.seed();
        Logger stratus = (Logger) LoggerFactory.getLogger("io.stratus");
        Level before = stratus.getLevel();
        stratus.setLevel(Level.ERROR);
        try (TestPlatform platform = TestPlatform.start(dataDir, Map.of("mqtt.allow-anonymous", "true",
                "mqtt.max-packet-bytes", "65536", "mqtt.connect-timeout-seconds", "2",
                "auth.max-failures-per-address", "1000000000", "auth.max-failures", "1000000000"))) {
            TestProduct product = platform.createProduct("fuzz");
            TestDevice device = platform.createDevice(product, "good", "good-sn");
            Mqtt3BlockingClient good = Clients.hivemq(platform, device);
            Clients.connect(good, true);
            good.subscribeWith().topicFilter("good/#").qos(MqttQos.AT_LEAST_ONCE).send();
            var received = good.publishes(MqttGlobalPublishFilter.SUBSCRIBED);
            int fdBefore = fds();
            long heapBefore = heapAfterGc();

            AtomicLong sent = new AtomicLong();
            AtomicLong connections = new AtomicLong();
            List<Thread> workers = new ArrayList<>();
            List<Throwable> errors = new java.util.concurrent.CopyOnWriteArrayList<>();
            for (int w = 0; w < 2; w++) {
                List<byte[]> corpus = corpus(device, product);
                Mutator mutator = new Mutator(seed + w, corpus);
                Thread t = new Thread(() -> {
                    try {
                        fuzz(platform.mqttPort(), mutator, corpus, sent, connections, inputs);
                    } catch (Throwable e) {
                        errors.add(e);
                    }
                }, "fuzz-" + w);
                t.start();
                workers.add(t);
            }
            long started = System.nanoTime();
            int messages = 0;
            long worstMillis = 0;
            while (workers.stream().anyMatch(Thread::isAlive)) {
                long t0 = System.nanoTime();
                good.publishWith().topic("good/" + messages).qos(MqttQos.AT_LEAST_ONCE).payload(("m" + messages).getBytes(UTF_8)).send();
                Optional<Mqtt3Publish> echo = received.receive(10, SECONDS);
                assertThat(echo).as("the well-behaved device's message " + messages + " came back").isPresent();
                assertThat(echo.get().getTopic().toString()).isEqualTo("good/" + messages);
                worstMillis = Math.max(worstMillis, (System.nanoTime() - t0) / 1_000_000);
                messages++;
            }
            for (Thread t : workers) {
                t.join();
            }
            long millis = (System.nanoTime() - started) / 1_000_000;
            assertThat(errors).isEmpty();
            assertThat(good.getState().isConnected()).isTrue();

            // The fuzz connections are gone on both sides: back to the descriptors and heap of before.
            await().atMost(15, SECONDS).untilAsserted(() -> assertThat(fds()).isLessThanOrEqualTo(fdBefore + 3));
            long heapAfter = heapAfterGc();
            System.out.printf("network fuzz: %d frames on %d connections (seed %d) in %d ms; well-behaved device: %d round trips, "
                    + "worst %d ms; fds %d -> %d; heap after GC %d -> %d KiB%n", sent.get(), connections.get(), seed, millis,
                    messages, worstMillis, fdBefore, fds(), heapBefore / 1024, heapAfter / 1024);
            assertThat(heapAfter - heapBefore).as("heap growth after GC").isLessThan(32L * 1024 * 1024);
            good.disconnect();
        } finally {
            stratus.setLevel(before);
        }
    }

    private static void fuzz(int port, Mutator mutator, List<byte[]> corpus, AtomicLong sent, AtomicLong connections, int inputs)
            throws IOException {
        Random random = mutator.random();
        byte[] buffer = new byte[65536];
        while (sent.get() < inputs) {
            connections.incrementAndGet();
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
                s.setSoLinger(true, 0); // RST on close: no TIME_WAIT pile-up over a million inputs
                OutputStream out = s.getOutputStream();
                InputStream in = s.getInputStream();
                byte[] first = random.nextInt(10) < 8
                        ? RawMqtt.connectPacket(4, "fuzz-" + random.nextInt(1000), null, null, 0, true)
                        : mutator.next();
                out.write(first);
                sent.incrementAndGet();
                // Half the frames intact, so that connections live on and the mutants meet every state.
                for (int frames = 0; frames < 20 && sent.get() < inputs; frames++) {
                    out.write(random.nextBoolean() ? mutator.next() : corpus.get(random.nextInt(corpus.size())));
                    sent.incrementAndGet();
                    while (in.available() > 0) {
                        if (in.read(buffer, 0, Math.min(buffer.length, in.available())) < 0) {
                            break;
                        }
                    }
                }
            } catch (IOException closedByServer) {
                // the expected end of most fuzz connections
            }
        }
    }

    private static List<byte[]> corpus(TestDevice device, TestProduct product) {
        List<byte[]> c = new ArrayList<>();
        c.add(RawMqtt.connectPacket(4, device.id() + "0", product.id(), "wrong", 30, true));
        c.add(RawMqtt.publishPacket("a/b", 0, 0, "x".getBytes(UTF_8)));
        c.add(RawMqtt.publishPacket("a/b", 1, 3, "y".getBytes(UTF_8)));
        c.add(RawMqtt.publishPacket("good/x", 2, 4, "z".getBytes(UTF_8)));
        c.add(RawMqtt.publishPacket("$dp", 1, 5, new byte[] {3, 0, 7, '{', '"', 't', '"', ':', '1', '}'}));
        c.add(RawMqtt.subscribePacket(6, "#", 1));
        c.add(RawMqtt.subscribePacket(7, "a/+", 2));
        c.add(RawMqtt.packet(0xA2, new byte[] {0, 8, 0, 3, 'a', '/', 'b'}));
        c.add(RawMqtt.packet(0x40, new byte[] {0, 1}));
        c.add(RawMqtt.packet(0x62, new byte[] {0, 4}));
        c.add(new byte[] {(byte) 0xC0, 0});
        c.add(new byte[] {(byte) 0xE0, 0});
        return c;
    }

    private static int fds() {
        String[] fds = new File("/proc/self/fd").list();
        return fds == null ? -1 : fds.length;
    }

    private static long heapAfterGc() {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }
}
