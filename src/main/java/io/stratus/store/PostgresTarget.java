package io.stratus.store;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A PostgreSQL server to run on, from {@code store.url}: {@code postgresql://user:password@host:port/db?params} (also
 * {@code postgres://}), or a {@code jdbc:postgresql:} URL with {@code user} and {@code password} among its parameters.
 * A password file ({@code store.password-file}) wins over a password in the URL, so that none has to appear in a
 * process list or a config file others may read.
 */
public record PostgresTarget(String jdbcUrl, String user, String password) {
    /** Whether {@code url} names a PostgreSQL server (rather than being empty, for the embedded store). */
    public static boolean isPostgres(String url) {
        return url.startsWith("postgresql://") || url.startsWith("postgres://") || url.startsWith("jdbc:postgresql:");
    }

    /** @throws IllegalArgumentException naming what is wrong (never the password) */
    public static PostgresTarget parse(String url, Path passwordFile) {
        String filePassword = passwordFile == null ? null : readPassword(passwordFile);
        if (url.startsWith("jdbc:postgresql:")) {
            return new PostgresTarget(url, null, filePassword);
        }
        if (!isPostgres(url)) {
            throw new IllegalArgumentException("store.url must start with postgresql://, postgres:// or jdbc:postgresql:");
        }
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("store.url is not a URL: " + e.getReason());
        }
        if (uri.getHost() == null || uri.getPath() == null || uri.getPath().length() < 2) {
            throw new IllegalArgumentException("store.url needs a host and a database: postgresql://user@host:5432/stratus");
        }
        String user = null;
        String password = null;
        if (uri.getRawUserInfo() != null) {
            String[] parts = uri.getRawUserInfo().split(":", 2);
            user = decode(parts[0]);
            password = parts.length > 1 ? decode(parts[1]) : null;
        }
        String jdbc = "jdbc:postgresql://" + uri.getHost() + (uri.getPort() > 0 ? ":" + uri.getPort() : "") + uri.getRawPath()
                + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery());
        return new PostgresTarget(jdbc, user, filePassword != null ? filePassword : password);
    }

    /** The URL as it may be logged: without user and password. */
    public String printable() {
        int query = jdbcUrl.indexOf('?');
        return query < 0 ? jdbcUrl : jdbcUrl.substring(0, query);
    }

    @Override
    public String toString() {
        return "PostgresTarget[" + printable() + ", user " + user + "]";
    }

    private static String readPassword(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            throw new IllegalArgumentException("store.password-file " + file + " cannot be read: " + e.getMessage());
        }
    }

    private static String decode(String s) {
        return URLDecoder.decode(s, StandardCharsets.UTF_8);
    }
}
