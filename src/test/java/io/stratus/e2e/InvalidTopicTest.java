package io.stratus.e2e;

import static io.stratus.e2e.Clients.next;
import static io.stratus.e2e.Clients.text;
import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient.Mqtt3Publishes;
import com.hivemq.client.mqtt.mqtt3.message.publish.Mqtt3Publish;
import io.stratus.broker.Message;
import io.stratus.e2e.TestPlatform.TestDevice;
import io.stratus.e2e.TestPlatform.TestProduct;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * No message whose topic the MQTT encoder would refuse (a wildcard, a NUL: a data stream id with '#' forwarded to
 * {@code /{device_id}/{stream}}) is ever queued or sent: it is dropped, counted in {@code
 * stratus_mqtt_invalid_topic_dropped_total} and logged (one line a minute). Before, every subscriber of the device's
 * streams was disconnected, and a persistent session holding such a message was closed at every reconnect.
 */
class InvalidTopicTest {
    @TempDir
    Path dataDir;

    @Test
    void stream_ids_with_wildcards_or_nul_never_disconnect_a_subscriber_of_the_device() throws Exception {
        try (TestPlatform platform = TestPlatform.start(dataDir)) {
            TestProduct product = platform.createProduct("invalid-stream");
            TestDevice device = Clients.device(platform, product, "device");
            TestDevice watcher = Clients.device(platform, product, "watcher");
            Mqtt3BlockingClient client = Clients.hivemq(platform, watcher);
            Clients.connect(client, false);
            try (Mqtt3Publishes received = client.publishes(MqttGlobalPublishFilter.ALL)) {
                client.subscribeWith().topicFilter("/" + device.id() + "/#").qos(MqttQos.AT_LEAST_ONCE).send();

                // Whether the upload is refused (the stream-id rule) or stored, nothing may reach the subscriber.
                for (String stream : List.of("a#b", "#", "x+y", "n\u0000ul")) {
                    upload(platform, product, device, stream, 1);
                }
                upload(platform, product, device, "ok", 2);

                Mqtt3Publish p = next(received);
                assertThat(p.getTopic().toString()).isEqualTo("/" + device.id() + "/ok");
                assertThat(text(p)).isEqualTo("2");
                assertThat(client.getState().isConnected()).isTrue();
            } finally {
                client.disconnect();
            }

            // The persistent session resumes, and goes on receiving.
            try (Mqtt3Publishes received = client.publishes(MqttGlobalPublishFilter.ALL)) {
                assertThat(Clients.connect(client, false).isSessionPresent()).isTrue();
                upload(platform, product, device, "a#b", 3);
                upload(platform, product, device, "ok", 4);
                assertThat(text(next(received))).isEqualTo("4");
            } finally {
                client.disconnect();
            }
        }
    }

    @Test
    void a_message_to_an_invalid_topic_is_dropped_counted_and_logged_once() throws Exception {
        try (TestPlatform platform = TestPlatform.start(dataDir); LogCapture log = LogCapture.of("io.stratus.broker.Broker").attach()) {
            TestProduct product = platform.createProduct("invalid-publish");
            long productId = Long.parseLong(product.id());
            TestDevice watcher = Clients.device(platform, product, "watcher");
            Mqtt3BlockingClient client = Clients.hivemq(platform, watcher);
            Clients.connect(client, true);
            try (Mqtt3Publishes received = client.publishes(MqttGlobalPublishFilter.ALL)) {
                client.subscribeWith().topicFilter("#").qos(MqttQos.AT_LEAST_ONCE).send();

                for (String topic : List.of("/1/a#b", "/1/+", "/1/n\u0000ul", "")) {
                    assertThat(platform.platform().broker().publish(productId, new Message(topic, new byte[] {1}, 1, false)))
                            .as(topic).isCompleted();
                }
                platform.platform().broker().publish(productId, new Message("after", "probe".getBytes(UTF_8), 1, false));

                assertThat(next(received).getTopic().toString()).isEqualTo("after");
                assertThat(MonitoringTest.metric(platform, "stratus_mqtt_invalid_topic_dropped_total")).isEqualTo(4);
                assertThat(log.lines("message to invalid topic dropped (product " + productId + "): wildcard '#' in topic name"
                        + " in '/1/a#b' (further ones for a minute only counted)")).hasSize(1);
                assertThat(log.lines("invalid topic")).hasSize(1);
            } finally {
                client.disconnect();
            }
        }
    }

    @Test
    void a_stored_message_with_an_invalid_topic_is_dropped_and_the_session_resumes() throws Exception {
        try (TestPlatform platform = TestPlatform.start(dataDir)) {
            TestProduct product = platform.createProduct("invalid-stored");
            TestDevice watcher = Clients.device(platform, product, "watcher");
            TestDevice publisher = Clients.device(platform, product, "publisher");
            Mqtt3BlockingClient client = Clients.hivemq(platform, watcher);
            Clients.connect(client, false);
            client.subscribeWith().topicFilter("/d/#").qos(MqttQos.AT_LEAST_ONCE).send();
            client.disconnect();
            // What a server without the check queued for the offline session: a forward to a stream id with '#', then a
            // valid message behind it.
            platform.platform().database().withConnection(c -> {
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO session_message "
                        + "(session_key, seq, topic, qos, retain, payload, created_at) VALUES (?,?,?,?,?,?,?)")) {
                    ps.setString(1, product.id() + "/" + watcher.id());
                    ps.setLong(2, 1);
                    ps.setString(3, "/d/a#b");
                    ps.setInt(4, 1);
                    ps.setInt(5, 0);
                    ps.setBytes(6, "bad".getBytes(UTF_8));
                    ps.setLong(7, System.currentTimeMillis());
                    ps.executeUpdate();
                }
                return null;
            });
            Mqtt3BlockingClient pub = Clients.hivemq(platform, publisher);
            Clients.connect(pub, true);
            pub.publishWith().topic("/d/good").qos(MqttQos.AT_LEAST_ONCE).payload("good".getBytes(UTF_8)).send();
            pub.disconnect();

            platform.restart();

            // Each reconnect is accepted: the first gets the valid message, the second finds nothing left.
            for (int round = 0; round < 2; round++) {
                try (Mqtt3Publishes received = client.publishes(MqttGlobalPublishFilter.ALL)) {
                    assertThat(Clients.connect(client, false).isSessionPresent()).as("round " + round).isTrue();
                    if (round == 0) {
                        assertThat(next(received).getTopic().toString()).isEqualTo("/d/good");
                    }
                } finally {
                    client.disconnect();
                }
            }
            await().atMost(5, SECONDS).untilAsserted(() ->
                    assertThat(MonitoringTest.metric(platform, "stratus_mqtt_invalid_topic_dropped_total")).isEqualTo(1));
        }
    }

    private static void upload(TestPlatform platform, TestProduct product, TestDevice device, String stream, int value) {
        platform.withKey(product.masterKey(), "POST", "/devices/" + device.id() + "/datapoints",
                Map.of("datastreams", List.of(Map.of("id", stream, "datapoints", List.of(Map.of("value", value))))));
    }
}
