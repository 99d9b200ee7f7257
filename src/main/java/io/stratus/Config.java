package io.stratus;

import static io.stratus.SettingValues.choice;
import static io.stratus.SettingValues.integer;
import static io.stratus.SettingValues.list;
import static io.stratus.SettingValues.optionalPort;
import static io.stratus.SettingValues.path;
import static io.stratus.SettingValues.port;
import static io.stratus.SettingValues.positive;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneId;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * All settings of a Stratus server. Each has a dotted key; values come from the defaults, then a
 * properties file, then environment variables {@code STRATUS_<KEY>} (dots and dashes as underscores),
 * then command-line flags, later sources winning.
 */
public record Config(
        String bind,
        int mqttPort,
        int httpPort,
        Path dataDir,
        String adminPassword,
        boolean allowAnonymous,
        int maxPacketBytes,
        int maxSubscriptions,
        int maxInflight,
        int maxQueuedMessages,
        Duration offlineMessageTtl,
        Duration connectTimeout,
        ZoneId timezone,
        String storeSync,
        boolean dpDisconnectOnError,
        boolean dpType7ConsecutiveStreams,
        boolean dpForwardJson,
        Duration historyMaxAge,
        HookSettings hooks,
        Protection protection,
        int topicsMaxPerProduct,
        boolean onenetHeaderFlags,
        boolean proxyProtocol,
        boolean httpProxyProtocol,
        List<String> httpTrustedProxies,
        boolean restStatusCodes,
        ZoneId binaryTimezone,
        ZoneId apiTimezone,
        int historyMaxReplyBytes,
        int historyMaxConcurrentQueries,
        int devicesMaxPerProduct,
        SharedLimits sharedLimits,
        TenantLimits tenantLimits,
        StoreLocation store,
        Tls tls,
        ClusterSettings cluster) {

    /**
     * TLS ({@code tls.*}, docs/tls.md): the MQTT and HTTP TLS ports ({@code -1}: off), the PEM certificate chain and
     * PKCS#8 key, whether clients are asked for a certificate and the CAs that sign them, whether a verified
     * certificate whose CN is the client id logs its device in without a password, and the handshake bounds.
     */
    public record Tls(int mqttPort, int httpPort, Path cert, Path key, ClientAuth clientAuth, Path clientCa,
                      boolean certLogin, Duration handshakeTimeout, int maxHandshakes, int maxHandshakesPerAddress,
                      Duration reloadCheck, int wsPort,
                      int wssPort, Provider provider) {
        public enum ClientAuth { NONE, OPTIONAL, REQUIRE }

        /** {@code tls.provider}: BoringSSL (netty-tcnative) when its native library loads, else the JDK; or either. */
        public enum Provider { AUTO, OPENSSL, JDK }

        public boolean enabled() {
            return mqttPort >= 0 || httpPort >= 0 || wssPort >= 0;
        }
    }

    /**
     * Where the store is ({@code store.url}): empty for the embedded SQLite file in {@code data.dir}; else a PostgreSQL
     * server, {@code postgresql://user:password@host:port/db} or a {@code jdbc:postgresql:} URL, whose password may
     * instead be in {@code store.password-file} (read at start, never logged); and, on PostgreSQL, how many data point
     * writers commit side by side ({@code store.datapoint-writers}; the embedded store always has one).
     */
    public record StoreLocation(String url, Path passwordFile, int datapointWriters) {
        public boolean embedded() {
            return url.isEmpty();
        }
    }

    /**
     * Failed-login back-off ({@code auth.*}: after max-failures consecutive failures of a device, or the per-address
     * number from one client address, logins are refused for base, doubling per further failure up to max) and the
     * slow-consumer bound ({@code mqtt.slow-consumer-seconds}: a client whose send buffer stays full, or whose full
     * QoS 1/2 queue sees no acknowledgement, that long is disconnected).
     */
    public record Protection(int authMaxFailures, int authMaxFailuresPerAddress, Duration authBackoffBase,
                             Duration authBackoffMax, Duration slowConsumerTimeout) {
    }

    /**
     * Outbound HTTP of triggers and data push ({@code io.stratus.hook}); keys {@code hook.*} and {@code push.*}.
     * {@code denyNetworks} ({@code hook.deny-networks}) are the CIDR blocks their URLs may not reach, as written (the
     * hook package reads them, and refuses the start when one is not a CIDR block).
     */
    public record HookSettings(Duration timeout, int queueCapacity, int senders, int attempts, Duration retryDelay,
                        Duration frozenCheck, int pushBatchMax, Duration pushBatchDelay, List<String> denyNetworks,
                        int recentTargets) {
    }

    /**
     * Shared resources one product could otherwise take for itself (docs/security.md):
     * open commands ({@code commands.max-open}, {@code commands.max-open-per-product}) and {@code GET /events}
     * streams ({@code events.max-streams}, {@code events.max-streams-per-product},
     * {@code events.max-streams-per-credential}).
     */
    public record SharedLimits(int commandsMaxOpen, int commandsMaxOpenPerProduct, int eventsMaxStreams,
                               int eventsMaxStreamsPerProduct, int eventsMaxStreamsPerCredential) {
    }

    /**
     * What one product (a tenant) or one of its connections may make the server hold, so that no tenant can fill the
     * heap (docs/reliability.md, "Limits per tenant"). {@code maxConnectBytes} ({@code mqtt.max-connect-bytes}) is the
     * largest packet read before a CONNECT is accepted; {@code maxPendingPublishBytes} ({@code
     * mqtt.max-pending-publish-bytes}) the payload bytes of a connection's PUBLISHes waiting for their store commit
     * before it stops reading; {@code maxInflightBytes} ({@code mqtt.max-inflight-bytes}) the payload bytes of a
     * session's unacknowledged outgoing QoS 1/2 messages (one message always goes); {@code maxQueuedBytes} ({@code
     * session.max-queued-bytes}) the payload bytes queued behind them per session; {@code productMaxQueued} and
     * {@code productMaxQueuedBytes} ({@code product.max-queued}, {@code product.max-queued-bytes}) the same over all
     * sessions of a product; {@code retainedMaxPerProduct} and {@code retainedMaxBytesPerProduct} ({@code
     * retained.max-per-product}, {@code retained.max-bytes-per-product}) the retained messages of a product.
     */
    public record TenantLimits(int maxConnectBytes, int maxPendingPublishBytes, int maxInflightBytes, int maxQueuedBytes,
                               int productMaxQueued, int productMaxQueuedBytes, int retainedMaxPerProduct,
                               int retainedMaxBytesPerProduct, int maxOutgoingMessages, int maxOutgoingBytes) {
    }

    /** Each writer holds a pooled connection while it commits. */
    static final int MAX_DATAPOINT_WRITERS = 8;

    public static final Map<String, String> DEFAULTS = SettingValues.merged(ClusterSettings.DEFAULTS, Map.ofEntries(
            Map.entry("bind", "0.0.0.0"),
            Map.entry("mqtt.port", "1883"),
            Map.entry("http.port", "8080"),
            // TLS (docs/tls.md): ports (empty: off; 0: any free port), PEM files, client certificates, handshake bounds.
            Map.entry("mqtt.tls-port", ""), Map.entry("http.tls-port", ""), Map.entry("tls.cert", ""), Map.entry("tls.key", ""),
            Map.entry("tls.client-auth", "none"), Map.entry("tls.client-ca", ""), Map.entry("tls.cert-login", "false"),
            Map.entry("tls.handshake-timeout-millis", "10000"), Map.entry("tls.max-handshakes", "256"),
            Map.entry("tls.max-handshakes-per-address", "32"),
            Map.entry("tls.reload-check-seconds", "5"), Map.entry("tls.provider", "auto"),
            // MQTT over WebSocket at /mqtt (docs/tls.md): plain, and with TLS (the certificate above); empty: off.
            Map.entry("mqtt.ws-port", ""), Map.entry("mqtt.wss-port", ""),
            Map.entry("data.dir", "./data"),
            Map.entry("admin.password", ""),
            Map.entry("mqtt.allow-anonymous", "false"),
            Map.entry("mqtt.max-packet-bytes", String.valueOf(4 * 1024 * 1024)),
            Map.entry("mqtt.max-subscriptions", "100"),
            Map.entry("mqtt.max-inflight", "32"),
            Map.entry("session.max-queued", "1000"),
            Map.entry("session.message-ttl-seconds", String.valueOf(2 * 24 * 3600)),
            Map.entry("mqtt.connect-timeout-seconds", "10"),
            // The zone of datetime strings without an offset in uploads (the `at` of JSON types, type 4 keys, type 5
            // times): devices on OneNET fleets write local (Beijing) time.
            Map.entry("dp.timezone", "+08:00"),
            // The zone of the six-byte times of $dp types 6 and 7: OneNET's C SDK packs them with gmtime(), in UTC.
            Map.entry("dp.binary-timezone", "UTC"),
            // The zone the HTTP API writes times in and reads offset-less query times in (OneNET: Beijing time).
            Map.entry("api.timezone", "+08:00"),
            // Accept SUBSCRIBE, UNSUBSCRIBE and PUBREL with fixed-header flags 0000, as OneNET's C SDK sends them.
            Map.entry("mqtt.onenet-header-flags", "true"),
            // Every connection to the MQTT listeners starts with a PROXY protocol header (HAProxy's send-proxy).
            Map.entry("mqtt.proxy-protocol", "false"),
            // The API's ports read a PROXY protocol header where a connection starts with one (Jetty's detector).
            Map.entry("http.proxy-protocol", "false"),
            // Peers whose X-Forwarded-For names the API client (addresses, CIDR blocks); empty: the header is not read.
            Map.entry("http.trusted-proxies", ""),
            // onenet: every errno answer of a OneNET-compatible route is HTTP 200 (OneNET's SDKs throw on any other
            // status); rest: 401/403/429/503 there too. Stratus's own routes send those codes either way.
            Map.entry("api.status-codes", "onenet"),
            // The value bytes one history reply may hold (errno 6 beyond), and how many history reads run at once
            // (errno 13 after 5 s without a slot): together they bound the heap history reads can take.
            Map.entry("history.max-reply-bytes", String.valueOf(16 * 1024 * 1024)),
            // 2 of the store's 4 pooled connections at most, so that history reads never hold up the writers.
            Map.entry("history.max-concurrent-queries", "2"),
            // Devices one product may hold: a master key, or anyone with the register code, creates them (errno 13).
            Map.entry("devices.max-per-product", "100000"),
            Map.entry("store.sync", "normal"),
            Map.entry("store.url", ""),
            Map.entry("store.password-file", ""),
            // PostgreSQL: data point writers committing side by side, each on its own connection, a device's points
            // always on the same one. The embedded store has one: SQLite lets one writer in at a time.
            Map.entry("store.datapoint-writers", "2"),
            Map.entry("dp.on-error", "disconnect"),
            Map.entry("dp.type7", "consecutive-streams"),
            Map.entry("dp.forward", "value"),
            Map.entry("history.max-age-days", "0"),
            Map.entry("hook.timeout-millis", "5000"),
            Map.entry("hook.queue", "10000"),
            Map.entry("hook.senders", "4"),
            Map.entry("hook.attempts", "3"),
            Map.entry("hook.retry-millis", "1000"),
            Map.entry("hook.frozen-check-millis", "1000"),
            Map.entry("hook.recent-targets", "10000"),
            // CIDR blocks (IPv4, IPv6; comma-separated; empty = none) trigger and push URLs may not reach. By default
            // every address that is not the public internet: "this host", loopback (the server's own API included),
            // private, shared (CGNAT) and link-local ranges (cloud metadata endpoints: 169.254.169.254, fd00:ec2::254).
            // A receiver on the operator's own LAN or loopback needs this set without its block. See
            // docs/api-decisions.md.
            Map.entry("hook.deny-networks", "0.0.0.0/8,10.0.0.0/8,100.64.0.0/10,127.0.0.0/8,169.254.0.0/16,172.16.0.0/12,"
                    + "192.168.0.0/16,::/128,::1/128,fc00::/7,fe80::/10"),
            Map.entry("push.batch-max", "100"),
            Map.entry("push.batch-millis", "200"),
            Map.entry("auth.max-failures", "5"),
            Map.entry("auth.max-failures-per-address", "20"),
            Map.entry("auth.backoff-base-millis", "1000"),
            Map.entry("auth.backoff-max-millis", "300000"),
            Map.entry("mqtt.slow-consumer-seconds", "30"),
            // Open commands (status 1 or 2) in all and per product; beyond, POST /cmds is errno 13.
            Map.entry("commands.max-open", "100000"),
            Map.entry("commands.max-open-per-product", "10000"),
            // GET /events streams in all, per product and per credential (admin token or master key); beyond, errno 13.
            Map.entry("events.max-streams", "64"),
            Map.entry("events.max-streams-per-product", "16"),
            Map.entry("events.max-streams-per-credential", "8"),
            // D26 (docs/decisions.md): user topics per product (created or recorded by exact subscriptions);
            // 0 = no limit. Each costs up to 1 KiB of heap (its name), so the default keeps one product's topics
            // to about 10 MiB.
            Map.entry("topics.max-per-product", "100000"),
            // Limits per tenant (docs/reliability.md): a CONNECT with its will needs a few KB; the full
            // mqtt.max-packet-bytes is read only from a logged-in client.
            Map.entry("mqtt.max-connect-bytes", String.valueOf(8 * 1024)),
            Map.entry("mqtt.max-pending-publish-bytes", String.valueOf(8 * 1024 * 1024)),
            Map.entry("mqtt.max-inflight-bytes", String.valueOf(1024 * 1024)),
            // Messages handed to a connection by other event loops and not yet written: about 1 s of a 16,000 msg/s
            // stream, which a freshly started server's loops take to drain while the JIT warms up.
            Map.entry("mqtt.max-outgoing-messages", "16384"),
            Map.entry("mqtt.max-outgoing-bytes", String.valueOf(4 * 1024 * 1024)),
            Map.entry("session.max-queued-bytes", String.valueOf(8 * 1024 * 1024)),
            Map.entry("product.max-queued", "100000"),
            Map.entry("product.max-queued-bytes", String.valueOf(64 * 1024 * 1024)),
            Map.entry("retained.max-per-product", "10000"),
            Map.entry("retained.max-bytes-per-product", String.valueOf(64 * 1024 * 1024))));

    /** Builds a config from the layered sources; {@code flags} holds only the flags actually given. */
    public static Config load(Path configFile, Map<String, String> env, Map<String, String> flags) {
        Map<String, String> values = new HashMap<>(DEFAULTS);
        if (configFile != null) {
            values.putAll(readProperties(configFile));
        }
        for (String key : DEFAULTS.keySet()) {
            String fromEnv = env.get(envName(key));
            if (fromEnv != null) {
                values.put(key, fromEnv);
            }
        }
        values.putAll(flags);
        return fromMap(values);
    }

    /** Defaults overridden by {@code overrides}; for tests and embedding. */
    public static Config of(Map<String, String> overrides) {
        Map<String, String> values = new HashMap<>(DEFAULTS);
        values.putAll(overrides);
        return fromMap(values);
    }

    static String envName(String key) {
        return "STRATUS_" + key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }

    private static Config fromMap(Map<String, String> v) {
        for (String key : v.keySet()) {
            if (!DEFAULTS.containsKey(key)) {
                throw new IllegalArgumentException("unknown setting: " + key);
            }
        }
        String sync = v.get("store.sync").trim().toLowerCase(Locale.ROOT);
        if (!sync.equals("normal") && !sync.equals("full")) {
            throw new IllegalArgumentException("store.sync must be normal or full, not " + sync);
        }
        return new Config(
                v.get("bind").trim(),
                port(v, "mqtt.port"),
                port(v, "http.port"),
                Path.of(v.get("data.dir").trim()),
                v.get("admin.password"),
                Boolean.parseBoolean(v.get("mqtt.allow-anonymous").trim()),
                positive(v, "mqtt.max-packet-bytes"),
                positive(v, "mqtt.max-subscriptions"),
                Math.min(positive(v, "mqtt.max-inflight"), 65535),
                positive(v, "session.max-queued"),
                Duration.ofSeconds(positive(v, "session.message-ttl-seconds")),
                Duration.ofSeconds(positive(v, "mqtt.connect-timeout-seconds")),
                ZoneId.of(v.get("dp.timezone").trim()),
                sync,
                choice(v, "dp.on-error", "disconnect", "drop"),
                choice(v, "dp.type7", "consecutive-streams", "one-stream"),
                !choice(v, "dp.forward", "value", "json"),
                Duration.ofDays(Math.max(0, integer(v, "history.max-age-days"))),
                new HookSettings(Duration.ofMillis(positive(v, "hook.timeout-millis")), positive(v, "hook.queue"),
                        positive(v, "hook.senders"), positive(v, "hook.attempts"), Duration.ofMillis(positive(v, "hook.retry-millis")),
                        Duration.ofMillis(positive(v, "hook.frozen-check-millis")), positive(v, "push.batch-max"),
                        Duration.ofMillis(positive(v, "push.batch-millis")), list(v, "hook.deny-networks"),
                        positive(v, "hook.recent-targets")),
                new Protection(positive(v, "auth.max-failures"), positive(v, "auth.max-failures-per-address"),
                        Duration.ofMillis(positive(v, "auth.backoff-base-millis")),
                        Duration.ofMillis(positive(v, "auth.backoff-max-millis")),
                        Duration.ofSeconds(positive(v, "mqtt.slow-consumer-seconds"))),
                Math.max(0, integer(v, "topics.max-per-product")),
                Boolean.parseBoolean(v.get("mqtt.onenet-header-flags").trim()),
                Boolean.parseBoolean(v.get("mqtt.proxy-protocol").trim()),
                Boolean.parseBoolean(v.get("http.proxy-protocol").trim()),
                list(v, "http.trusted-proxies"),
                !choice(v, "api.status-codes", "onenet", "rest"),
                ZoneId.of(v.get("dp.binary-timezone").trim()),
                ZoneId.of(v.get("api.timezone").trim()),
                positive(v, "history.max-reply-bytes"),
                positive(v, "history.max-concurrent-queries"),
                positive(v, "devices.max-per-product"),
                new SharedLimits(positive(v, "commands.max-open"), positive(v, "commands.max-open-per-product"),
                        positive(v, "events.max-streams"), positive(v, "events.max-streams-per-product"),
                        positive(v, "events.max-streams-per-credential")),
                new TenantLimits(positive(v, "mqtt.max-connect-bytes"), positive(v, "mqtt.max-pending-publish-bytes"),
                        positive(v, "mqtt.max-inflight-bytes"), positive(v, "session.max-queued-bytes"),
                        positive(v, "product.max-queued"), positive(v, "product.max-queued-bytes"),
                        positive(v, "retained.max-per-product"), positive(v, "retained.max-bytes-per-product"),
                        positive(v, "mqtt.max-outgoing-messages"), positive(v, "mqtt.max-outgoing-bytes")),
                storeLocation(v),
                tls(v),
                ClusterSettings.of(v));
    }

    private static Tls tls(Map<String, String> v) {
        int mqttPort = optionalPort(v, "mqtt.tls-port");
        int httpPort = optionalPort(v, "http.tls-port");
        int wsPort = optionalPort(v, "mqtt.ws-port");
        int wssPort = optionalPort(v, "mqtt.wss-port");
        Path cert = path(v, "tls.cert");
        Path key = path(v, "tls.key");
        Path clientCa = path(v, "tls.client-ca");
        String auth = v.get("tls.client-auth").strip().toUpperCase(Locale.ROOT);
        if (!List.of("NONE", "OPTIONAL", "REQUIRE").contains(auth)) {
            throw new IllegalArgumentException("tls.client-auth must be none, optional or require, not " + v.get("tls.client-auth"));
        }
        Tls.ClientAuth clientAuth = Tls.ClientAuth.valueOf(auth);
        String provider = v.get("tls.provider").strip().toUpperCase(Locale.ROOT);
        if (!List.of("AUTO", "OPENSSL", "JDK").contains(provider)) {
            throw new IllegalArgumentException("tls.provider must be auto, openssl or jdk, not " + v.get("tls.provider"));
        }
        boolean certLogin = Boolean.parseBoolean(v.get("tls.cert-login").strip());
        if ((mqttPort >= 0 || httpPort >= 0 || wssPort >= 0) && (cert == null || key == null)) {
            throw new IllegalArgumentException("a TLS port needs tls.cert (PEM certificate chain) and tls.key (PEM key)");
        }
        if (clientAuth != Tls.ClientAuth.NONE && clientCa == null) {
            throw new IllegalArgumentException("tls.client-auth=" + clientAuth.name().toLowerCase(Locale.ROOT)
                    + " needs tls.client-ca, the PEM file of the CAs that sign client certificates");
        }
        if (certLogin && clientAuth == Tls.ClientAuth.NONE) {
            throw new IllegalArgumentException("tls.cert-login needs tls.client-auth=optional or require");
        }
        return new Tls(mqttPort, httpPort, cert, key, clientAuth, clientCa, certLogin,
                Duration.ofMillis(positive(v, "tls.handshake-timeout-millis")), positive(v, "tls.max-handshakes"),
                positive(v, "tls.max-handshakes-per-address"),
                Duration.ofSeconds(positive(v, "tls.reload-check-seconds")), wsPort, wssPort, Tls.Provider.valueOf(provider));
    }

    private static StoreLocation storeLocation(Map<String, String> v) {
        String url = v.get("store.url").strip();
        if (!url.isEmpty() && !url.startsWith("postgresql://") && !url.startsWith("postgres://")
                && !url.startsWith("jdbc:postgresql:")) {
            throw new IllegalArgumentException("store.url must be empty (the embedded store) or start with postgresql://, "
                    + "postgres:// or jdbc:postgresql:");
        }
        int writers = positive(v, "store.datapoint-writers");
        if (writers > MAX_DATAPOINT_WRITERS) {
            throw new IllegalArgumentException("store.datapoint-writers must be at most " + MAX_DATAPOINT_WRITERS);
        }
        return new StoreLocation(url, path(v, "store.password-file"), writers);
    }

    private static Map<String, String> readProperties(Path file) {
        Properties props = new Properties();
        try (Reader reader = Files.newBufferedReader(file)) {
            props.load(reader);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read config file " + file + ": " + e.getMessage());
        }
        Map<String, String> values = new HashMap<>();
        props.forEach((k, val) -> values.put(k.toString().trim(), val.toString()));
        return values;
    }
}
