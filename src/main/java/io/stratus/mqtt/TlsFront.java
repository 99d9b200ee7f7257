package io.stratus.mqtt;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.OpenSslCachingX509KeyManagerFactory;
import io.netty.handler.ssl.OpenSslContextOption;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import io.stratus.Config;
import io.stratus.tls.TlsFiles;
import io.stratus.tls.TlsMaterial;
import io.stratus.tls.TlsPolicy;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLPeerUnverifiedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The TLS in front of the MQTT TLS port: Netty's {@link SslHandler} from the current certificate (rebuilt when
 * {@link TlsFiles} reloads it; open connections keep the one they started with), a handshake timeout, and caps on
 * handshakes in progress across the server and from one client address: a flood of half-open TLS clients costs a
 * bounded amount of CPU and memory, and one host cannot hold every handshake slot and keep the devices out. A
 * connection over either cap is closed at once and counted.
 */
final class TlsFront {
    private static final Logger log = LoggerFactory.getLogger(TlsFront.class);
    private final Config.Tls settings;
    private volatile SslContext context;
    private final AtomicInteger handshaking = new AtomicInteger();
    /** Handshakes in progress per client address; an address is only here while it has one (at most max-handshakes). */
    private final ConcurrentHashMap<InetAddress, Integer> handshakingFrom = new ConcurrentHashMap<>();
    private final LongAdder refused = new LongAdder();
    private final LongAdder refusedFromAddress = new LongAdder();
    private final LongAdder failed = new LongAdder();

    TlsFront(Config.Tls settings, TlsFiles files) {
        this.settings = settings;
        SslProvider provider = provider(settings.provider());
        this.context = build(files.current(), settings.clientAuth(), provider);
        files.onReload(m -> context = build(m, settings.clientAuth(), provider));
        log.info("MQTT TLS by {}", provider == SslProvider.OPENSSL ? OpenSsl.versionString() : "the JDK");
    }

    /** BoringSSL when asked for or, with auto, when its native library loads here; else the JDK's TLS. */
    private static SslProvider provider(Config.Tls.Provider wanted) {
        return switch (wanted) {
            case JDK -> SslProvider.JDK;
            case OPENSSL -> {
                OpenSsl.ensureAvailability(); // refuses the start, naming why, when the native library cannot load
                yield SslProvider.OPENSSL;
            }
            case AUTO -> OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;
        };
    }

    private static SslContext build(TlsMaterial m, Config.Tls.ClientAuth clientAuth, SslProvider provider) {
        try {
            // BoringSSL would otherwise encode the Java key and chain into native form again on every handshake.
            SslContextBuilder b = SslContextBuilder.forServer(provider == SslProvider.OPENSSL
                            ? new OpenSslCachingX509KeyManagerFactory(m.keyManagers()) : m.keyManagers())
                    .sslProvider(provider)
                    .protocols(TlsPolicy.PROTOCOLS)
                    .ciphers(TlsPolicy.CIPHERS, SupportedCipherSuiteFilter.INSTANCE)
                    .clientAuth(switch (clientAuth) {
                        case NONE -> ClientAuth.NONE;
                        case OPTIONAL -> ClientAuth.OPTIONAL;
                        case REQUIRE -> ClientAuth.REQUIRE;
                    });
            if (m.clientCas() != null) {
                b.trustManager(m.clientCas());
            }
            if (provider == SslProvider.OPENSSL) {
                // BoringSSL calls back into Java for the certificate on each handshake; run inline, the callback costs
                // no extra trip through SslHandler's task loop (nothing in it blocks).
                b.option(OpenSslContextOption.USE_TASKS, false);
            }
            return b.build();
        } catch (SSLException e) {
            throw new IllegalArgumentException("cannot set up TLS with " + m.describe() + ": " + e.getMessage(), e);
        }
    }

    /**
     * Puts TLS in front of a new connection's pipeline. False (and the connection closed) when
     * {@code tls.max-handshakes} handshakes are already in progress, or {@code tls.max-handshakes-per-address} from
     * the connection's address.
     */
    boolean addTo(Channel ch) {
        if (handshaking.incrementAndGet() > settings.maxHandshakes()) {
            handshaking.decrementAndGet();
            refused.increment();
            ch.close();
            return false;
        }
        InetAddress from = ClientAddress.of(ch) instanceof InetSocketAddress a ? a.getAddress() : null;
        if (from != null && !takeSlot(from)) {
            handshaking.decrementAndGet();
            refusedFromAddress.increment();
            ch.close();
            return false;
        }
        SslHandler ssl = context.newHandler(ch.alloc());
        ssl.setHandshakeTimeoutMillis(settings.handshakeTimeout().toMillis());
        // The handshake future also fails when the connection closes before the handshake ends.
        ssl.handshakeFuture().addListener(f -> {
            handshaking.decrementAndGet();
            if (from != null) {
                handshakingFrom.computeIfPresent(from, (a, n) -> n > 1 ? n - 1 : null);
            }
            if (!f.isSuccess()) {
                failed.increment();
            }
        });
        ch.pipeline().addLast("tls", ssl);
        return true;
    }

    /** One more handshake in progress from {@code from}, unless it has {@code tls.max-handshakes-per-address}. */
    private boolean takeSlot(InetAddress from) {
        int max = settings.maxHandshakesPerAddress();
        boolean[] taken = new boolean[1];
        handshakingFrom.compute(from, (a, n) -> {
            int now = n == null ? 0 : n;
            taken[0] = now < max;
            return taken[0] ? now + 1 : n;
        });
        return taken[0];
    }

    /** Handshakes in progress now. */
    int handshaking() {
        return handshaking.get();
    }

    /** Connections closed because {@code tls.max-handshakes} were in progress. */
    long refused() {
        return refused.sum();
    }

    /** Connections closed because their address had {@code tls.max-handshakes-per-address} in progress. */
    long refusedFromAddress() {
        return refusedFromAddress.sum();
    }

    /** Handshakes that failed: timeouts, plain MQTT on the TLS port, unknown CAs, expired or missing certificates. */
    long failed() {
        return failed.sum();
    }

    /**
     * The common name of the client's certificate when {@code ctx}'s connection came over TLS with one (verified in the
     * handshake against {@code tls.client-ca}), else null.
     */
    static String certificateName(ChannelHandlerContext ctx) {
        SslHandler ssl = ctx.pipeline().get(SslHandler.class);
        if (ssl == null) {
            return null;
        }
        try {
            Certificate[] chain = ssl.engine().getSession().getPeerCertificates();
            return chain.length > 0 && chain[0] instanceof X509Certificate x
                    ? TlsPolicy.commonName(x.getSubjectX500Principal()) : null;
        } catch (SSLPeerUnverifiedException none) {
            return null;
        }
    }
}
