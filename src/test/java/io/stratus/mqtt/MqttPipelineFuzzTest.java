package io.stratus.mqtt;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.mqtt.MqttEncoder;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.ResourceLeakDetector;
import io.stratus.Config;
import io.stratus.broker.Broker;
import io.stratus.device.Device;
import io.stratus.device.DeviceChange;
import io.stratus.device.DeviceRegistry;
import io.stratus.device.LoginThrottle;
import io.stratus.device.Product;
import io.stratus.e2e.LogCapture;
import io.stratus.e2e.RawMqtt;
import io.stratus.fuzz.Mutator;
import io.stratus.store.BatchWriter;
import io.stratus.store.BatchWriters;
import io.stratus.store.Database;
import io.stratus.telemetry.Telemetry;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Seeded mutation fuzzing of the server's MQTT pipeline as MqttServer builds it (the sized MqttDecoder, MqttEncoder,
 * MqttConnection) on an {@link EmbeddedChannel}, with real collaborators over a temporary store. Inputs are packet
 * sequences (most start with a valid CONNECT so that mutations reach the connected states), fed in random chunks.
 * Whatever the bytes: no exception escapes the pipeline, every buffer is released (Netty's paranoid leak detector
 * reports none), and closed connections leave no session behind. {@code -Dfuzz.inputs=1000000} for the long form.
 */
class MqttPipelineFuzzTest {
    @TempDir
    Path dataDir;

    @Test
    void mutated_packet_streams_never_escape_the_pipeline_nor_leak_buffers() throws Exception {
        int inputs = Mutator.inputs(20_000);
        long seed = Mutator.seed();
        Config config = Config.of(Map.of("data.dir", dataDir.toString(), "mqtt.max-packet-bytes", "65536"));
        Logger stratus = (Logger) LoggerFactory.getLogger("io.stratus");
        Level before = stratus.getLevel();
        ResourceLeakDetector.Level leakLevel = ResourceLeakDetector.getLevel();
        try (Database database = Database.openSqlite(dataDir, "normal");
             BatchWriter writer = new BatchWriter(database, "state", 65_536, 1000);
             BatchWriters datapointWriter = new BatchWriters(database, "datapoint", 1, 65_536, 1_000);
             LogCapture leaks = LogCapture.of("io.netty.util.ResourceLeakDetector").attach()) {
            stratus.setLevel(Level.OFF); // tens of thousands of "closed: malformed packet" lines
            ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
            DeviceRegistry registry = new DeviceRegistry(database, writer, false);
            Broker broker = new Broker(config, database, writer, registry);
            Telemetry telemetry = new Telemetry(config, database, broker, datapointWriter);
            broker.registerSystemTopic("$dp", telemetry::onDp);
            registry.addListener(telemetry.deviceEvents());
            registry.addProductCleanup(telemetry.productCleanup());
            Product product = registry.createProduct("p", null, "MQTT");
            Device device = registry.createDevice(product.id(), new DeviceChange("d", null, "sn", null, null, null, null, null, null));
            // Failed logins are part of the fuzz; the throttle must not turn them all into CONNACK 5.
            LoginThrottle throttle = new LoginThrottle(Integer.MAX_VALUE, Integer.MAX_VALUE, 1, 1);
            ConnectCheck connectCheck = new ConnectCheck(registry, throttle, () -> false, () -> null);
            byte[] connect = RawMqtt.connectPacket(4, String.valueOf(device.id()), String.valueOf(product.id()), "sn", 60, true);
            List<byte[]> corpus = corpus(connect);
            Mutator mutator = new Mutator(seed, corpus);
            Random random = mutator.random();
            long openAfter = 0;
            long started = System.nanoTime();
            for (int i = 0; i < inputs; i++) {
                byte[] input;
                if (random.nextInt(10) < 7) {
                    // CONNECT intact, the rest mutated: the connected states see the damage.
                    byte[] rest = mutator.next();
                    input = new byte[connect.length + rest.length];
                    System.arraycopy(connect, 0, input, 0, connect.length);
                    System.arraycopy(rest, 0, input, connect.length, rest.length);
                } else {
                    input = mutator.mutate(corpus.get(random.nextInt(corpus.size())));
                }
                EmbeddedChannel channel = new EmbeddedChannel(new OneNetHeaderFlags(), MqttServer.newDecoder(config), MqttEncoder.INSTANCE,
                        new MqttConnection(config, broker, () -> false, connectCheck, new ConnectionDeadlines()));
                try {
                    for (int at = 0; at < input.length && channel.isOpen(); ) {
                        int len = 1 + random.nextInt(input.length - at);
                        channel.writeInbound(Unpooled.wrappedBuffer(input, at, len));
                        at += len;
                        channel.runPendingTasks();
                    }
                    if (channel.isOpen()) {
                        openAfter++;
                        channel.advanceTimeBy(120, TimeUnit.SECONDS); // keep-alive and CONNECT timeouts fire
                        channel.runScheduledPendingTasks();
                    }
                    for (Object out; (out = channel.readOutbound()) != null; ) {
                        ReferenceCountUtil.release(out);
                    }
                    channel.close();
                    channel.checkException();
                } catch (Throwable t) {
                    throw new AssertionError("input " + i + " (seed " + seed + "): " + HexFormat.of().formatHex(input), t);
                } finally {
                    channel.finishAndReleaseAll();
                }
            }
            long millis = (System.nanoTime() - started) / 1_000_000;
            // The leak detector reports when it notices collected, unreleased buffers: collect, then allocate.
            for (int round = 0; round < 5; round++) {
                System.gc();
                for (int k = 0; k < 100; k++) {
                    ByteBuf b = ByteBufAllocator.DEFAULT.buffer(64);
                    b.release();
                }
            }
            System.out.printf("MQTT pipeline fuzz: %d inputs (seed %d), %d still open at the end of their input, %d ms%n",
                    inputs, seed, openAfter, millis);
            assertThat(leaks.lines("LEAK")).as("ByteBuf leaks").isEmpty();
            assertThat(broker.sessionCount()).as("sessions left by closed connections").isLessThanOrEqualTo(1);
            telemetry.close();
        } finally {
            stratus.setLevel(before);
            ResourceLeakDetector.setLevel(leakLevel);
        }
    }

