package io.stratus.e2e;

import static io.stratus.tls.TestCertificates.handshake;
import static io.stratus.tls.TestCertificates.serial;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.stratus.e2e.TestPlatform.TestProduct;
import io.stratus.tls.TestCertificates;
import io.stratus.tls.TestCertificates.Pem;
import io.stratus.tls.TestCertificates.ServedFiles;
import java.io.IOException;
import java.net.Socket;
import java.net.SocketException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HTTP API and console over HTTPS ({@code http.tls-port}, docs/tls.md) with real clients: the JDK HttpClient,
 * curl and openssl s_client. The certificate is the MQTT TLS port's, renewed on disk without a restart; the
 * protocols and cipher suites are Stratus's own policy, not the JDK's defaults; client certificates are required
 * when {@code tls.client-auth=require}.
 */
class HttpsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;
    private TestCertificates ca;
    private ServedFiles server;

    @BeforeEach
    void certificates() throws IOException {
        ca = TestCertificates.authority(dir.resolve("ca"), "Stratus Test CA");
        server = ca.servedFiles(dir);
    }

    /** HTTPS and MQTT over TLS on free ports. */
    private Map<String, String> tls(Map<String, String> more) {
        return server.settings(Map.of("mqtt.tls-port", "0", "http.tls-port", "0"), more);
    }

    @Test
    void info_and_the_api_answer_over_https_to_a_client_trusting_the_ca() throws Exception {
        try (TestPlatform platform = TestPlatform.start(dir.resolve("data"), tls(Map.of()))) {
            TestProduct product = platform.createProduct("https");
            int httpsPort = platform.platform().httpTlsPort();
            assertThat(httpsPort).isPositive().isNotEqualTo(platform.platform().httpPort());
            HttpClient client = client(TestCertificates.clientContext(ca.caCert(), null));

            JsonNode info = call(client, httpsPort, "GET", "/info", product.masterKey(), null);
            assertThat(info.path("errno").asInt()).as(info.toString()).isZero();
            assertThat(info.path("data").path("https_port").asInt()).isEqualTo(httpsPort);
            assertThat(info.path("data").path("mqtt_tls_port").asInt()).isEqualTo(platform.platform().mqttTlsPort()).isPositive();
            assertThat(info.path("data").path("mqtt_port").asInt()).isEqualTo(platform.mqttPort());

            JsonNode created = call(client, httpsPort, "POST", "/devices", product.masterKey(),
                    "{\"title\":\"meter\",\"auth_info\":\"sn-1\"}");
            assertThat(created.path("errno").asInt()).as(created.toString()).isZero();
            String deviceId = created.path("data").path("device_id").asText();
            JsonNode device = call(client, httpsPort, "GET", "/devices/" + deviceId, product.masterKey(), null);
            assertThat(device.path("data").path("auth_info").asText()).isEqualTo("sn-1");
            // A wrong key is refused over HTTPS as over HTTP.
            assertThat(call(client, httpsPort, "GET", "/devices/" + deviceId, "not-a-key", null).path("errno").asInt()).isEqualTo(3);
            // And plain HTTP stays on its own port, with the same facts.
            assertThat(platform.withKey(product.masterKey(), "GET", "/info", null).data().path("https_port").asInt())
                    .isEqualTo(httpsPort);
        }
    }

    @Test
    void curl_with_the_ca_gets_healthz_and_curl_without_it_fails_verification() throws Exception {
        try (TestPlatform platform = TestPlatform.start(dir.resolve("data"), tls(Map.of()))) {
            String url = "https://127.0.0.1:" + platform.platform().httpTlsPort() + "/healthz";

            Run trusted = run("curl", "-sS", "--max-time", "10", "--cacert", ca.caCert().toString(), "-o", "-",
                    "-w", "\n%{http_code}", url);
            assertThat(trusted.exit()).as(trusted.output()).isZero();
            assertThat(trusted.output()).contains("\"status\"").endsWith("\n200");

            Run untrusted = run("curl", "-sS", "--max-time", "10", url);
            assertThat(untrusted.exit()).as("curl's code for a certificate it cannot verify: " + untrusted.output()).isEqualTo(60);
        }
    }

    @Test
    void another_ca_plain_http_tls_1_1_and_a_cbc_suite_are_refused() throws Exception {
        try (TestPlatform platform = TestPlatform.start(dir.resolve("data"), tls(Map.of()))) {
            int port = platform.platform().httpTlsPort();
            TestCertificates stranger = TestCertificates.authority(dir.resolve("stranger"), "Stranger CA");

            HttpClient trustingAnother = client(TestCertificates.clientContext(stranger.caCert(), null));
            assertThatThrownBy(() -> call(trustingAnother, port, "GET", "/healthz", null, null)).isInstanceOf(IOException.class);

            try (Socket plain = new Socket("127.0.0.1", port)) {
                plain.setSoTimeout(5000);
                plain.getOutputStream().write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(UTF_8));
                String reply;
                try {
                    reply = new String(plain.getInputStream().readAllBytes(), UTF_8);
                } catch (SocketException reset) {
                    reply = "";
                }
                assertThat(reply).as("plain HTTP on the HTTPS port: a TLS alert, no HTTP reply").doesNotContain("HTTP/1.1");
            }

            // The JDK client no longer offers TLS 1.1 at all, so openssl asks (security level 0 lets it send the hello).
            Run tls11 = opensslClient(port, "-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0");
            assertThat(tls11.exit()).as(tls11.output()).isNotZero();
            assertThat(tls11.output()).as("the server's alert").contains("alert protocol version");
            // A TLS 1.2 suite the JDK enables by default but TlsPolicy leaves out (CBC, no AEAD) ...
            Run cbc = opensslClient(port, "-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA256");
            assertThat(cbc.exit()).as(cbc.output()).isNotZero();
            // ... while an AEAD one is accepted over TLS 1.2.
            Run gcm = opensslClient(port, "-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256");
            assertThat(gcm.exit()).as(gcm.output()).isZero();
            assertThat(gcm.output()).contains("ECDHE-ECDSA-AES128-GCM-SHA256");
        }
    }

    @Test
    void a_renewed_certificate_is_served_to_new_https_connections() throws Exception {
        try (TestPlatform platform = TestPlatform.start(dir.resolve("data"), tls(Map.of()))) {
            int port = platform.platform().httpTlsPort();
            SSLContext trusting = TestCertificates.clientContext(ca.caCert(), null);
            assertThat(handshake(port, trusting).getSerialNumber()).isEqualTo(serial(server.first().cert()));

            Pem renewed = ca.server("renewed");
            server.renew(renewed);

            await().atMost(Duration.ofSeconds(10)).until(() -> handshake(port, trusting).getSerialNumber().equals(serial(renewed.cert())));
            HttpClient client = client(trusting);
            assertThat(call(client, port, "GET", "/healthz", null, null).path("ready").asBoolean()).isTrue();
            // The MQTT TLS port took the same renewal.
            assertThat(handshake(platform.platform().mqttTlsPort(), trusting).getSerialNumber()).isEqualTo(serial(renewed.cert()));
        }
    }

    @Test
    void with_client_auth_required_only_a_client_with_a_certificate_from_the_ca_gets_in() throws Exception {
        Map<String, String> require = tls(Map.of("tls.client-auth", "require", "tls.client-ca", ca.caCert().toString()));
        try (TestPlatform platform = TestPlatform.start(dir.resolve("data"), require)) {
            TestProduct product = platform.createProduct("mtls");
            int port = platform.platform().httpTlsPort();

            HttpClient anonymous = client(TestCertificates.clientContext(ca.caCert(), null));
            assertThatThrownBy(() -> call(anonymous, port, "GET", "/info", product.masterKey(), null)).isInstanceOf(IOException.class);
            TestCertificates stranger = TestCertificates.authority(dir.resolve("stranger"), "Stranger CA");
            HttpClient foreign = client(TestCertificates.clientContext(ca.caCert(), stranger.client("app", "app")));
            assertThatThrownBy(() -> call(foreign, port, "GET", "/info", product.masterKey(), null)).isInstanceOf(IOException.class);

            HttpClient withCertificate = client(TestCertificates.clientContext(ca.caCert(), ca.client("app", "app")));
            JsonNode info = call(withCertificate, port, "GET", "/info", product.masterKey(), null);
            assertThat(info.path("errno").asInt()).as(info.toString()).isZero();
            assertThat(info.path("data").path("https_port").asInt()).isEqualTo(port);
        }
    }

    private static HttpClient client(SSLContext context) {
        return HttpClient.newBuilder().sslContext(context).version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();
    }

    /** An HTTPS call; the reply's JSON body. */
    private static JsonNode call(HttpClient client, int port, String method, String path, String key, String body)
            throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(10))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (key != null) {
            b.header("api-key", key);
        }
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        return JSON.readTree(client.send(b.build(), HttpResponse.BodyHandlers.ofByteArray()).body());
    }

    private record Run(int exit, String output) {}

    private static Run run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(
                Path.of("/dev/null").toFile())).start();
        String out = new String(p.getInputStream().readAllBytes(), UTF_8);
        assertThat(p.waitFor(20, TimeUnit.SECONDS)).as("%s finished", command[0]).isTrue();
        return new Run(p.exitValue(), out);
    }

    /** openssl s_client to the port with extra options; exit 0 only when the handshake completed. */
    private Run opensslClient(int port, String... options) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("openssl", "s_client", "-connect", "127.0.0.1:" + port,
                "-CAfile", ca.caCert().toString(), "-verify_return_error", "-brief"));
        command.addAll(List.of(options));
        return run(command.toArray(String[]::new));
    }
}
