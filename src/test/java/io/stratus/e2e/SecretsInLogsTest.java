package io.stratus.e2e;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.read.ListAppender;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;
import io.stratus.e2e.TestPlatform.Reply;
import io.stratus.e2e.TestPlatform.TestDevice;
import io.stratus.e2e.TestPlatform.TestProduct;
import io.stratus.device.Secrets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * No secret reaches the log: after a full flow (admin login, products, devices, keys, MQTT logins right and wrong,
 * data points, commands, key rotation, failed logins) no line at any level down to DEBUG, stack traces included,
 * contains the admin password, a session token, a master key, a device's auth_info, a register code, a device-level
 * key or a wrong password someone tried. Generated secrets have at least 128 bits from SecureRandom.
 */
class SecretsInLogsTest {
    @TempDir
    Path dataDir;

    @Test
    void a_full_flow_logs_no_secret() throws Exception {
        Logger root = (Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME);
        Logger stratus = (Logger) LoggerFactory.getLogger("io.stratus");
        Level rootLevel = root.getLevel();
        Level stratusLevel = stratus.getLevel();
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.setContext(root.getLoggerContext());
        appender.start();
        root.addAppender(appender);
        root.setLevel(Level.INFO);
        stratus.setLevel(Level.DEBUG);
        List<String> secrets = new ArrayList<>();
        try (TestPlatform platform = TestPlatform.start(dataDir)) {
            secrets.add(TestPlatform.ADMIN_PASSWORD);
            secrets.add(platform.adminToken());
            TestProduct product = platform.createProduct("p");
            secrets.add(product.masterKey());
            secrets.add(platform.asAdmin("GET", "/products/" + product.id(), null).data().path("register_code").asText());
            TestDevice device = platform.createDevice(product, "d", "device-auth-info-secret");
            secrets.add(device.authInfo());
            Reply key = platform.withKey(product.masterKey(), "POST", "/keys", Map.of("title", "k",
                    "permissions", List.of(Map.of("resources", List.of(Map.of("dev_id", device.id()))))));
            if (key.errno() == 0) {
                secrets.add(key.data().path("key").asText());
            }

            Mqtt3BlockingClient client = Clients.hivemq(platform, device);
            Clients.connect(client, false);
            client.subscribeWith().topicFilter("#").qos(MqttQos.AT_LEAST_ONCE).send();
            client.publishWith().topic("$dp").qos(MqttQos.AT_LEAST_ONCE).payload(Points.dp(3, "{\"t\":1}")).send();
            client.publishWith().topic("a/b").qos(MqttQos.AT_LEAST_ONCE).payload("x".getBytes(UTF_8)).send();
            platform.call("POST", "/cmds?device_id=" + device.id(), "cmd", Map.of("api-key", product.masterKey()));
            client.disconnect();
            try (RawMqtt raw = new RawMqtt(platform.mqttPort())) {
                raw.connect(device.id(), product.id(), "wrong-password-tried", 30, true);
            }
            try (RawMqtt raw = new RawMqtt(platform.mqttPort())) {
                raw.connect(device.id(), product.id(), product.masterKey(), 30, true);
            }
            secrets.add("wrong-password-tried");
            platform.call("POST", "/auth/login", Map.of("username", "admin", "password", "wrong-admin-guess"), Map.of());
            secrets.add("wrong-admin-guess");
            platform.withKey("wrong-api-key-guess", "GET", "/devices", null);
            secrets.add("wrong-api-key-guess");
            Reply rotated = platform.asAdmin("POST", "/products/" + product.id() + "/master_key", null);
            secrets.add(rotated.data().path("master_key").asText());
            platform.withKey(product.masterKey(), "GET", "/devices", null); // the old key, now wrong
            platform.asAdmin("POST", "/auth/logout", null);
            platform.restart();
        } finally {
            root.detachAppender(appender);
            root.setLevel(rootLevel);
            stratus.setLevel(stratusLevel);
        }
        List<String> lines;
        synchronized (appender) {
            lines = appender.list.stream().map(e -> e.getFormattedMessage()
                    + (e.getThrowableProxy() == null ? "" : ThrowableProxyUtil.asString(e.getThrowableProxy()))).toList();
        }
        assertThat(lines).as("the flow logged something").hasSizeGreaterThan(5);
        secrets.removeIf(s -> s == null || s.isEmpty());
        assertThat(secrets).hasSizeGreaterThanOrEqualTo(8);
        for (String secret : secrets) {
            assertThat(lines).as("log lines containing a secret").noneMatch(line -> line.contains(secret));
        }
    }

    @Test
    void generated_secrets_are_long_random_and_distinct() {
        // Secrets.token(n) is n bytes of SecureRandom, URL-safe Base64: master keys use 24 bytes (192 bits),
        // register codes 16 (128 bits), session tokens 24, device-level keys KeyRegistry.KEY_BYTES, a generated admin
        // password 16 (128 bits).
        List<String> tokens = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            tokens.add(Secrets.token(16));
        }
        assertThat(tokens).doesNotHaveDuplicates().allMatch(t -> t.length() == 22 && t.matches("[A-Za-z0-9_-]+"));
    }
}