    /** Well-formed packets of every type a client sends, and a few short sequences. */
    private static List<byte[]> corpus(byte[] connect) {
        List<byte[]> c = new ArrayList<>();
        c.add(connect);
        c.add(RawMqtt.connectPacket(4, "", null, null, 0, true));
        c.add(RawMqtt.connectPacket(3, "x", "u", "p", 10, false));
        c.add(RawMqtt.publishPacket("a/b", 0, 0, "hello".getBytes(StandardCharsets.UTF_8)));
        c.add(RawMqtt.publishPacket("a/b", 1, 7, "hello".getBytes(StandardCharsets.UTF_8)));
        c.add(RawMqtt.publishPacket("a/b", 2, 8, new byte[] {1, 2, 3}));
        c.add(RawMqtt.packet(0x31, concat(str("r/t"), "retained".getBytes(StandardCharsets.UTF_8))));
        c.add(RawMqtt.publishPacket("$dp", 1, 9, concat(new byte[] {3, 0, 8}, "{\"t\":1}x".getBytes(StandardCharsets.UTF_8))));
        c.add(RawMqtt.publishPacket("$dp", 1, 10, concat(new byte[] {1, 0, 47},
                "{\"datastreams\":[{\"id\":\"s\",\"datapoints\":[{}]}]}".getBytes(StandardCharsets.UTF_8))));
        c.add(RawMqtt.publishPacket("$crsp/abc", 0, 0, "ok".getBytes(StandardCharsets.UTF_8)));
        c.add(RawMqtt.subscribePacket(11, "a/#", 1));
        c.add(RawMqtt.subscribePacket(12, "+/+/x", 2));
        c.add(RawMqtt.subscribePacket(13, "$dp", 0));
        c.add(RawMqtt.packet(0xA2, concat(new byte[] {0, 14}, str("a/#"))));
        c.add(RawMqtt.packet(0x40, new byte[] {0, 1}));
        c.add(RawMqtt.packet(0x50, new byte[] {0, 2}));
        c.add(RawMqtt.packet(0x62, new byte[] {0, 8}));
        c.add(RawMqtt.packet(0x70, new byte[] {0, 2}));
        c.add(new byte[] {(byte) 0xC0, 0});
        c.add(new byte[] {(byte) 0xE0, 0});
        c.add(concat(RawMqtt.subscribePacket(1, "a/#", 2), RawMqtt.publishPacket("a/b", 2, 2, new byte[] {9}),
                RawMqtt.packet(0x62, new byte[] {0, 2}), new byte[] {(byte) 0xC0, 0}));
        return c;
    }

    private static byte[] str(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return concat(new byte[] {(byte) (b.length >> 8), (byte) b.length}, b);
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }
}
