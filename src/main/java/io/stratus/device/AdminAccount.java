package io.stratus.device;

import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin credential: a password stored as a PBKDF2 hash, and the session tokens handed out by
 * {@code POST /auth/login}. When no password is configured on the first start, one is generated and
 * printed once. Sessions are stored ({@link AdminSessionStore}), so they outlive a restart; the ones this node has
 * seen are also kept in memory, because {@code /events} checks its session at every event and must not wait on SQL.
 */
public final class AdminAccount {
    public static final String USERNAME = "admin";
    private static final Logger log = LoggerFactory.getLogger(AdminAccount.class);
    private static final String HASH_SETTING = "admin_password_hash";
    private static final int ITERATIONS = 120_000;
    public static final Duration TOKEN_LIFETIME = Duration.ofHours(24);

    private final Map<String, Long> tokenExpiry = new ConcurrentHashMap<>();
    private volatile Runnable loggedOut = () -> { };
    private final AdminSessionStore sessions;
    private volatile String storedHash;

    AdminAccount(DeviceStore store, AdminSessionStore sessions, String configuredPassword) {
        this.sessions = sessions;
        String existing = store.setting(HASH_SETTING);
        if (configuredPassword != null && !configuredPassword.isEmpty()) {
            if (existing == null || !verify(configuredPassword, existing)) {
                existing = hash(configuredPassword);
                store.putSetting(HASH_SETTING, existing);
            }
        } else if (existing == null) {
            String generated = Secrets.token(16);
            existing = hash(generated);
            store.putSetting(HASH_SETTING, existing);
            // Printed once, on the console of the first start, so the owner can sign in.
            log.warn("Generated admin password (shown only now; set --admin-password to choose one): {}", generated);
        }
        this.storedHash = existing;
    }

    public static AdminAccount open(io.stratus.store.Database db, String configuredPassword) {
        return new AdminAccount(new DeviceStore(db), new AdminSessionStore(db), configuredPassword);
    }

    /** A new session token when the credentials are right, else null. */
    public String login(String username, String password) {
        boolean userOk = Secrets.constantTimeEquals(username, USERNAME);
        boolean passwordOk = password != null && verify(password, storedHash);
        if (!userOk || !passwordOk) {
            return null;
        }
        String token = Secrets.token(24);
        long now = System.currentTimeMillis();
        long expiresAt = now + TOKEN_LIFETIME.toMillis();
        sessions.deleteExpired(now);
        sessions.insert(Secrets.digest(token), expiresAt);
        tokenExpiry.put(token, expiresAt);
        return token;
    }

    /** Whether the token is a live session: from memory when this node has seen it, else from the store. */
    public boolean isValidToken(String token) {
        if (token == null || token.isEmpty()) {
            return false;
        }
        Long expiry = tokenExpiry.get(token);
        if (expiry == null) {
            long stored = sessions.expiresAt(Secrets.digest(token));
            if (stored == 0) {
                return false;
            }
            expiry = stored;
            tokenExpiry.put(token, stored);
        }
        if (expiry < System.currentTimeMillis()) {
            tokenExpiry.remove(token); // the row goes at the next login: this may run where SQL must not
            return false;
        }
        return true;
    }

    public void logout(String token) {
        if (token != null) {
            tokenExpiry.remove(token);
            sessions.delete(Secrets.digest(token));
            loggedOut.run();
        }
    }

    /** Cluster mode: {@code announce} tells the other nodes that a session ended here ({@link #forgetEnded} there). */
    public void announceLogoutsTo(Runnable announce) {
        this.loggedOut = announce;
    }

    /** Another node ended a session: of the sessions this node holds in memory, those gone from the store go. */
    public void forgetEnded() {
        tokenExpiry.keySet().removeIf(token -> sessions.expiresAt(Secrets.digest(token)) == 0);
    }

    static String hash(String password) {
        byte[] salt = Secrets.randomBytes(16);
        return "pbkdf2-sha256$" + ITERATIONS + "$" + b64(salt) + "$" + b64(derive(password, salt, ITERATIONS));
    }

    static boolean verify(String password, String stored) {
        String[] parts = stored.split("\\$");
        if (parts.length != 4 || !parts[0].equals("pbkdf2-sha256")) {
            return false;
        }
        byte[] salt = Base64.getDecoder().decode(parts[2]);
        byte[] expected = Base64.getDecoder().decode(parts[3]);
        byte[] actual = derive(password, salt, Integer.parseInt(parts[1]));
        return java.security.MessageDigest.isEqual(expected, actual);
    }

    private static byte[] derive(String password, byte[] salt, int iterations) {
        try {
            PBEKeySpec spec = new PBEKeySpec(password.toCharArray(), salt, iterations, 256);
            return SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256").generateSecret(spec).getEncoded();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String b64(byte[] b) {
        return Base64.getEncoder().encodeToString(b);
    }
}
