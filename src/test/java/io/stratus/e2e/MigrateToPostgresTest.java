package io.stratus.e2e;

import static io.stratus.e2e.Clients.next;
import static io.stratus.e2e.Clients.text;
import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient.Mqtt3Publishes;
import com.hivemq.client.mqtt.mqtt3.message.publish.Mqtt3Publish;
import io.stratus.Main;
import io.stratus.e2e.TestPlatform.Reply;
import io.stratus.e2e.TestPlatform.TestDevice;
import io.stratus.e2e.TestPlatform.TestProduct;
import io.stratus.store.PostgresServer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code stratus migrate}: what a server stored in its embedded SQLite file is all there, through the HTTP API and
 * MQTT, when a server starts on the PostgreSQL database it was migrated to; and what the command refuses.
 */
class MigrateToPostgresTest {
    private static final String RETAINED_TOPIC = "migrate/retained";
    private static final String QUEUED_TOPIC = "migrate/queued";
    /** The source is the embedded store, whichever store the other tests run on. */
    private static final Map<String, String> EMBEDDED = Map.of("store.url", "");
    /** Points of one stream, one a second from {@link #FIRST_POINT}: more than two batches of the copy. */
    private static final int POINTS = 12_000;
    private static final long FIRST_POINT = 1_700_000_000_000L;

    @TempDir
    Path sqliteDir;
    @TempDir
    Path postgresDataDir;

    /** What the first server was given, to find it again on the second. */
    record Fixture(TestProduct product, TestDevice sensor, TestDevice subscriber, TestDevice sleeper, String openCommand,
            String answeredCommand, long triggerId, String binaryIndex) {}

    /** A command-line run: exit code and what it printed. */
    record Run(int exitCode, String out, String err) {}

    @Test
    void everything_a_server_stored_in_sqlite_is_there_after_migrating_to_postgresql() throws Exception {
        Fixture f;
        Map<String, JsonNode> before;
        try (TestPlatform sqlite = TestPlatform.start(sqliteDir, EMBEDDED)) {
            f = fill(sqlite);
            before = snapshot(sqlite, f);
        }
        String url = PostgresServer.get().createDatabase();

        Run run = migrate(sqliteDir, url);
        assertThat(run.exitCode()).as("exit code; stderr: %s", run.err()).isZero();
        assertThat(run.out()).contains("created 1 monthly history partitions").contains("copied datapoint: ")
                .contains("row counts match")
                .containsPattern("(?m)^migrated \\d+ rows in \\d+\\.\\d s, \\d+ rows/s$");
        Run again = migrate(sqliteDir, url);
        assertThat(again.exitCode()).isEqualTo(2);
        assertThat(again.err()).contains("already holds Stratus data").contains("product");

        try (TestPlatform postgres = TestPlatform.start(postgresDataDir, Map.of("store.url", url))) {
            assertThat(snapshot(postgres, f)).isEqualTo(before);
            String key = f.product().masterKey();
            assertThat(Cmds.status(postgres, key, f.answeredCommand())).isEqualTo(4);
            assertThat(Cmds.response(postgres, key, f.answeredCommand()).text()).isEqualTo("done");
            try (Cmds.Device sleeper = Cmds.Device.connect(postgres, f.sleeper())) {
                assertThat(new String(sleeper.nextCommand(f.openCommand()).getPayloadAsBytes(), UTF_8)).isEqualTo("wake up");
                await().atMost(5, SECONDS).until(() -> Cmds.status(postgres, key, f.openCommand()) == 2);
            }
            queuedMessageAndSubscriptionAreBack(postgres, f);
            retainedMessageIsDeliveredOnSubscribe(postgres, f);
            // The sequences moved past the copied ids: new rows get new ones.
            TestProduct newer = postgres.createProduct("after migration");
            assertThat(Long.parseLong(newer.id())).isGreaterThan(Long.parseLong(f.product().id()));
            assertThat(Long.parseLong(Clients.device(postgres, newer, "new").id())).isGreaterThan(Long.parseLong(f.sleeper().id()));
        }
    }

