package io.stratus.api;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.stratus.api.EventsApiTest.EventReader;
import io.stratus.e2e.TestPlatform;
import io.stratus.e2e.TestPlatform.TestProduct;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * What one product can do to {@code GET /events} (issue 14): streams are bounded per product, per credential and in
 * all; a slot is free as soon as its client leaves; a stream ends with {@code revoked} when its credential stops
 * holding; wrong tokens count as failed logins.
 */
class EventsGuardsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    Path dataDir;
    private final List<AutoCloseable> open = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : open) {
            c.close();
        }
    }

    @Test
    void a_product_at_its_stream_bound_gets_errno_13_while_other_products_still_stream() throws Exception {
        try (TestPlatform platform = TestPlatform.start(dataDir, Map.of("events.max-streams", "6",
                "events.max-streams-per-product", "2", "events.max-streams-per-credential", "2"))) {
            TestProduct a = platform.createProduct("A");
            TestProduct b = platform.createProduct("B");
            TestProduct c = platform.createProduct("C");
            stream(platform, "/events?token=" + a.masterKey());
            stream(platform, "/events?token=" + a.masterKey());

            HttpResponse<String> aThird = get(platform, "/events?token=" + a.masterKey());
            stream(platform, "/events?token=" + b.masterKey());
            stream(platform, "/events?token=" + platform.adminToken()); // every product: counted per credential only
            stream(platform, "/events?token=" + platform.adminToken());
            HttpResponse<String> adminThird = get(platform, "/events?token=" + platform.adminToken());
            stream(platform, "/events?token=" + c.masterKey()); // the sixth
            HttpResponse<String> serverFull = get(platform, "/events?token=" + c.masterKey());

            assertThat(aThird.statusCode()).isEqualTo(429);
            assertThat(JSON.readTree(aThird.body()).path("errno").asInt()).isEqualTo(13);
            assertThat(JSON.readTree(aThird.body()).path("error").asText()).contains("events.max-streams-per-product");
            assertThat(adminThird.statusCode()).isEqualTo(429);
            assertThat(JSON.readTree(adminThird.body()).path("error").asText()).contains("events.max-streams-per-credential");
            assertThat(serverFull.statusCode()).isEqualTo(503);
            assertThat(JSON.readTree(serverFull.body()).path("errno").asInt()).isEqualTo(13);
            assertThat(JSON.readTree(serverFull.body()).path("error").asText()).contains("events.max-streams)");
            assertThat(platform.metric("stratus_event_streams")).isEqualTo(6);
            assertThat(platform.metric("stratus_event_streams_refused_total")).isEqualTo(3);
        }
    }

    /** Before, a closed stream's slot was freed only at the next heartbeat write, 15 s later or more. */
    @Test
    void a_slot_is_free_as_soon_as_the_client_closes_its_connection() throws Exception {
        try (TestPlatform platform = TestPlatform.start(dataDir, Map.of("events.max-streams-per-credential", "1"))) {
            TestProduct p = platform.createProduct("P");
            for (int i = 0; i < 3; i++) {
                try (Socket s = new Socket("127.0.0.1", platform.platform().httpPort())) {
                    s.getOutputStream().write(("GET /events?token=" + p.masterKey() + " HTTP/1.1\r\nHost: localhost\r\n"
                            + "Accept: text/event-stream\r\n\r\n").getBytes(UTF_8));
                    BufferedReader reader = new BufferedReader(new InputStreamReader(s.getInputStream(), UTF_8));
                    assertThat(reader.readLine()).contains("200");
                    assertThat(get(platform, "/events?token=" + p.masterKey()).statusCode()).isEqualTo(429);
                }
                await().atMost(2, SECONDS).untilAsserted(() -> assertThat(platform.metric("stratus_event_streams")).isZero());
            }
            stream(platform, "/events?token=" + p.masterKey());
        }
    }

    @Test
    void clients_that_leave_their_streams_leave_no_warning_in_the_log() throws Exception {
        Logger root = (Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME);
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.setContext(root.getLoggerContext());
        appender.start();
        root.addAppender(appender);
        try (TestPlatform platform = TestPlatform.start(dataDir)) {
            TestProduct p = platform.createProduct("P");
            for (int i = 0; i < 3; i++) {
                try (Socket s = new Socket("127.0.0.1", platform.platform().httpPort())) {
                    s.getOutputStream().write(("GET /events?token=" + p.masterKey() + " HTTP/1.1\r\nHost: localhost\r\n"
                            + "Accept: text/event-stream\r\n\r\n").getBytes(UTF_8));
                    assertThat(new BufferedReader(new InputStreamReader(s.getInputStream(), UTF_8)).readLine()).contains("200");
                }
                await().atMost(2, SECONDS).untilAsserted(() -> assertThat(platform.metric("stratus_event_streams")).isZero());
            }
        } finally {
            root.detachAppender(appender);
        }
        // Leaving is what stream clients do: it must not be logged as a failure (it was, once per stream, with a stack
        // trace from the error handler reading the path of a request Jetty had already recycled).
        assertThat(appender.list).filteredOn(e -> e.getLevel().isGreaterOrEqual(Level.WARN))
                .extracting(ILoggingEvent::getFormattedMessage)
                .filteredOn(m -> m.contains("threw an error") || m.contains("Uncaught exception") || m.contains("failed"))
                .isEmpty();
    }

    @Test
    void an_open_stream_ends_with_revoked_after_logout_master_key_rotation_or_product_deletion() throws Exception {
        try (TestPlatform platform = TestPlatform.start(dataDir)) {
            TestProduct rotated = platform.createProduct("rotated"); // no devices: the registry tells no listener
            TestProduct deleted = platform.createProduct("deleted");
            platform.createDevice(deleted, "d", "sn-deleted");
            String session = platform.call("POST", "/auth/login", Map.of("username", "admin", "password",
                    TestPlatform.ADMIN_PASSWORD), Map.of()).data().path("token").asText();
            EventReader ofSession = stream(platform, "/events?token=" + session);
            EventReader ofRotatedKey = stream(platform, "/events?token=" + rotated.masterKey());
            EventReader ofDeletedKey = stream(platform, "/events?token=" + deleted.masterKey());
            EventReader adminOnDeleted = stream(platform, "/events?product_id=" + deleted.id() + "&token=" + platform.adminToken());
            EventReader adminOnAll = stream(platform, "/events?token=" + platform.adminToken());

            assertThat(platform.call("POST", "/auth/logout", null, Map.of("Authorization", "Bearer " + session)).errno()).isZero();
            assertThat(ofSession.await("revoked").path("reason").asText()).isEqualTo("the admin session ended");
            assertThat(platform.asAdmin("POST", "/products/" + rotated.id() + "/master_key", null).errno()).isZero();
            assertThat(ofRotatedKey.await("revoked").path("reason").asText()).isEqualTo("the master key was rotated");
            assertThat(platform.asAdmin("DELETE", "/products/" + deleted.id(), null).errno()).isZero();
            assertThat(ofDeletedKey.await("revoked").path("reason").asText()).isEqualTo("the product was deleted");
            assertThat(adminOnDeleted.await("revoked").path("reason").asText()).isEqualTo("the product was deleted");

            for (EventReader ended : List.of(ofSession, ofRotatedKey, ofDeletedKey, adminOnDeleted)) {
                await().atMost(5, SECONDS).until(() -> ended.ended); // the server closed the stream
            }
            assertThat(adminOnAll.ended).as("the admin's own stream of every product goes on").isFalse();
            assertThat(adminOnAll.events).extracting(e -> e.name()).doesNotContain("revoked");
            assertThat(get(platform, "/events?token=" + session).statusCode()).isEqualTo(403);
            assertThat(get(platform, "/events?token=" + rotated.masterKey()).statusCode()).isEqualTo(403);
            await().atMost(5, SECONDS).untilAsserted(() -> assertThat(platform.metric("stratus_event_streams")).isEqualTo(1));
        }
    }

    @Test
    void wrong_tokens_on_events_count_as_failed_logins_and_are_throttled() throws Exception {
        try (TestPlatform platform = TestPlatform.start(dataDir, Map.of("auth.max-failures-per-address", "3",
                "auth.backoff-base-millis", "60000"))) {
            TestProduct p = platform.createProduct("P");
            for (int i = 0; i < 3; i++) {
                HttpResponse<String> wrong = get(platform, "/events?token=guess-" + i);
                assertThat(wrong.statusCode()).isEqualTo(403);
                assertThat(JSON.readTree(wrong.body()).path("errno").asInt()).isEqualTo(3);
            }

            HttpResponse<String> blocked = get(platform, "/events?token=" + p.masterKey());

            assertThat(blocked.statusCode()).isEqualTo(429);
            assertThat(JSON.readTree(blocked.body()).path("errno").asInt()).isEqualTo(3);
            assertThat(blocked.headers().firstValue("Retry-After")).isPresent();
            assertThat(platform.metric("stratus_auth_failures_total")).isEqualTo(3);
            assertThat(platform.metric("stratus_auth_blocked_total")).isGreaterThanOrEqualTo(1);
        }
    }

    // ---- helpers -----------------------------------------------------------------------------------

    private static HttpResponse<String> get(TestPlatform platform, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + platform.platform().httpPort() + path))
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Opens a stream that must be accepted, read on its own thread until the test ends. */
    private EventReader stream(TestPlatform platform, String path) throws Exception {
        HttpResponse<InputStream> response = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + platform.platform().httpPort() + path)).header("Accept", "text/event-stream").build(),
                HttpResponse.BodyHandlers.ofInputStream());
        if (response.statusCode() != 200) {
            String body = new String(response.body().readAllBytes(), UTF_8);
            throw new AssertionError("GET " + path.replaceAll("token=[^&]+", "token=...") + ": HTTP " + response.statusCode()
                    + " " + body);
        }
        EventReader reader = new EventReader(response.body());
        open.add(reader);
        return reader;
    }
}
