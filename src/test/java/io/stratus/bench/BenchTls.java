package io.stratus.bench;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.ResumableX509ExtendedTrustManager;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.OpenSslContextOption;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.stratus.tls.TestCertificates;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSession;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * TLS for scenario g: the benchmark's own CA and ECDSA P-256 server certificate for localhost and 127.0.0.1 (made
 * with openssl by {@link TestCertificates} in the work directory), and the load tool's client side of it (Netty's
 * BoringSSL provider where it loads, else the JDK's, trusting that CA, checking the server's name). Every handshake is
 * a full one: the client only offers to resume a session it holds for the same peer host and port, so each connection gets a peer port of its
 * own (the port is only the session cache's key; the socket's address is the server's). Handshakes are counted as
 * full or resumed by the trust manager (Netty calls it back for resumptions too), so the figure can say which it was.
 */
final class BenchTls {
    private final TestCertificates.Pem server;
    private final SslContext client;
    private final Counting trust;
    private final AtomicInteger nextPeerPort = new AtomicInteger();
    private volatile String negotiated = "";

    private BenchTls(TestCertificates.Pem server, Counting trust) {
        this.server = server;
        this.trust = trust;
        try {
            // BoringSSL where its native library loads, as in Stratus: the JDK's client-side P-256 and X25519 took most of
            // the load tool's CPU and capped both servers' connect rates at a few hundred per second.
            SslContextBuilder b = SslContextBuilder.forClient().trustManager(trust).sessionCacheSize(1);
            if (OpenSsl.isAvailable()) {
                // What a device's TLS stack offers (mbedTLS, OpenSSL 3.0), and what Mosquitto's OpenSSL negotiates: with
                // BoringSSL's default, X25519MLKEM768, a BoringSSL server would do a post-quantum key exchange Mosquitto
                // cannot, and the two servers would be compared on different work.
                b.sslProvider(SslProvider.OPENSSL).option(OpenSslContextOption.GROUPS, new String[] {"X25519", "P-256"});
            } else {
                b.sslProvider(SslProvider.JDK);
            }
            this.client = b.build();
        } catch (SSLException e) {
            throw new IllegalStateException("cannot set up the load tool's TLS", e);
        }
    }

    /** A new CA and server certificate in {@code dir}. */
    static BenchTls create(Path dir) {
        TestCertificates ca = TestCertificates.authority(dir.toAbsolutePath(), "Stratus benchmark CA");
        return new BenchTls(ca.server("server"), new Counting(ca.caCert()));
    }

    Path cert() {
        return server.cert();
    }

    Path key() {
        return server.key();
    }

    /** A client handler for a new connection to 127.0.0.1, never resuming an earlier session. */
    SslHandler newHandler(ByteBufAllocator alloc) {
        int peerPort = 1 + Math.floorMod(nextPeerPort.getAndIncrement(), 65535);
        SslHandler ssl = client.newHandler(alloc, "127.0.0.1", peerPort);
        if (negotiated.isEmpty()) {
            ssl.handshakeFuture().addListener(f -> {
                if (f.isSuccess()) {
                    SSLSession s = ssl.engine().getSession();
                    negotiated = s.getProtocol() + " " + s.getCipherSuite();
                }
            });
        }
        return ssl;
    }

    long fullHandshakes() {
        return trust.full.sum();
    }

    long resumedHandshakes() {
        return trust.resumed.sum();
    }

    /**
     * Protocol and cipher suite of a handshake that succeeded since the last call, e.g. "TLSv1.3 TLS_AES_128_GCM_SHA256";
     * empty if none did.
     */
    String takeNegotiated() {
        String last = negotiated;
        negotiated = "";
        return last;
    }

    /** The JDK's trust manager for the benchmark CA, counting the server certificates it checks and the resumptions. */
    private static final class Counting extends X509ExtendedTrustManager implements ResumableX509ExtendedTrustManager {
        private final X509ExtendedTrustManager jdk;
        final LongAdder full = new LongAdder();
        final LongAdder resumed = new LongAdder();

        Counting(Path caCert) {
            try (InputStream in = Files.newInputStream(caCert)) {
                KeyStore store = KeyStore.getInstance("PKCS12");
                store.load(null, null);
                store.setCertificateEntry("ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
                TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                tmf.init(store);
                X509ExtendedTrustManager found = null;
                for (TrustManager tm : tmf.getTrustManagers()) {
                    if (tm instanceof X509ExtendedTrustManager x) {
                        found = x;
                    }
                }
                this.jdk = found;
            } catch (IOException | GeneralSecurityException e) {
                throw new IllegalStateException("cannot read the benchmark CA " + caCert, e);
            }
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
            jdk.checkServerTrusted(chain, authType, engine);
            full.increment();
        }

        @Override
        public void resumeServerTrusted(X509Certificate[] chain, SSLEngine engine) {
            resumed.increment();
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
            jdk.checkServerTrusted(chain, authType, socket);
            full.increment();
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            jdk.checkServerTrusted(chain, authType);
            full.increment();
        }

        @Override
        public void resumeClientTrusted(X509Certificate[] chain, SSLEngine engine) throws CertificateException {
            throw new CertificateException("the load tool is a client");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
            throw new CertificateException("the load tool is a client");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
            throw new CertificateException("the load tool is a client");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            throw new CertificateException("the load tool is a client");
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return jdk.getAcceptedIssuers();
        }
    }
}
