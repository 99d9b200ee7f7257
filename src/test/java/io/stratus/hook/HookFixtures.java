package io.stratus.hook;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.stratus.e2e.TestPlatform;
import io.stratus.e2e.TestPlatform.Reply;
import io.stratus.e2e.TestPlatform.TestDevice;
import io.stratus.e2e.TestPlatform.TestProduct;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/** Settings and REST calls shared by the hook tests. */
final class HookFixtures {
    /**
     * {@code hook.deny-networks} as by default but without loopback: set explicitly wherever a test's receiver listens
     * on 127.0.0.1, which the default denies.
     */
    static final String ALLOW_LOOPBACK = "0.0.0.0/8,10.0.0.0/8,100.64.0.0/10,169.254.0.0/16,172.16.0.0/12,192.168.0.0/16,"
            + "::/128,fc00::/7,fe80::/10";

    /**
     * Short timings so that retries, batches and silence checks happen within a test's patience, and loopback allowed
     * ({@link #ALLOW_LOOPBACK}) for the receivers.
     */
    static final Map<String, String> FAST = Map.of(
            "hook.timeout-millis", "2000",
            "hook.retry-millis", "50",
            "hook.frozen-check-millis", "100",
            "push.batch-millis", "50",
            "hook.deny-networks", ALLOW_LOOPBACK);

    private HookFixtures() {
    }

    /** {@code POST /triggers} with the master key, which must succeed; returns the trigger id. */
    static long createTrigger(TestPlatform platform, TestProduct product, Map<String, Object> body) {
        Reply r = platform.withKey(product.masterKey(), "POST", "/triggers", body);
        assertThat(r.errno()).as("POST /triggers %s: %s", body, r.body()).isZero();
        assertThat(r.data().path("trigger_id").isIntegralNumber()).as("trigger_id of %s", r.body()).isTrue();
        return r.data().path("trigger_id").asLong();
    }

    /** One upload of points of one stream (one stored batch); values are JSON texts. */
    static void upload(TestPlatform platform, TestProduct product, TestDevice device, String stream, String... values) {
        String points = java.util.Arrays.stream(values).map(v -> "{\"value\":" + v + "}").collect(Collectors.joining(","));
        String body = "{\"datastreams\":[{\"id\":\"" + stream + "\",\"datapoints\":[" + points + "]}]}";
        Reply r = platform.withKey(product.masterKey(), "POST", "/devices/" + device.id() + "/datapoints", body);
        assertThat(r.errno()).as("upload %s: %s", body, r.body()).isZero();
    }

    /** Each value in its own upload, so that each is its own stored batch. */
    static void uploadEach(TestPlatform platform, TestProduct product, TestDevice device, String stream, String... values) {
        for (String v : values) {
            upload(platform, product, device, stream, v);
        }
    }

    /** The trigger POSTs the receiver got for trigger {@code id}. */
    static List<JsonNode> firings(Receiver receiver, String path, long id) {
        return receiver.posts(path).stream().filter(b -> b.path("trigger").path("id").asLong() == id).toList();
    }

    /** The {@code current_data} entries of trigger {@code id}'s POSTs, in arrival order of the POSTs. */
    static List<JsonNode> firedData(Receiver receiver, String path, long id) {
        List<JsonNode> out = new ArrayList<>();
        firings(receiver, path, id).forEach(b -> b.path("current_data").forEach(out::add));
        return out;
    }

    /** The values that fired trigger {@code id}, as JSON text. */
    static List<String> firedValues(Receiver receiver, String path, long id) {
        return firedData(receiver, path, id).stream().map(e -> e.path("value").toString()).toList();
    }
}