    @Test
    void a_store_its_server_still_runs_on_is_refused_with_exit_code_2() {
        try (TestPlatform running = TestPlatform.start(sqliteDir, EMBEDDED)) {
            running.createProduct("running");
            Run run = migrate(sqliteDir, PostgresServer.get().createDatabase());
            assertThat(run.exitCode()).isEqualTo(2);
            assertThat(run.err()).contains("in use by a running Stratus server");
            assertThat(run.out()).doesNotContain("copied");
        }
    }

    @Test
    void a_directory_without_a_store_is_refused_with_exit_code_2() {
        Run run = migrate(sqliteDir, "postgresql://stratus@127.0.0.1:1/unused");
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("no Stratus store in");
    }

    /** Every kind of row a server keeps: products, devices, keys, points, streams, commands, triggers, sessions. */
    private static Fixture fill(TestPlatform p) throws Exception {
        TestProduct product = p.createProduct("migrate");
        String key = product.masterKey();
        TestDevice sensor = Clients.device(p, product, "sensor");
        TestDevice subscriber = Clients.device(p, product, "subscriber");
        TestDevice sleeper = Clients.device(p, product, "sleeper");
        for (int i = 0; i < POINTS; i += 1_000) { // more than one batch of the copy
            StringBuilder body = new StringBuilder("{\"datastreams\":[{\"id\":\"temp\",\"datapoints\":[");
            for (int j = i; j < i + 1_000; j++) {
                body.append(j == i ? "" : ",").append("{\"at\":\"").append(Points.queryTime(FIRST_POINT + j * 1_000L))
                        .append("\",\"value\":").append(j).append('}');
            }
            Points.upload(p, key, sensor.id(), body.append("]}]}").toString());
        }
        Points.upload(p, key, sensor.id(), "{\"datastreams\":[{\"id\":\"state\",\"datapoints\":[{\"value\":{\"on\":true,\"mode\":\"eco\"}}]}]}");
        HttpResponse<byte[]> bindata = Points.rawHttp(p, key, "POST", "/bindata?device_id=" + sensor.id()
                + "&datastream_id=pic&desc=photo", Points.blob(10_000));
        String index = Points.parse(bindata.body()).path("data").path("index").asText();

        String open = Cmds.send(p, key, sleeper, "qos=1&timeout=600", "wake up");
        String answered;
        try (Cmds.Device d = Cmds.Device.connect(p, sensor)) {
            answered = Cmds.send(p, key, sensor, "qos=1&timeout=600", "do it");
            d.nextCommand(answered);
            d.answer(answered, "done");
        }
        Reply deviceKey = p.withKey(key, "POST", "/keys", Map.of("title", "sensor only", "permissions",
                List.of(Map.of("access_methods", List.of("get"), "resources", List.of(Map.of("dev_id", sensor.id()))))));
        assertThat(deviceKey.errno()).as("%s", deviceKey.body()).isZero();
        Reply trigger = p.withKey(key, "POST", "/triggers", Map.of("title", "hot", "ds_id", "temp",
                "url", "http://203.0.113.10/hook", "type", ">", "threshold", 1e9, "dev_ids", List.of(sensor.id())));
        assertThat(trigger.errno()).as("%s", trigger.body()).isZero();

        Mqtt3BlockingClient sub = Clients.hivemq(p, subscriber);
        Clients.connect(sub, false);
        sub.subscribeWith().topicFilter(QUEUED_TOPIC).qos(MqttQos.AT_LEAST_ONCE).send();
        sub.disconnect();
        Mqtt3BlockingClient pub = Clients.hivemq(p, sensor);
        Clients.connect(pub, true);
        pub.publishWith().topic(RETAINED_TOPIC).qos(MqttQos.AT_LEAST_ONCE).retain(true).payload("kept".getBytes(UTF_8)).send();
        pub.publishWith().topic(QUEUED_TOPIC).qos(MqttQos.AT_LEAST_ONCE).payload("while away".getBytes(UTF_8)).send();
        pub.disconnect();
        // The snapshot compares presence too: the server handles a DISCONNECT after the client has sent it.
        await().atMost(Duration.ofSeconds(5)).until(() -> !Clients.online(p, product, sensor) && !Clients.online(p, product, subscriber));
        return new Fixture(product, sensor, subscriber, sleeper, open, answered,
                trigger.data().path("trigger_id").asLong(), index);
    }

