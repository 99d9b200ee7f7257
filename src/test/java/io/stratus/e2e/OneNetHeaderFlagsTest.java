package io.stratus.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.stratus.e2e.RawMqtt.Packet;
import io.stratus.e2e.TestPlatform.TestDevice;
import io.stratus.e2e.TestPlatform.TestProduct;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * OneNET's C SDK sends SUBSCRIBE as {@code 80 ..}, UNSUBSCRIBE as {@code A0 ..} and PUBREL as {@code 60 ..}
 * (flags 0000, as OneNET's device protocol document draws them). With {@code mqtt.onenet-header-flags} (the
 * default) they are served like their standard forms; without it they close the connection as 3.1.1 requires.
 */
class OneNetHeaderFlagsTest {
    private static final HexFormat HEX = HexFormat.ofDelimiter(" ");
    /** The SDK's SUBSCRIBE: packet id 0x000B, three filters, the first "test/topic1" (11 bytes), QoS 0. */
    private static final String SDK_SUBSCRIBE = "80 30 00 0B 00 0B " + hex("test/topic1") + " 00 00 0B " + hex("test/topic2")
            + " 01 00 0F " + hex("test/topic/long") + " 00";
    /** The SDK's UNSUBSCRIBE of "test/topic1", packet id 0x000C. */
    private static final String SDK_UNSUBSCRIBE = "A0 0F 00 0C 00 0B " + hex("test/topic1");

    @TempDir
    static Path lenientDir;
    @TempDir
    static Path strictDir;
    static TestPlatform lenient;
    static TestPlatform strict;

    @BeforeAll
    static void start() {
        lenient = TestPlatform.start(lenientDir);
        strict = TestPlatform.start(strictDir, Map.of("mqtt.onenet-header-flags", "false"));
    }

    @AfterAll
    static void stop() {
        lenient.close();
        strict.close();
    }

    @Test
    void sdk_subscribe_is_acknowledged_and_delivery_follows() throws IOException {
        TestProduct product = lenient.createProduct("sdk-subscribe");
        TestDevice follower = lenient.createDevice(product, "follower", "sn-follower");
        TestDevice sender = lenient.createDevice(product, "sender", "sn-sender");
        try (RawMqtt sub = connected(lenient, follower); RawMqtt pub = connected(lenient, sender)) {
            sub.sendHex(SDK_SUBSCRIBE);
            Packet suback = sub.read();
            assertThat(suback.header()).as("SUBACK").isEqualTo(0x90);
            assertThat(HEX.formatHex(suback.body())).isEqualTo("00 0b 00 01 00");

            pub.send(RawMqtt.publishPacket("test/topic1", 0, 0, "hi".getBytes(StandardCharsets.UTF_8)));
            Packet delivered = sub.read();
            assertThat(delivered.type()).as("PUBLISH").isEqualTo(3);
            assertThat(new String(delivered.body(), StandardCharsets.UTF_8)).isEqualTo("\0\u000btest/topic1hi");

            sub.sendHex(SDK_UNSUBSCRIBE);
            Packet unsuback = sub.read();
            assertThat(unsuback.header()).as("UNSUBACK").isEqualTo(0xB0);
            assertThat(HEX.formatHex(unsuback.body())).isEqualTo("00 0c");

            // Unsubscribed: the next message to test/topic1 is not delivered, the one to test/topic2 is.
            pub.send(RawMqtt.publishPacket("test/topic1", 0, 0, "gone".getBytes(StandardCharsets.UTF_8)));
            pub.send(RawMqtt.publishPacket("test/topic2", 0, 0, "kept".getBytes(StandardCharsets.UTF_8)));
            assertThat(new String(sub.read().body(), StandardCharsets.UTF_8)).isEqualTo("\0\u000btest/topic2kept");
        }
    }

    @Test
    void sdk_pubrel_completes_a_qos_2_publish() throws IOException {
        TestProduct product = lenient.createProduct("sdk-pubrel");
        TestDevice follower = lenient.createDevice(product, "follower", "sn-follower");
        TestDevice sender = lenient.createDevice(product, "sender", "sn-sender");
        try (RawMqtt sub = connected(lenient, follower); RawMqtt pub = connected(lenient, sender)) {
            sub.send(RawMqtt.subscribePacket(1, "q2/#", 0));
            assertThat(sub.read().header()).isEqualTo(0x90);

            pub.send(RawMqtt.publishPacket("q2/a", 2, 7, "x".getBytes(StandardCharsets.UTF_8)));
            Packet pubrec = pub.read();
            assertThat(pubrec.header()).as("PUBREC").isEqualTo(0x50);
            pub.sendHex("60 02 00 07");
            Packet pubcomp = pub.read();
            assertThat(pubcomp.header()).as("PUBCOMP").isEqualTo(0x70);
            assertThat(HEX.formatHex(pubcomp.body())).isEqualTo("00 07");

            assertThat(new String(sub.read().body(), StandardCharsets.UTF_8)).isEqualTo("\0\u0004q2/ax");
        }
    }

    @Test
    void other_bad_flags_still_close_the_connection_MQTT_2_2_2_2() throws IOException {
        TestProduct product = lenient.createProduct("sdk-bad-flags");
        TestDevice device = lenient.createDevice(product, "device", "sn-device");
        for (String packet : new String[] {"81 08 00 01 00 03 61 2F 62 00", "A4 07 00 02 00 03 61 2F 62", "64 02 00 01"}) {
            try (RawMqtt raw = connected(lenient, device)) {
                raw.sendHex(packet);
                assertThat(raw.packetsUntilClosed(5000)).as("no reply to %s", packet).isEmpty();
            }
        }
    }

    @Test
    void strict_setting_closes_on_sdk_flags_MQTT_3_8_1_1() throws IOException {
        TestProduct product = strict.createProduct("strict");
        TestDevice device = strict.createDevice(product, "device", "sn-device");
        for (String packet : new String[] {SDK_SUBSCRIBE, SDK_UNSUBSCRIBE, "60 02 00 01"}) {
            try (RawMqtt raw = connected(strict, device)) {
                raw.sendHex(packet);
                assertThat(raw.packetsUntilClosed(5000)).as("no reply to %s", packet).isEmpty();
            }
        }
        // The standard forms keep working.
        try (RawMqtt raw = connected(strict, device)) {
            raw.send(RawMqtt.subscribePacket(3, "a/b", 1));
            Packet suback = raw.read();
            assertThat(suback.header()).isEqualTo(0x90);
            assertThat(HEX.formatHex(suback.body())).isEqualTo("00 03 01");
        }
    }

    private static RawMqtt connected(TestPlatform platform, TestDevice device) throws IOException {
        RawMqtt raw = new RawMqtt(platform.mqttPort());
        assertThat(raw.connect(device.id(), device.productId(), device.authInfo(), 60, true)).isZero();
        return raw;
    }

    private static String hex(String s) {
        return HEX.formatHex(s.getBytes(StandardCharsets.UTF_8));
    }
}
