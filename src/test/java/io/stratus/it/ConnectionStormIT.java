package io.stratus.it;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Connection storms against the packaged server: 10,000 CONNECT/CONNACK/DISCONNECT cycles, then 600 half-open
 * connections (TCP open, no CONNECT or a partial one) that mqtt.connect-timeout-seconds must close. Afterwards the
 * server holds no more descriptors ({@code /proc/<pid>/fd}) and, after a full GC, no more heap than before.
 */
class ConnectionStormIT {
    private static final int CYCLES = Integer.getInteger("storm.cycles", 10_000);
    private static final int HALF_OPEN = 600;

    @TempDir
    Path dataDir;

    @Test
    void connect_storms_and_half_open_connections_leave_no_descriptors_or_memory_behind() throws Exception {
        try (ServerProcess server = ServerProcess.start(dataDir, "256m", Map.of("mqtt.connect-timeout-seconds", "5"))) {
            String[] pd = server.createProductAndDevice("storm", "sn-0");
            List<String> devices = new ArrayList<>(List.of(pd[2]));
            for (int i = 1; i < 4; i++) {
                devices.add(server.createDevice(pd[1], "d" + i, "sn-" + i));
            }
            cycles(server, pd[0], devices, 1_000); // warm-up: JIT, pools, caches
            int fdBefore = server.fdCount();
            double heapBefore = heapAfterGc(server);

            long started = System.nanoTime();
            cycles(server, pd[0], devices, CYCLES);
            long stormMillis = (System.nanoTime() - started) / 1_000_000;

            List<Socket> halfOpen = new ArrayList<>();
            try {
                for (int i = 0; i < HALF_OPEN; i++) {
                    Socket s = new Socket();
                    s.connect(new InetSocketAddress("127.0.0.1", server.mqttPort()), 5000);
                    if (i % 6 == 0) {
                        s.getOutputStream().write(new byte[] {0x10, 0x20, 0x00, 0x04, 'M'}); // a CONNECT that never completes
                    }
                    halfOpen.add(s);
                }
                await().atMost(5, SECONDS).untilAsserted(() -> assertThat(server.fdCount())
                        .as("the half-open connections are open on the server").isGreaterThanOrEqualTo(fdBefore + HALF_OPEN * 9 / 10));
                long closeStarted = System.nanoTime();
                for (Socket s : halfOpen) {
                    s.setSoTimeout(20_000);
                    InputStream in = s.getInputStream();
                    assertThat(in.read()).as("closed by the server's CONNECT timeout").isEqualTo(-1);
                }
                System.out.printf("half-open: %d connections closed by the server within %d ms of the last one opening%n",
                        HALF_OPEN, (System.nanoTime() - closeStarted) / 1_000_000);
            } finally {
                for (Socket s : halfOpen) {
                    s.close();
                }
            }

            await().atMost(10, SECONDS).untilAsserted(() -> assertThat(server.fdCount()).isLessThanOrEqualTo(fdBefore + 5));
            double heapAfter = heapAfterGc(server);
            System.out.printf("connection storm: %d connect/disconnect cycles in %d ms (%.0f/s); server fds %d -> %d; heap after GC "
                    + "%.1f -> %.1f MiB%n", CYCLES, stormMillis, CYCLES * 1000.0 / stormMillis, fdBefore, server.fdCount(),
                    heapBefore / 1048576, heapAfter / 1048576);
            assertThat(heapAfter - heapBefore).as("heap growth after GC").isLessThan(8 * 1048576);
            assertThat(server.metric("stratus_mqtt_connections")).isZero();
            assertThat(server.isAlive()).isTrue();
        }
    }

    private static double heapAfterGc(ServerProcess server) throws Exception {
        server.gc();
        return server.metric("jvm_heap_used_bytes");
    }

    /** {@code n} CONNECT / CONNACK / DISCONNECT cycles over 4 threads, one device each. */
    private static void cycles(ServerProcess server, String productId, List<String> devices, int n) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(devices.size());
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < devices.size(); t++) {
                String device = devices.get(t);
                String password = "sn-" + t;
                done.add(pool.submit(() -> {
                    for (int i = 0; i < n / devices.size(); i++) {
                        connectAndDisconnect(server.mqttPort(), device, productId, password);
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private static void connectAndDisconnect(int port, String clientId, String user, String password) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write(connect(clientId, user, password));
            InputStream in = s.getInputStream();
            byte[] connack = in.readNBytes(4);
            if (connack.length != 4 || connack[0] != 0x20 || connack[3] != 0) {
                throw new IOException("no CONNACK 0: " + java.util.HexFormat.of().formatHex(connack));
            }
            out.write(new byte[] {(byte) 0xE0, 0});
            if (in.read() != -1) {
                throw new IOException("the server did not close after DISCONNECT");
            }
        }
    }

    static byte[] connect(String clientId, String user, String password) {
        java.io.ByteArrayOutputStream body = new java.io.ByteArrayOutputStream();
        str(body, "MQTT");
        body.write(4);
        body.write(0xC2); // user name, password, clean session
        body.write(0);
        body.write(60);
        str(body, clientId);
        str(body, user);
        str(body, password);
        byte[] b = body.toByteArray();
        java.io.ByteArrayOutputStream p = new java.io.ByteArrayOutputStream();
        p.write(0x10);
        p.write(b.length); // < 128
        p.writeBytes(b);
        return p.toByteArray();
    }

    private static void str(java.io.ByteArrayOutputStream out, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        out.write(b.length >> 8);
        out.write(b.length);
        out.writeBytes(b);
    }
}
