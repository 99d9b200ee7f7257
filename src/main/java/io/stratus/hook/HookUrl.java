package io.stratus.hook;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;

/** The URLs hooks may call: absolute http or https with a host, no fragment, at most {@value #MAX_LENGTH} characters. */
public final class HookUrl {
    public static final int MAX_LENGTH = 1024;

    private HookUrl() {
    }

    /** The URL, or an exception whose message says what is wrong with it. */
    public static URI parse(String url) throws HookException {
        if (url.length() > MAX_LENGTH) {
            throw new HookException("url longer than " + MAX_LENGTH);
        }
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            throw new HookException("url is not a valid URL: " + e.getReason());
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw new HookException("url must start with http:// or https://");
        }
        if (uri.getHost() == null || uri.getHost().isEmpty()) {
            throw new HookException("url has no host");
        }
        if (uri.getRawFragment() != null) {
            throw new HookException("url must not have a #fragment");
        }
        return uri;
    }
}
