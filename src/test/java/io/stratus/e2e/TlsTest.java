package io.stratus.e2e;

import static io.stratus.tls.TestCertificates.handshake;
import static io.stratus.tls.TestCertificates.serial;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.stratus.e2e.TestPlatform.TestDevice;
import io.stratus.e2e.TestPlatform.TestProduct;
import io.stratus.tls.TestCertificates;
import io.stratus.tls.TestCertificates.Pem;
import io.stratus.tls.TestCertificates.ServedFiles;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * MQTT over TLS (docs/tls.md) with real clients: mosquitto_pub and mosquitto_sub with {@code --cafile}, Eclipse Paho
 * over {@code ssl://} with a client certificate that logs its device in, and what is refused: a client certificate from
 * another CA, an expired one, plain MQTT on the TLS port, handshakes over the caps (the server's, one address's) or
 * too slow, a TLS client that never sends CONNECT. A renewed certificate on disk is served to new connections while open ones continue.
 */
class TlsTest {
    @TempDir
    Path dir;
    private TestCertificates ca;
    private ServedFiles server;

    @BeforeEach
    void certificates() throws IOException {
        ca = TestCertificates.authority(dir.resolve("ca"), "Stratus Test CA");
        server = ca.servedFiles(dir);
    }

    private Map<String, String> tls(Map<String, String> more) {
        return server.settings(Map.of("mqtt.tls-port", "0", "tls.client-auth", "optional", "tls.client-ca",
                ca.caCert().toString(), "tls.cert-login", "true"), more);
    }

    @Test
    void mosquitto_sub_and_pub_with_cafile_exchange_a_message() throws Exception {
        try (LogCapture log = LogCapture.of("io.stratus.mqtt.TlsFront").attach();
             TestPlatform platform = TestPlatform.start(dir.resolve("data"), tls(Map.of()))) {
            assertThat(log.await("MQTT TLS by")).as("tls.provider=auto on linux-x86_64").contains("BoringSSL");
            TestProduct product = platform.createProduct("tls");
            TestDevice subscriber = Clients.device(platform, product, "sub");
            TestDevice publisher = Clients.device(platform, product, "pub");
            int port = platform.platform().mqttTlsPort();
            // Retained, so that the subscriber gets it whenever its SUBSCRIBE lands.
            Process pub = new ProcessBuilder("mosquitto_pub", "-h", "127.0.0.1", "-p", String.valueOf(port),
                    "--cafile", ca.caCert().toString(), "-i", publisher.id(), "-u", product.id(), "-P", publisher.authInfo(),
                    "-t", "greenhouse/air", "-q", "1", "-r", "-m", "21.5 over TLS").redirectErrorStream(true).start();
            assertThat(pub.waitFor(10, TimeUnit.SECONDS)).isTrue();
            assertThat(pub.exitValue()).as(new String(pub.getInputStream().readAllBytes(), UTF_8)).isZero();
            Process sub = new ProcessBuilder("mosquitto_sub", "-h", "127.0.0.1", "-p", String.valueOf(port),
                    "--cafile", ca.caCert().toString(), "-i", subscriber.id(), "-u", product.id(), "-P", subscriber.authInfo(),
                    "-t", "greenhouse/air", "-q", "1", "-C", "1", "-W", "10").redirectErrorStream(true).start();
            assertThat(sub.waitFor(15, TimeUnit.SECONDS)).isTrue();
            assertThat(new String(sub.getInputStream().readAllBytes(), UTF_8).strip()).isEqualTo("21.5 over TLS");
            assertThat(sub.exitValue()).isZero();
        }
    }

    @Test
    void a_client_certificate_naming_the_device_logs_in_without_a_password_and_uploads() throws Exception {
        // On the JDK's TLS, the fallback where BoringSSL's native library cannot load; the other tests run on BoringSSL.
        try (TestPlatform platform = TestPlatform.start(dir.resolve("data"), tls(Map.of("tls.provider", "jdk")))) {
            TestProduct product = platform.createProduct("cert-login");
            TestDevice device = Clients.device(platform, product, "meter");
            TestDevice other = Clients.device(platform, product, "other");
            SSLContext context = TestCertificates.clientContext(ca.caCert(), ca.client("meter", device.id()));

            MqttClient client = paho(platform, device.id(), context, product.id(), null);
            client.publish("$dp", Points.dp(3, "{\"level\":7}"), 1, false);
            assertThat(Clients.online(platform, product, device)).isTrue();
            client.disconnect();
            client.close();
            assertThat(platform.withKey(product.masterKey(), "GET", "/devices/" + device.id() + "/datapoints", null)
                    .data().path("count").asInt()).isEqualTo(1);

            // The certificate names one device only: another client id still needs its password.
            assertThatThrownBy(() -> paho(platform, other.id(), context, product.id(), null)).isInstanceOf(MqttException.class);
            MqttClient withPassword = paho(platform, other.id(), context, product.id(), other.authInfo());
            withPassword.disconnect();
            withPassword.close();
            // And the product must be the device's.
            assertThatThrownBy(() -> paho(platform, device.id(), context, "999999", null)).isInstanceOf(MqttException.class);
        }
    }

    @Test
    void without_cert_login_a_certificate_is_no_password() throws Exception {
        try (TestPlatform platform = TestPlatform.start(dir.resolve("data"), tls(Map.of("tls.cert-login", "false")))) {
            TestProduct product = platform.createProduct("no-cert-login");
            TestDevice device = Clients.device(platform, product, "meter");
            SSLContext context = TestCertificates.clientContext(ca.caCert(), ca.client("meter", device.id()));

            assertThatThrownBy(() -> paho(platform, device.id(), context, product.id(), null)).isInstanceOf(MqttException.class);
            assertThatThrownBy(() -> paho(platform, device.id(), context, product.id(), "wrong")).isInstanceOf(MqttException.class);
            MqttClient withPassword = paho(platform, device.id(), context, product.id(), device.authInfo());
            withPassword.disconnect();
            withPassword.close();
        }
    }

    @Test
    void another_ca_an_expired_certificate_and_plain_mqtt_on_the_tls_port_are_refused() throws Exception {
        try (TestPlatform platform = TestPlatform.start(dir.resolve("data"), tls(Map.of()))) {
            TestProduct product = platform.createProduct("refusals");
            TestDevice device = Clients.device(platform, product, "meter");
            int port = platform.platform().mqttTlsPort();
            TestCertificates stranger = TestCertificates.authority(dir.resolve("stranger"), "Stranger CA");
            Instant now = Instant.now();

            // The server's certificate is not from the CA this client trusts: the client ends the handshake.
            assertThatThrownBy(() -> handshake(port, TestCertificates.clientContext(stranger.caCert(), null)))
                    .isInstanceOf(IOException.class);
            // A client certificate from another CA, and an expired one from the right CA: the server ends it.
            for (Pem refused : List.of(stranger.client("foreign", device.id()),
                    ca.client("expired", device.id(), now.minus(3, ChronoUnit.DAYS), now.minus(2, ChronoUnit.DAYS)))) {
                SSLContext context = TestCertificates.clientContext(ca.caCert(), refused);
                assertThatThrownBy(() -> paho(platform, device.id(), context, product.id(), null))
                        .as("login with %s", refused.cert()).isInstanceOf(MqttException.class);
            }
            // Plain MQTT on the TLS port: no CONNACK, the connection is closed.
            try (Socket plain = new Socket("127.0.0.1", port)) {
                plain.setSoTimeout(5000);
                plain.getOutputStream().write(RawMqtt.connectPacket(4, device.id(), product.id(), device.authInfo(), 30, true));
                assertThat(readToEnd(plain.getInputStream())).as("bytes before the close").isLessThan(10);
            }
            assertThat(platform.metric("stratus_tls_handshakes_failed_total")).isGreaterThanOrEqualTo(4);
            assertThat(platform.metric("stratus_tls_handshakes_in_progress")).isZero();
            // The right certificate still works.
            MqttClient ok = paho(platform, device.id(), TestCertificates.clientContext(ca.caCert(), ca.client("ok", device.id())),
                    product.id(), null);
            ok.disconnect();
            ok.close();
        }
    }

    @Test
    void a_renewed_certificate_is_served_to_new_connections_while_open_ones_continue() throws Exception {
        try (TestPlatform platform = TestPlatform.start(dir.resolve("data"), tls(Map.of()))) {
            TestProduct product = platform.createProduct("rotation");
            TestDevice device = Clients.device(platform, product, "meter");
            int port = platform.platform().mqttTlsPort();
            SSLContext trusting = TestCertificates.clientContext(ca.caCert(), null);
            MqttClient open = paho(platform, device.id(), trusting, product.id(), device.authInfo());
            assertThat(handshake(port, trusting).getSerialNumber()).isEqualTo(serial(server.first().cert()));

            Pem renewed = ca.server("renewed");
            server.renew(renewed);

            await().atMost(Duration.ofSeconds(10)).until(() -> handshake(port, trusting).getSerialNumber().equals(serial(renewed.cert())));
            open.publish("greenhouse/air", "still here".getBytes(UTF_8), 1, false); // the old connection works on
            assertThat(open.isConnected()).isTrue();
            open.disconnect();
            open.close();
        }
    }

    @Test
    void handshakes_are_capped_and_timed_out_and_connect_is_still_awaited_after_one() throws Exception {
        Map<String, String> tight = tls(Map.of("tls.max-handshakes", "2", "tls.handshake-timeout-millis", "700",
                "mqtt.connect-timeout-seconds", "1"));
        try (TestPlatform platform = TestPlatform.start(dir.resolve("data"), tight)) {
            int port = platform.platform().mqttTlsPort();
            try (Socket first = new Socket("127.0.0.1", port); Socket second = new Socket("127.0.0.1", port)) {
                first.setSoTimeout(5000);
                second.setSoTimeout(5000);
                aThirdIsRefused(platform, InetAddress.getLoopbackAddress(), "stratus_tls_handshakes_refused_total");
                // Silent after connecting: the handshake timeout closes both.
                long t0 = System.nanoTime();
                assertThat(readToEnd(first.getInputStream())).isZero();
                assertThat(readToEnd(second.getInputStream())).isZero();
                assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(4));
            }
            await().atMost(Duration.ofSeconds(5)).until(() -> platform.metric("stratus_tls_handshakes_in_progress") == 0);
            // A finished handshake still owes a CONNECT within mqtt.connect-timeout-seconds.
            try (SSLSocket s = (SSLSocket) TestCertificates.clientContext(ca.caCert(), null).getSocketFactory()
                    .createSocket("127.0.0.1", port)) {
                s.setSoTimeout(5000);
                s.startHandshake();
                assertThat(readToEnd(s.getInputStream())).isZero();
            }
        }
    }

    @Test
    void one_address_cannot_hold_every_handshake_slot() throws Exception {
        Map<String, String> tight = tls(Map.of("tls.max-handshakes", "8", "tls.max-handshakes-per-address", "2",
                "tls.handshake-timeout-millis", "5000"));
        try (TestPlatform platform = TestPlatform.start(dir.resolve("data"), tight)) {
            int port = platform.platform().mqttTlsPort();
            InetAddress attacker = InetAddress.getByName("127.0.0.1");
            try (Socket first = new Socket("127.0.0.1", port, attacker, 0); Socket second = new Socket("127.0.0.1", port, attacker, 0)) {
                aThirdIsRefused(platform, attacker, "stratus_tls_handshakes_refused_per_address_total");
                assertThat(platform.metric("stratus_tls_handshakes_refused_total")).isZero();
                // Another address still gets its handshake while the first holds its share.
                try (SSLSocket device = (SSLSocket) TestCertificates.clientContext(ca.caCert(), null).getSocketFactory()
                        .createSocket("127.0.0.1", port, InetAddress.getByName("127.0.0.2"), 0)) {
                    device.setSoTimeout(5000);
                    device.startHandshake();
                    assertThat(device.getSession().getProtocol()).isEqualTo("TLSv1.3");
                }
            }
            // The address's slots are given back when its handshakes end (here: the sockets closed).
            await().atMost(Duration.ofSeconds(5)).until(() -> platform.metric("stratus_tls_handshakes_in_progress") == 0);
            try (SSLSocket again = (SSLSocket) TestCertificates.clientContext(ca.caCert(), null).getSocketFactory()
                    .createSocket("127.0.0.1", port, attacker, 0)) {
                again.setSoTimeout(5000);
                again.startHandshake();
            }
            assertThat(platform.metric("stratus_tls_handshakes_refused_per_address_total")).isEqualTo(1);
        }
    }

    /**
     * With two silent TLS connections in progress, a third from {@code from} is closed at once and counted in
     * {@code refusedCounter}.
     */
    private static void aThirdIsRefused(TestPlatform platform, InetAddress from, String refusedCounter) throws IOException {
        await().atMost(Duration.ofSeconds(5)).until(() -> platform.metric("stratus_tls_handshakes_in_progress") == 2);
        try (Socket third = new Socket("127.0.0.1", platform.platform().mqttTlsPort(), from, 0)) {
            third.setSoTimeout(5000);
            assertThat(readToEnd(third.getInputStream())).as("over the cap: closed at once").isZero();
        }
        assertThat(platform.metric(refusedCounter)).isEqualTo(1);
    }

    private static MqttClient paho(TestPlatform platform, String clientId, SSLContext context, String user, String password)
            throws MqttException {
        MqttClient client = new MqttClient("ssl://127.0.0.1:" + platform.platform().mqttTlsPort(), clientId, new MemoryPersistence());
        MqttConnectOptions o = new MqttConnectOptions();
        o.setSocketFactory(context.getSocketFactory());
        o.setUserName(user);
        if (password != null) {
            o.setPassword(password.toCharArray());
        }
        o.setCleanSession(true);
        o.setConnectionTimeout(5);
        o.setAutomaticReconnect(false);
        try {
            client.connect(o);
        } catch (MqttException e) {
            client.close();
            throw e;
        }
        return client;
    }

    /** Reads until the server closes the connection; the number of bytes read. Fails on a read timeout. */
    private static int readToEnd(InputStream in) throws IOException {
        int total = 0;
        byte[] buf = new byte[4096];
        try {
            for (int n; (n = in.read(buf)) >= 0; ) {
                total += n;
            }
        } catch (SocketTimeoutException e) {
            throw new AssertionError("the server did not close the connection", e);
        } catch (IOException reset) {
            // a reset is a close too
        }
        return total;
    }
}
