package io.stratus.it;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.stratus.e2e.RawMqtt;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The packaged server's log as an operator reads it: one event, one line, whatever a client sends. */
class LogLinesIT {
    @TempDir
    Path dataDir;

    @Test
    void a_client_id_with_line_breaks_cannot_forge_a_log_line() throws Exception {
        try (ServerProcess server = ServerProcess.start(dataDir, "128m", Map.of())) {
            String forged = "12:00:00.000 WARN  [main] i.s.Platform - FORGED admin password reset";
            try (RawMqtt raw = new RawMqtt(server.mqttPort())) {
                // Refused (no such device), and the refusal is logged with the client id.
                assertThat(raw.connect("1\n" + forged + "\r\n" + forged, "100001", "x", 30, true)).isEqualTo(2);
            }

            await().atMost(5, SECONDS).until(() -> !server.lines("FORGED").isEmpty());
            assertThat(server.lines("FORGED")).hasSize(1)
                    .allSatisfy(line -> assertThat(line).doesNotStartWith("12:00:00.000").contains("?" + forged + "??" + forged));
        }
    }
}
