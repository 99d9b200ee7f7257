package io.stratus.monitor;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** A long-lived thread that outlives what its steps throw, and tells readiness when it cannot serve. */
class WorkerTest {

    @Test
    void a_step_that_throws_an_out_of_memory_error_runs_again_and_the_thread_lives_on() {
        AtomicInteger steps = new AtomicInteger();
        BlockingQueue<String> done = new ArrayBlockingQueue<>(10);
        Worker w = Worker.start("test-oom", () -> {
            if (steps.incrementAndGet() == 1) {
                throw new OutOfMemoryError("simulated: Java heap space");
            }
            done.offer("step " + steps.get());
            return steps.get() < 3;
        });

        await().atMost(5, SECONDS).until(() -> done.size() == 2);
        w.join(5_000);

        assertThat(done).containsExactly("step 2", "step 3");
        assertThat(w.failures()).isEqualTo(1);
        assertThat(w.problem()).as("ended by its step: not a problem").isNull();
    }

    @Test
    void a_worker_whose_steps_keep_failing_is_reported_until_a_step_succeeds_again() {
        BlockingQueue<String> idle = new ArrayBlockingQueue<>(1);
        Worker w = Worker.start("test-loop", () -> {
            idle.poll(5, TimeUnit.MILLISECONDS); // a round: waits a little for work that never comes
            return true;
        });
        try {
            assertThat(w.problem()).isNull();

            w.injectFailure(new StackOverflowError("injected"));
            await().atMost(5, SECONDS).untilAsserted(() -> assertThat(w.problem())
                    .startsWith("test-loop thread failing: ").contains("failures in a row").contains("StackOverflowError: injected"));
            w.injectFailure(null);

            await().atMost(5, SECONDS).untilAsserted(() -> assertThat(w.problem()).isNull());
            assertThat(w.failures()).isGreaterThanOrEqualTo(Worker.CRASH_LOOP);
        } finally {
            w.stop();
            w.join(5_000);
        }
    }

    @Test
    void a_stopped_worker_ends_and_is_no_problem() {
        BlockingQueue<String> never = new ArrayBlockingQueue<>(1);
        Worker w = Worker.start("test-stop", () -> {
            never.take();
            return true;
        });

        w.stop();
        w.join(5_000);

        assertThat(w.problem()).isNull();
        assertThat(w.failures()).isZero();
    }
}
