package io.stratus.e2e;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.stratus.e2e.TestPlatform.Reply;
import io.stratus.e2e.TestPlatform.TestDevice;
import io.stratus.e2e.TestPlatform.TestProduct;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Deleting a product leaves nothing of it in the store: every per-product table is read back with SQL on the real
 * database file, before (each holds rows of the product, so the check means something) and after the deletion, and
 * another product's rows stay.
 */
class ProductDeletionTest {
    @RegisterExtension
    // Loopback allowed to hooks: the push target's verifying receiver listens on 127.0.0.1.
    static final TestPlatform platform = TestPlatform.perClass(Map.of("hook.deny-networks", "169.254.0.0/16"));

    @Test
    void deleting_a_product_deletes_its_rows_in_every_table_and_no_other_products() throws Exception {
        TestProduct doomed = platform.createProduct("doomed");
        TestProduct kept = platform.createProduct("kept");
        List<String> doomedDevices = populate(doomed);
        List<String> keptDevices = populate(kept);

        Map<String, Long> before = rows(doomed, doomedDevices);
        assertThat(before).as("rows of the product before deletion").allSatisfy((table, n) -> assertThat(n).as(table).isPositive());
        Map<String, Long> keptBefore = rows(kept, keptDevices);

        Reply r = platform.asAdmin("DELETE", "/products/" + doomed.id(), null);
        assertThat(r.errno()).as(r.toString()).isZero();

        assertThat(rows(doomed, doomedDevices)).as("rows of the deleted product").allSatisfy((table, n) -> assertThat(n).as(table).isZero());
        assertThat(rows(kept, keptDevices)).as("rows of another product").isEqualTo(keptBefore);
        assertThat(platform.asAdmin("GET", "/products/" + doomed.id(), null).errno()).isEqualTo(8);
    }

    /**
     * Gives a product a row in each table that holds something of it: devices, a device-level key, data points (a
     * number and a binary), a command, a trigger, a push target, a topic, a retained message and a persistent session
     * with a queued message. Returns the ids of its devices.
     */
    private static List<String> populate(TestProduct p) throws Exception {
        TestDevice sensor = Clients.device(platform, p, "sensor");
        TestDevice sleeper = Clients.device(platform, p, "sleeper");
        ok(master(p, "POST", "/keys", Map.of("title", "k", "permissions", List.of(Map.of("resources",
                List.of(Map.of("dev_id", sensor.id())))))));
        ok(master(p, "POST", "/devices/" + sensor.id() + "/datapoints", Map.of("datastreams",
                List.of(Map.of("id", "temp", "datapoints", List.of(Map.of("value", 21.5)))))));
        assertThat(Points.rawHttp(platform, p.masterKey(), "POST", "/bindata?device_id=" + sensor.id() + "&datastream_id=pic",
                "binary".getBytes(UTF_8)).statusCode()).isEqualTo(200);
        ok(platform.call("POST", "/cmds?device_id=" + sleeper.id() + "&timeout=300", "reboot", Map.of("api-key", p.masterKey())));
        ok(master(p, "POST", "/triggers", Map.of("title", "hot", "ds_id", "temp", "url", "http://127.0.0.1:9/hot",
                "type", ">", "threshold", 100)));
        HttpServer receiver = echoingReceiver();
        try {
            ok(master(p, "PUT", "/products/" + p.id() + "/push", Map.of("url",
                    "http://127.0.0.1:" + receiver.getAddress().getPort() + "/push", "token", "t", "enabled", false)));
        } finally {
            receiver.stop(0);
        }
        ok(master(p, "POST", "/mqtt/topic", Map.of("name", "made/by/api")));
        try (PahoClient session = PahoClient.connected(platform, sleeper, false)) {
            session.subscribe("queued/for/sleeper", 1);
        }
        try (PahoClient publisher = PahoClient.connected(platform, sensor, true)) {
            publisher.publish("queued/for/sleeper", "while asleep", 1); // acknowledged once stored for the session
            publisher.client().publish("retained/state", "on".getBytes(UTF_8), 1, true);
        }
        return List.of(sensor.id(), sleeper.id());
    }

    /** The product's row count in each table that holds something of a product. */
    private static Map<String, Long> rows(TestProduct p, List<String> devices) throws Exception {
        String ids = String.join(",", devices);
        Map<String, String> queries = new LinkedHashMap<>();
        queries.put("product", "SELECT COUNT(*) FROM product WHERE id = " + p.id());
        queries.put("device", "SELECT COUNT(*) FROM device WHERE product_id = " + p.id());
        queries.put("api_key", "SELECT COUNT(*) FROM api_key WHERE product_id = " + p.id());
        queries.put("datastream", "SELECT COUNT(*) FROM datastream WHERE device_id IN (" + ids + ")");
        queries.put("datapoint", "SELECT COUNT(*) FROM datapoint WHERE device_id IN (" + ids + ")");
        queries.put("bindata", "SELECT COUNT(*) FROM bindata WHERE device_id IN (" + ids + ")");
        queries.put("command", "SELECT COUNT(*) FROM command WHERE product_id = " + p.id());
        queries.put("hook_trigger", "SELECT COUNT(*) FROM hook_trigger WHERE product_id = " + p.id());
        queries.put("push_target", "SELECT COUNT(*) FROM push_target WHERE product_id = " + p.id());
        queries.put("mqtt_topic", "SELECT COUNT(*) FROM mqtt_topic WHERE product_id = " + p.id());
        queries.put("retained_message", "SELECT COUNT(*) FROM retained_message WHERE product_id = " + p.id());
        queries.put("mqtt_session", "SELECT COUNT(*) FROM mqtt_session WHERE product_id = " + p.id());
        queries.put("session_message", "SELECT COUNT(*) FROM session_message WHERE session_key LIKE '" + p.id() + "/%'");
        // Through the server's own store, whichever database it runs on.
        return platform.platform().database().withConnection(c -> {
            Map<String, Long> counts = new LinkedHashMap<>();
            for (Map.Entry<String, String> q : queries.entrySet()) {
                try (PreparedStatement ps = c.prepareStatement(q.getValue()); ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    counts.put(q.getKey(), rs.getLong(1));
                }
            }
            return counts;
        });
    }

    /** A push receiver that passes the URL verification: it answers a GET with its {@code msg} parameter. */
    private static HttpServer echoingReceiver() throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", exchange -> {
            String msg = "";
            String query = exchange.getRequestURI().getRawQuery();
            for (String pair : query == null ? new String[0] : query.split("&")) {
                if (pair.startsWith("msg=")) {
                    msg = URLDecoder.decode(pair.substring(4), UTF_8);
                }
            }
            byte[] body = msg.getBytes(UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
        return server;
    }

    private static Reply master(TestProduct p, String method, String path, Object body) {
        return platform.withKey(p.masterKey(), method, path, body);
    }

    private static void ok(Reply r) {
        assertThat(r.errno()).as(r.toString()).isZero();
    }
}
