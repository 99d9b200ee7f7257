package io.stratus.api;

import io.javalin.config.JettyConfig;
import io.stratus.Config;
import io.stratus.tls.TlsFiles;
import io.stratus.tls.TlsMaterial;
import io.stratus.tls.TlsPolicy;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.ProxyConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The API's Jetty connectors where Stratus makes them itself rather than Javalin: the HTTPS port ({@code
 * http.tls-port}, the API and console over TLS, with the certificate of the MQTT TLS port and the same protocols,
 * cipher suites and client-certificate setting) beside the plain one, and either behind the PROXY protocol ({@code
 * http.proxy-protocol}). A renewed certificate is loaded into the running Jetty factory, so new connections get it
 * and open ones keep theirs.
 */
final class HttpConnectors {
    private static final Logger log = LoggerFactory.getLogger(HttpConnectors.class);

    private final Config.Tls settings;
    private final String host;
    private final SslContextFactory.Server tls = new SslContextFactory.Server();
    private volatile ServerConnector connector;

    HttpConnectors(Config.Tls settings, String host, TlsFiles files) {
        this.settings = settings;
        this.host = host;
        TlsMaterial current = files.current();
        use(tls, current);
        tls.setCertAlias(TlsMaterial.ALIAS);
        tls.setIncludeProtocols(TlsPolicy.PROTOCOLS.toArray(String[]::new));
        tls.setIncludeCipherSuites(TlsPolicy.CIPHERS.toArray(String[]::new));
        switch (settings.clientAuth()) {
            case NONE -> { }
            case OPTIONAL -> tls.setWantClientAuth(true);
            case REQUIRE -> tls.setNeedClientAuth(true);
        }
        files.onReload(this::reload);
    }

    private static void use(SslContextFactory factory, TlsMaterial m) {
        factory.setKeyStore(m.keyStore());
        factory.setKeyStorePassword(new String(TlsMaterial.PASSWORD));
        factory.setKeyManagerPassword(new String(TlsMaterial.PASSWORD));
        factory.setTrustStore(m.clientCaStore()); // null without tls.client-ca
    }

    private void reload(TlsMaterial m) {
        try {
            tls.reload(f -> use(f, m));
        } catch (Exception e) {
            log.warn("HTTPS keeps the previous certificate: loading {} failed: {}", m.describe(), e.toString());
        }
    }

    /**
     * Adds the plain connector on {@code plainPort} and this one. Javalin adds its plain connector only when none is
     * configured, so both are added here: plain first, as {@code Javalin.port()} reads the first.
     */
    void addTo(JettyConfig jetty, int plainPort, boolean proxyProtocol) {
        jetty.addConnector((server, http) -> plain(server, http, host, plainPort, proxyProtocol));
        jetty.addConnector((server, http) -> connector(server, http, proxyProtocol));
    }

    /**
     * The plain HTTP connector; with {@code proxyProtocol} ({@code http.proxy-protocol}) a connection that starts with
     * a PROXY protocol header (v1 or v2) has the header's source address as its client's, one without keeps its own.
     */
    static ServerConnector plain(Server server, HttpConfiguration http, String host, int port, boolean proxyProtocol) {
        HttpConnectionFactory h1 = new HttpConnectionFactory(http);
        ServerConnector plain = proxyProtocol
                ? new ServerConnector(server, new ProxyConnectionFactory(h1.getProtocol()), h1)
                : new ServerConnector(server, h1);
        plain.setHost(host);
        plain.setPort(port);
        return plain;
    }

    /** HTTP/1.1 inside TLS, on the API's routes; behind the PROXY protocol header as the plain connector. */
    private ServerConnector connector(Server server, HttpConfiguration shared, boolean proxyProtocol) {
        HttpConfiguration https = new HttpConfiguration(shared);
        // The certificate is checked against the host name by the client; a second check of the Host header against
        // the certificate here would only refuse clients that reach the server by an address the certificate omits.
        https.addCustomizer(new SecureRequestCustomizer(false));
        SslConnectionFactory ssl = new SslConnectionFactory(tls, HttpVersion.HTTP_1_1.asString());
        HttpConnectionFactory h1 = new HttpConnectionFactory(https);
        ServerConnector c = proxyProtocol
                ? new ServerConnector(server, new ProxyConnectionFactory(ssl.getProtocol()), ssl, h1)
                : new ServerConnector(server, ssl, h1);
        c.setHost(host);
        c.setPort(settings.httpPort());
        this.connector = c;
        return c;
    }

    /** The bound port (the real one when configured as 0), or -1 before the server started. */
    int port() {
        ServerConnector c = connector;
        return c == null ? -1 : c.getLocalPort();
    }
}
