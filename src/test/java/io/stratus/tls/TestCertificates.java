package io.stratus.tls;

import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

/**
 * A certificate authority made for one test with the {@code openssl} command (EC P-256 keys, PKCS#8 PEM files in a
 * temporary directory; nothing is committed), and the certificates it issues: servers for {@code localhost} and
 * {@code 127.0.0.1}, clients named by their CN, with any validity window (an expired one too).
 */
public final class TestCertificates {
    private static final DateTimeFormatter OPENSSL_TIME = DateTimeFormatter.ofPattern("yyyyMMddHHmmss'Z'").withZone(ZoneOffset.UTC);

    /** A certificate and its key. */
    public record Pem(Path cert, Path key) {}

    /** The certificate and key files a server is given ({@code tls.cert}, {@code tls.key}), and what was first in them. */
    public record ServedFiles(Pem first, Path cert, Path key) {
        /** The settings that serve these files, checked for renewals every second, with {@code more} on top. */
        @SafeVarargs
        public final Map<String, String> settings(Map<String, String>... more) {
            Map<String, String> s = new HashMap<>(Map.of("tls.cert", cert.toString(), "tls.key", key.toString(),
                    "tls.reload-check-seconds", "1"));
            for (Map<String, String> m : more) {
                s.putAll(m);
            }
            return s;
        }

        /** Puts {@code renewed} in the files as a renewal writes them: the key first, then the certificate at once. */
        public void renew(Pem renewed) throws IOException {
            Path staged = cert.resolveSibling(cert.getFileName() + ".staged");
            Files.copy(renewed.key(), key, StandardCopyOption.REPLACE_EXISTING);
            Files.copy(renewed.cert(), staged, StandardCopyOption.REPLACE_EXISTING);
            Files.move(staged, cert, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }
    }

    private final Path dir;
    private final Path caCert;
    private final Path caKey;
    private int issued;

    private TestCertificates(Path dir) {
        this.dir = dir;
        this.caCert = dir.resolve("ca.pem");
        this.caKey = dir.resolve("ca.key");
    }

    /** A new CA in {@code dir} (which it fills), named {@code name}. */
    public static TestCertificates authority(Path dir, String name) {
        TestCertificates ca = new TestCertificates(dir);
        try {
            Files.createDirectories(dir.resolve("db"));
            Files.writeString(dir.resolve("db/index.txt"), "");
            Files.writeString(dir.resolve("db/serial"), "1000\n");
            Files.writeString(dir.resolve("ca.cnf"), """
                    [ca]
                    default_ca = test
                    [test]
                    database = db/index.txt
                    new_certs_dir = db
                    serial = db/serial
                    default_md = sha256
                    policy = any
                    copy_extensions = copy
                    unique_subject = no
                    [any]
                    commonName = supplied
                    """);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        ca.openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key",
                "-out", "ca.pem", "-days", "3", "-subj", "/CN=" + name);
        return ca;
    }

    public Path caCert() {
        return caCert;
    }

    /** A server certificate for localhost and 127.0.0.1, valid from an hour ago for a day. */
    public Pem server(String name) {
        Instant now = Instant.now();
        return issue(name, "localhost", "subjectAltName=DNS:localhost,IP:127.0.0.1", now.minus(1, ChronoUnit.HOURS),
                now.plus(1, ChronoUnit.DAYS));
    }

    /** A new server certificate copied to {@code dir}/server.pem and server.key, for a server to read. */
    public ServedFiles servedFiles(Path dir) throws IOException {
        Pem pem = server("server");
        ServedFiles files = new ServedFiles(pem, dir.resolve("server.pem"), dir.resolve("server.key"));
        Files.copy(pem.cert(), files.cert());
        Files.copy(pem.key(), files.key());
        return files;
    }

    /** A client certificate with common name {@code cn}, valid from an hour ago for a day. */
    public Pem client(String name, String cn) {
        Instant now = Instant.now();
        return client(name, cn, now.minus(1, ChronoUnit.HOURS), now.plus(1, ChronoUnit.DAYS));
    }

    /** A client certificate with common name {@code cn}, valid in [notBefore, notAfter]. */
    public Pem client(String name, String cn, Instant notBefore, Instant notAfter) {
        return issue(name, cn, "extendedKeyUsage=clientAuth", notBefore, notAfter);
    }

    private Pem issue(String name, String cn, String extension, Instant notBefore, Instant notAfter) {
        String base = name + "-" + (++issued);
        openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", base + ".key",
                "-out", base + ".csr", "-subj", "/CN=" + cn, "-addext", extension);
        openssl("ca", "-batch", "-config", "ca.cnf", "-cert", "ca.pem", "-keyfile", "ca.key", "-in", base + ".csr",
                "-out", base + ".pem", "-notext", "-startdate", OPENSSL_TIME.format(notBefore), "-enddate",
                OPENSSL_TIME.format(notAfter));
        return new Pem(dir.resolve(base + ".pem"), dir.resolve(base + ".key"));
    }

    /** A client's TLS context: trusts {@code trustedCa}, and presents {@code own} when it is not null. */
    public static SSLContext clientContext(Path trustedCa, Pem own) {
        try {
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            try (var in = Files.newInputStream(trustedCa)) {
                int i = 0;
                for (var c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                    trust.setCertificateEntry("ca-" + i++, c);
                }
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            KeyManager[] keys = own == null ? null : TlsMaterial.load(own.cert(), own.key(), null).keyManagers().getKeyManagers();
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(keys, tmf.getTrustManagers(), new SecureRandom());
            return context;
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A TLS handshake with the server on {@code port}; the certificate it presented. */
    public static X509Certificate handshake(int port, SSLContext context) throws IOException {
        try (SSLSocket s = (SSLSocket) context.getSocketFactory().createSocket("127.0.0.1", port)) {
            s.setSoTimeout(5000);
            s.startHandshake();
            return (X509Certificate) s.getSession().getPeerCertificates()[0];
        }
    }

    /** The serial number of the certificate in a PEM file. */
    public static BigInteger serial(Path pem) {
        try (InputStream in = Files.newInputStream(pem)) {
            return ((X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in)).getSerialNumber();
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private void openssl(String... args) {
        List<String> command = new ArrayList<>(List.of("openssl"));
        command.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException("openssl " + String.join(" ", args) + " failed: " + out);
            }
        } catch (IOException e) {
            throw new IllegalStateException("the TLS tests need the openssl command (apt-get install openssl)", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
