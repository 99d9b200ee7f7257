package io.stratus.hook;

import static io.stratus.hook.HookFixtures.createTrigger;
import static io.stratus.hook.HookFixtures.firedValues;
import static io.stratus.hook.HookFixtures.upload;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.stratus.e2e.TestPlatform.Reply;
import io.stratus.e2e.TestPlatform.TestDevice;
import io.stratus.e2e.TestPlatform.TestProduct;
import io.stratus.monitor.Worker;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * The server's long-lived threads outlive an Error (issue 14: after an OutOfMemoryError the hook thread died, triggers
 * never fired again and /healthz still said ok), and readiness reports a thread that keeps failing. Failures are
 * injected through {@link Worker#injectFailure}, the real Error types thrown where the thread's work would run.
 */
class WorkerFailureTest extends HookReceiverTest {
    private static Worker worker(String name) {
        return platform.platform().workers().stream().filter(w -> w.name().equals(name)).findFirst().orElseThrow();
    }

    @Test
    void triggers_fire_again_after_the_hook_thread_survives_an_out_of_memory_error() {
        TestProduct product = platform.createProduct("oom");
        TestDevice device = platform.createDevice(product, "d", "oom-1");
        long id = createTrigger(platform, product, Map.of("ds_id", "temp", "url", receiver.url("/oom"), "type", ">",
                "threshold", 0));
        upload(platform, product, device, "temp", "1");
        await().atMost(5, SECONDS).until(() -> firedValues(receiver, "/oom", id).size() == 1);
        Worker hooks = worker("hooks");
        long before = hooks.failures();

        hooks.injectFailure(new OutOfMemoryError("Java heap space (injected)"));
        await().atMost(5, SECONDS).until(() -> hooks.failures() > before);
        hooks.injectFailure(null);
        upload(platform, product, device, "temp", "2");

        await().atMost(5, SECONDS).untilAsserted(() -> assertThat(firedValues(receiver, "/oom", id)).containsExactly("1", "2"));
        assertThat(hooks.problem()).isNull();
        assertThat(platform.call("GET", "/healthz", null, Map.of()).status()).isEqualTo(200);
        assertThat(platform.metric("stratus_worker_failures_total")).isGreaterThanOrEqualTo(1);
    }

    @Test
    void healthz_is_not_ready_while_a_thread_keeps_failing_and_ready_again_once_it_recovers() {
        Worker hooks = worker("hooks");

        hooks.injectFailure(new StackOverflowError("injected"));
        try {
            await().atMost(5, SECONDS).untilAsserted(() -> {
                Reply health = platform.call("GET", "/healthz", null, Map.of());
                assertThat(health.status()).isEqualTo(503);
                assertThat(health.body().path("checks").path("workers").asText())
                        .startsWith("hooks thread failing: ").contains("StackOverflowError: injected");
            });
            assertThat(platform.metric("stratus_workers_unhealthy")).isEqualTo(1);
        } finally {
            hooks.injectFailure(null);
        }

        await().atMost(5, SECONDS).untilAsserted(() -> assertThat(platform.call("GET", "/healthz", null, Map.of()).status())
                .isEqualTo(200));
        assertThat(platform.metric("stratus_workers_unhealthy")).isZero();
    }

    @Test
    void the_datapoint_writer_survives_an_error_and_stores_the_next_upload() {
        TestProduct product = platform.createProduct("writer");
        TestDevice device = platform.createDevice(product, "d", "writer-1");
        Worker writer = worker("datapoint-writer");
        long before = writer.failures();

        writer.injectFailure(new OutOfMemoryError("Java heap space (injected)"));
        upload(platform, product, device, "temp", "20"); // the round in progress commits it; the next ones fail
        await().atMost(5, SECONDS).until(() -> writer.failures() > before);
        // Queued while the writer fails: it waits for its commit.
        CompletableFuture<Reply> upload = CompletableFuture.supplyAsync(() -> platform.withKey(product.masterKey(), "POST",
                "/devices/" + device.id() + "/datapoints", "{\"datastreams\":[{\"id\":\"temp\",\"datapoints\":[{\"value\":21.5}]}]}"));
        writer.injectFailure(null);

        assertThat(upload).succeedsWithin(10, SECONDS).satisfies(r -> assertThat(r.errno()).as("%s", r.body()).isZero());
        Reply latest = platform.withKey(product.masterKey(), "GET", "/devices/" + device.id() + "/datastreams/temp", null);
        assertThat(latest.data().path("current_value").asDouble()).isEqualTo(21.5);
        assertThat(writer.problem()).isNull();
    }
}
