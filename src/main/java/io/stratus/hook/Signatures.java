package io.stratus.hook;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * OneNET data-push signing: signature = base64(md5(token + nonce + msg)) (API "Stratus extensions", docs/decisions.md).
 * OneNET's published receiver samples copy exactly 8 bytes of the nonce into the digest input, so nonces are 8
 * characters; letters and digits only, so that they survive a query string unescaped.
 */
final class Signatures {
    static final int NONCE_LENGTH = 8;
    private static final char[] ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".toCharArray();
    private static final SecureRandom RANDOM = new SecureRandom();

    private Signatures() {
    }

    static String nonce() {
        return random(NONCE_LENGTH);
    }

    /** Random letters and digits, for nonces and the verification {@code msg}. */
    static String random(int length) {
        char[] out = new char[length];
        for (int i = 0; i < length; i++) {
            out[i] = ALPHABET[RANDOM.nextInt(ALPHABET.length)];
        }
        return new String(out);
    }

    static String sign(String token, String nonce, String msg) {
        try {
            MessageDigest md5 = MessageDigest.getInstance("MD5");
            md5.update(token.getBytes(StandardCharsets.UTF_8));
            md5.update(nonce.getBytes(StandardCharsets.UTF_8));
            md5.update(msg.getBytes(StandardCharsets.UTF_8));
            return Base64.getEncoder().encodeToString(md5.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("MD5 is required of every Java platform", e);
        }
    }
}