    /** What the HTTP API shows of the fixture, reply by reply. */
    private static Map<String, JsonNode> snapshot(TestPlatform p, Fixture f) {
        String key = f.product().masterKey();
        Map<String, JsonNode> replies = new LinkedHashMap<>();
        String sensor = "/devices/" + f.sensor().id();
        String secondHalf = Points.queryTime(FIRST_POINT + POINTS / 2 * 1_000L);
        for (String path : List.of("/devices", "/keys", "/mqtt/topic", sensor + "/datastreams",
                sensor + "/datapoints?" + Points.SINCE_2000 + "&limit=6000", sensor + "/datapoints?start=" + secondHalf
                        + "&limit=6000", "/cmds/history/" + f.sensor().id(), "/cmds/history/" + f.sleeper().id(),
                "/triggers/" + f.triggerId())) {
            Reply r = p.withKey(key, "GET", path, null);
            assertThat(r.errno()).as("GET %s: %s", path, r.body()).isZero();
            replies.put(path, r.body());
        }
        HttpResponse<byte[]> blob = Points.rawHttp(p, key, "GET", "/bindata/" + f.binaryIndex(), null);
        replies.put("/bindata", Points.JSON.valueToTree(blob.body()));
        return replies;
    }

    private static void queuedMessageAndSubscriptionAreBack(TestPlatform p, Fixture f) throws Exception {
        Mqtt3BlockingClient sub = Clients.hivemq(p, f.subscriber());
        try (Mqtt3Publishes received = sub.publishes(MqttGlobalPublishFilter.ALL)) {
            assertThat(Clients.connect(sub, false).isSessionPresent()).isTrue();
            assertThat(text(next(received))).isEqualTo("while away");
        } finally {
            if (sub.getState().isConnected()) {
                sub.disconnect();
            }
        }
    }

    private static void retainedMessageIsDeliveredOnSubscribe(TestPlatform p, Fixture f) throws Exception {
        Mqtt3BlockingClient sub = Clients.hivemq(p, Clients.device(p, f.product(), "late"));
        try (Mqtt3Publishes received = sub.publishes(MqttGlobalPublishFilter.ALL)) {
            Clients.connect(sub, true);
            sub.subscribeWith().topicFilter(RETAINED_TOPIC).qos(MqttQos.AT_LEAST_ONCE).send();
            Mqtt3Publish m = next(received);
            assertThat(text(m)).isEqualTo("kept");
            assertThat(m.isRetain()).isTrue();
        } finally {
            if (sub.getState().isConnected()) {
                sub.disconnect();
            }
        }
    }

    /** {@code stratus migrate --from dir --to url}, as the command line runs it. */
    private static Run migrate(Path from, String to) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        // The command points SQLite's native library at the data directory when unset; leave the JVM as it was.
        String tmpdir = System.getProperty("org.sqlite.tmpdir");
        try {
            int exit = new CommandLine(new Main()).setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true))
                    .execute("migrate", "--from", from.toString(), "--to", to);
            return new Run(exit, out.toString(), err.toString());
        } finally {
            if (tmpdir == null) {
                System.clearProperty("org.sqlite.tmpdir");
            }
        }
    }
}
