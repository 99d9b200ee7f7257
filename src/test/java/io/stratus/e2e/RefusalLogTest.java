package io.stratus.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.stratus.e2e.TestPlatform.TestDevice;
import io.stratus.e2e.TestPlatform.TestProduct;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A packet the server refuses in parts is logged once: a SUBSCRIBE of 2,000 refused filters is one line, not 2,000. */
class RefusalLogTest {
    @RegisterExtension
    static final TestPlatform platform = TestPlatform.perClass();
    @RegisterExtension
    final LogCapture log = LogCapture.of("io.stratus.broker.Broker");

    @Test
    void one_subscribe_with_many_refused_filters_is_one_log_line() throws IOException {
        TestProduct product = platform.createProduct("refusals");
        TestDevice device = platform.createDevice(product, "d", "SN-R");
        int filters = 2_000;
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.write(0);
        body.write(7); // packet id 7
        for (int i = 0; i < filters; i++) {
            // D9 (docs/decisions.md): $ topics cannot be subscribed
            byte[] f = ("$sys/" + i).getBytes(StandardCharsets.UTF_8);
            body.write(f.length >> 8);
            body.write(f.length & 0xFF);
            body.writeBytes(f);
            body.write(0);
        }
        try (RawMqtt raw = new RawMqtt(platform.mqttPort())) {
            assertThat(raw.connect(device.id(), product.id(), "SN-R", 30, true)).isZero();
            raw.send(RawMqtt.packet(0x82, body.toByteArray()));
            RawMqtt.Packet suback = raw.read();
            assertThat(suback.header()).isEqualTo(0x90);
            assertThat(suback.body()).hasSize(2 + filters);
            for (int i = 2; i < suback.body().length; i++) {
                assertThat(suback.body()[i] & 0xFF).isEqualTo(0x80);
            }
        }
        assertThat(log.lines("[" + device.id() + "]", "refused")).hasSize(1).first().asString()
                .contains("2000 of 2000 subscriptions refused").contains("'$sys/0'");
    }
}
