package io.stratus.e2e;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient.Mqtt3Publishes;
import com.hivemq.client.mqtt.mqtt3.message.publish.Mqtt3Publish;
import io.stratus.e2e.TestPlatform.Reply;
import io.stratus.e2e.TestPlatform.TestDevice;
import io.stratus.e2e.TestPlatform.TestProduct;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * No path lets product A's credentials read or write product B. MQTT: A's devices cannot log in as B's, and nothing
 * crosses between the products' topic spaces: publish, {@code $dp} forwarding to {@code /{device_id}/{ds}}, wildcard
 * subscriptions, retained messages. HTTP: every route the server registers (enumerated from the router, so a new route
 * is covered the day it lands) is called with A's master key and B's ids in the path, the query and the body; no reply
 * may contain anything of B's, and B's state read back by the admin must be unchanged.
 */
class ProductIsolationTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern PARAM = Pattern.compile("\\{([^}]+)}");

    @TempDir
    Path dataDir;

    @Test
    void mqtt_credentials_topics_wildcards_and_retained_messages_stay_inside_their_product() throws Exception {
        try (TestPlatform platform = TestPlatform.start(dataDir)) {
            TestProduct a = platform.createProduct("A");
            TestProduct b = platform.createProduct("B");
            TestDevice a1 = platform.createDevice(a, "a1", "a1-sn");
            TestDevice b1 = platform.createDevice(b, "b1", "b1-sn");

            // Logins: A's secrets never open B's device (D5 code 4, docs/decisions.md).
            for (String[] login : new String[][] {{a.id(), a1.authInfo()}, {a.id(), a.masterKey()}, {b.id(), a1.authInfo()},
                    {b.id(), a.masterKey()}}) {
                try (RawMqtt raw = new RawMqtt(platform.mqttPort())) {
                    assertThat(raw.connect(b1.id(), login[0], login[1], 30, true)).as("login to B's device with " + login[0]).isEqualTo(4);
                }
            }

            Mqtt3BlockingClient bClient = Clients.hivemq(platform, b1);
            Clients.connect(bClient, true);
            bClient.publishWith().topic("r/secret").qos(MqttQos.AT_LEAST_ONCE).retain(true).payload("b-retained".getBytes(UTF_8)).send();
            Mqtt3BlockingClient aClient = Clients.hivemq(platform, a1);
            Clients.connect(aClient, true);
            for (String filter : List.of("#", "+/#", "/+/+", "/" + b1.id() + "/#", "/" + b1.id() + "/temp", "r/#", "+")) {
                aClient.subscribeWith().topicFilter(filter).qos(MqttQos.AT_LEAST_ONCE).send();
                bClient.subscribeWith().topicFilter(filter).qos(MqttQos.AT_LEAST_ONCE).send();
            }
            Mqtt3Publishes aInbox = aClient.publishes(MqttGlobalPublishFilter.ALL);
            Mqtt3Publishes bInbox = bClient.publishes(MqttGlobalPublishFilter.ALL);

            // B's traffic: a user topic, a data point (forwarded to /{b1}/temp inside B), a topic named like A's device.
            bClient.publishWith().topic("x").qos(MqttQos.AT_LEAST_ONCE).payload("b-x".getBytes(UTF_8)).send();
            bClient.publishWith().topic("$dp").qos(MqttQos.AT_LEAST_ONCE).payload(Points.dp(3, "{\"temp\":777123}")).send();
            bClient.publishWith().topic("/" + a1.id() + "/temp").qos(MqttQos.AT_LEAST_ONCE).payload("b-to-a".getBytes(UTF_8)).send();
            // A's traffic, aimed at B's topic names.
            aClient.publishWith().topic("/" + b1.id() + "/temp").qos(MqttQos.AT_LEAST_ONCE).payload("a-forged".getBytes(UTF_8)).send();
            aClient.publishWith().topic("r/secret").qos(MqttQos.AT_LEAST_ONCE).payload("a-x".getBytes(UTF_8)).send();
            // Sentinels: each client's own message to itself arrives after anything routed to it before.
            aClient.publishWith().topic("sentinel").qos(MqttQos.AT_LEAST_ONCE).payload("a-end".getBytes(UTF_8)).send();
            bClient.publishWith().topic("sentinel").qos(MqttQos.AT_LEAST_ONCE).payload("b-end".getBytes(UTF_8)).send();

            assertThat(drain(aInbox, "a-end")).as("what A received").allMatch(p -> p.startsWith("a-"));
            assertThat(drain(bInbox, "b-end")).as("what B received").noneMatch(p -> p.startsWith("a-"));
            aClient.disconnect();
            bClient.disconnect();
        }
    }

    /** Payloads received up to and including {@code sentinel}, each as text. */
    private static List<String> drain(Mqtt3Publishes inbox, String sentinel) throws InterruptedException {
        List<String> got = new ArrayList<>();
        while (true) {
            Optional<Mqtt3Publish> p = inbox.receive(5, SECONDS);
            assertThat(p).as("sentinel " + sentinel + " after " + got).isPresent();
            String text = new String(p.get().getPayloadAsBytes(), UTF_8);
            got.add(text);
            if (text.equals(sentinel)) {
                return got;
            }
        }
    }

    @Test
    void no_http_route_lets_a_master_key_read_or_change_another_product() throws Exception {
        try (TestPlatform platform = TestPlatform.start(dataDir)) {
            TestProduct a = platform.createProduct("A");
            TestProduct b = platform.createProduct("B");
            platform.createDevice(a, "a1", "a1-sn");
            TestDevice b1 = platform.createDevice(b, "b-device-title-marker", "b-secret-auth-info");
            Points.upload(platform, b.masterKey(), b1.id(), "{\"datastreams\":[{\"id\":\"temp\",\"datapoints\":[{\"value\":777123}]}]}");
            Map<String, String> ids = bResources(platform, b, b1);
            List<String> secrets = new ArrayList<>(List.of(b.masterKey(), b1.authInfo(), "b-device-title-marker", "777123",
                    platform.asAdmin("GET", "/products/" + b.id(), null).data().path("register_code").asText()));
            ids.values().stream().filter(v -> v.length() > 12).forEach(secrets::add); // B's device-level key
            Map<String, String> before = snapshot(platform, b, b1);

            List<String> endpoints = platform.platform().api().endpoints();
            assertThat(endpoints).hasSizeGreaterThan(20);
            String query = "device_id=" + b1.id() + "&product_id=" + b.id() + "&devIds=" + b1.id() + "&dev_id=" + b1.id()
                    + "&datastream_id=temp&topic=b-topic&key=" + ids.get("key") + "&index=" + ids.get("index");
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("title", "hijack");
            body.put("auth_info", "hijack");
            body.put("product_id", b.id());
            body.put("device_id", b1.id());
            body.put("dev_ids", List.of(b1.id()));
            body.put("add_dev_ids", List.of(b1.id()));
            body.put("ds_id", "temp");
            body.put("url", "http://192.0.2.1:9/hijack"); // TEST-NET-1: allowed by hook.deny-networks, never routed
            body.put("type", ">");
            body.put("threshold", 1);
            body.put("permissions", List.of(Map.of("resources", List.of(Map.of("dev_id", b1.id())))));
            body.put("datastreams", List.of(Map.of("id", "temp", "datapoints", List.of(Map.of("value", 1)))));
            List<String> report = new ArrayList<>();
            // Deletes last: a delete that wrongly worked must not hide what the other routes would have done.
            List<String> ordered = new ArrayList<>(endpoints.stream().filter(e -> !e.startsWith("DELETE")).toList());
            ordered.addAll(endpoints.stream().filter(e -> e.startsWith("DELETE")).toList());
            for (String endpoint : ordered) {
                String method = endpoint.substring(0, endpoint.indexOf(' '));
                String path = fill(endpoint.substring(endpoint.indexOf(' ') + 1), ids, b, b1);
                HttpResponse<String> r = send(platform, method, path + "?" + query, method.equals("GET") || method.equals("DELETE")
                        ? null : JSON.writeValueAsString(body), a.masterKey());
                report.add(endpoint + " -> HTTP " + r.statusCode() + " " + r.body().substring(0, Math.min(80, r.body().length())));
                for (String secret : secrets) {
                    assertThat(r.body()).as(endpoint + " with A's key leaked something of B's").doesNotContain(secret);
                }
            }
            System.out.println("product isolation, " + endpoints.size() + " routes with A's key on B's ids:\n  " + String.join("\n  ", report));
            assertThat(snapshot(platform, b, b1)).as("B's state after every route was called with A's key").isEqualTo(before);
        }
    }

    /** B's resources that routes name in their paths, created with B's key; a dummy where creation is not possible. */
    private static Map<String, String> bResources(TestPlatform platform, TestProduct b, TestDevice b1) {
        Map<String, String> ids = new LinkedHashMap<>();
        Reply key = platform.withKey(b.masterKey(), "POST", "/keys", Map.of("title", "b-key",
                "permissions", List.of(Map.of("resources", List.of(Map.of("dev_id", b1.id()))))));
        ids.put("key", key.errno() == 0 ? key.data().path("key").asText() : "no-such-key");
        Reply trigger = platform.withKey(b.masterKey(), "POST", "/triggers", Map.of("title", "b-trigger", "ds_id", "temp",
                "dev_ids", List.of(b1.id()), "url", "http://192.0.2.1:9/b", "type", ">", "threshold", 1000000));
        ids.put("trigger", trigger.errno() == 0 ? trigger.data().path("trigger_id").asText() : "1");
        Reply cmd = platform.call("POST", "/cmds?device_id=" + b1.id() + "&timeout=300", "b-command", Map.of("api-key", b.masterKey()));
        ids.put("uuid", cmd.errno() == 0 ? cmd.data().path("cmd_uuid").asText() : "00000000-0000-0000-0000-000000000000");
        HttpResponse<byte[]> bin = Points.rawHttp(platform, b.masterKey(), "POST", "/bindata?device_id=" + b1.id() + "&datastream_id=bin",
                "777123-binary".getBytes(UTF_8));
        ids.put("index", Points.parse(bin.body()).path("data").path("index").asText("no-such-index"));
        return ids;
    }

    private static String fill(String template, Map<String, String> ids, TestProduct b, TestDevice b1) {
        Matcher m = PARAM.matcher(template);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String name = m.group(1);
            String value = switch (name) {
                case "id" -> template.startsWith("/products") ? b.id() : template.startsWith("/triggers") ? ids.get("trigger") : b1.id();
                case "ds" -> "temp";
                case "key" -> ids.get("key");
                case "uuid" -> ids.get("uuid");
                case "index" -> ids.get("index");
                default -> b1.id();
            };
            m.appendReplacement(out, Matcher.quoteReplacement(value));
        }
        m.appendTail(out);
        return out.toString();
    }

    /** What the admin reads of B: product, device, streams, points, device list, keys, triggers, command. */
    private static Map<String, String> snapshot(TestPlatform platform, TestProduct b, TestDevice b1) {
        Map<String, String> s = new LinkedHashMap<>();
        for (String path : List.of("/products/" + b.id(), "/devices/" + b1.id(), "/devices/" + b1.id() + "/datastreams",
                "/devices/" + b1.id() + "/datapoints?start=2000-01-01T00:00:00&limit=100", "/devices?product_id=" + b.id(),
                "/keys?product_id=" + b.id(), "/triggers?product_id=" + b.id(), "/products/" + b.id() + "/push")) {
            s.put(path, platform.asAdmin("GET", path, null).body().toString());
        }
        return s;
    }

    private static HttpResponse<String> send(TestPlatform platform, String method, String path, String body, String key)
            throws IOException, InterruptedException {
        HttpRequest.Builder r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + platform.platform().httpPort() + path))
                .timeout(Duration.ofSeconds(5)).header("api-key", key).header("Content-Type", "application/json");
        r.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        return HttpClient.newHttpClient().send(r.build(), HttpResponse.BodyHandlers.ofString());
    }
}
