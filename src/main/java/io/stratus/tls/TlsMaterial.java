package io.stratus.tls;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.TrustManagerFactory;

/**
 * The server's certificate chain and private key, and the CAs that sign client certificates, read from PEM files
 * with the JDK alone: a chain of {@code CERTIFICATE} blocks (the server's first, as Let's Encrypt's
 * {@code fullchain.pem}), and a key in PKCS#8 ({@code BEGIN PRIVATE KEY}, what certbot and
 * {@code openssl genpkey} write; {@code openssl pkcs8 -topk8 -nocrypt} converts older formats), RSA, EC or EdDSA.
 *
 * @param keyStore   the chain and key under {@link #ALIAS}, password {@link #PASSWORD}, for servers that take a
 *                   key store (Jetty)
 * @param clientCas  the CAs of client certificates, or null when none are configured
 */
public record TlsMaterial(X509Certificate certificate, KeyStore keyStore, KeyManagerFactory keyManagers,
                          TrustManagerFactory clientCas, KeyStore clientCaStore) {
    public static final String ALIAS = "stratus";
    /** An in-memory key store's password: the key never leaves the process, so there is nothing for it to protect. */
    public static final char[] PASSWORD = new char[0];

    /** Reads the files; a message naming the file and what is wrong with it when they cannot be used. */
    public static TlsMaterial load(Path certFile, Path keyFile, Path clientCaFile) {
        List<X509Certificate> chain = certificates(certFile);
        if (chain.isEmpty()) {
            throw new IllegalArgumentException(certFile + " holds no PEM certificate");
        }
        PrivateKey key = privateKey(keyFile);
        try {
            if (!belongsTo(chain.get(0), key)) {
                throw new IllegalArgumentException(keyFile + " is not the key of the first certificate in " + certFile);
            }
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setKeyEntry(ALIAS, key, PASSWORD, chain.toArray(Certificate[]::new));
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, PASSWORD);
            TrustManagerFactory tmf = null;
            KeyStore cas = null;
            if (clientCaFile != null) {
                List<X509Certificate> caCerts = certificates(clientCaFile);
                if (caCerts.isEmpty()) {
                    throw new IllegalArgumentException(clientCaFile + " holds no PEM certificate");
                }
                cas = KeyStore.getInstance("PKCS12");
                cas.load(null, null);
                for (int i = 0; i < caCerts.size(); i++) {
                    cas.setCertificateEntry("ca-" + i, caCerts.get(i));
                }
                tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                tmf.init(cas);
            }
            return new TlsMaterial(chain.get(0), ks, kmf, tmf, cas);
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalArgumentException("cannot use " + certFile + " and " + keyFile + ": " + e.getMessage(), e);
        }
    }

    /** Whether {@code key} is the private half of the certificate's key: what it signs, the certificate verifies. */
    private static boolean belongsTo(X509Certificate cert, PrivateKey key) throws GeneralSecurityException {
        String algorithm = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            default -> key.getAlgorithm(); // Ed25519, Ed448
        };
        byte[] probe = "stratus".getBytes(StandardCharsets.US_ASCII);
        Signature signer = Signature.getInstance(algorithm);
        signer.initSign(key);
        signer.update(probe);
        byte[] signature = signer.sign();
        Signature verifier = Signature.getInstance(algorithm);
        verifier.initVerify(cert.getPublicKey());
        verifier.update(probe);
        return verifier.verify(signature);
    }

    private static List<X509Certificate> certificates(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            List<X509Certificate> out = new ArrayList<>();
            for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                out.add((X509Certificate) c);
            }
            return out;
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("cannot read certificates from " + file + ": " + e.getMessage(), e);
        }
    }

    private static PrivateKey privateKey(Path file) {
        String pem;
        try {
            pem = Files.readString(file, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the private key " + file + ": " + e.getMessage(), e);
        }
        String begin = "-----BEGIN PRIVATE KEY-----";
        int start = pem.indexOf(begin);
        int end = pem.indexOf("-----END PRIVATE KEY-----");
        if (start < 0 || end < start) {
            String found = pem.contains("ENCRYPTED PRIVATE KEY") ? "an encrypted key"
                    : pem.contains("-----BEGIN ") ? "another key format" : "no PEM key";
            throw new IllegalArgumentException(file + " holds " + found + "; Stratus reads an unencrypted PKCS#8 key "
                    + "(BEGIN PRIVATE KEY): convert it with openssl pkcs8 -topk8 -nocrypt -in old.pem -out key.pem");
        }
        byte[] der = Base64.getMimeDecoder().decode(pem.substring(start + begin.length(), end));
        for (String algorithm : List.of("EC", "RSA", "Ed25519", "Ed448")) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
            } catch (GeneralSecurityException notThisOne) {
                // the PKCS#8 header names the algorithm, but KeyFactory wants to be asked for the right one
            }
        }
        throw new IllegalArgumentException(file + " holds a key that is not RSA, EC or EdDSA");
    }

    /** For tests and logs: the certificate's subject and its last day. */
    public String describe() {
        return certificate.getSubjectX500Principal().getName() + ", valid until " + certificate.getNotAfter().toInstant();
    }
}
