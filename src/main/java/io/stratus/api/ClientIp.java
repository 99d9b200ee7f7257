package io.stratus.api;

import io.javalin.http.Context;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import org.eclipse.jetty.util.InetAddressSet;

/**
 * The API client's IP address, for the failed-login throttles and logs: the connection's peer (after a PROXY protocol
 * header, {@code http.proxy-protocol}) or, when that peer is one of {@code http.trusted-proxies}, the address its
 * {@code X-Forwarded-For} names. That is the rightmost entry that is not itself a trusted proxy: proxies append what
 * they saw, so entries to its left were written by the client and prove nothing. An entry that is no IP address
 * (a misconfigured proxy) leaves the peer's address. Without trusted proxies the header is never read.
 */
final class ClientIp {
    static final String SETTING = "http.trusted-proxies";
    static final String HEADER = "X-Forwarded-For";
    private final InetAddressSet trusted = new InetAddressSet();

    /** {@code proxies}: addresses, CIDR blocks ({@code 10.0.0.0/8}) or ranges, as Jetty's {@link InetAddressSet} reads them. */
    ClientIp(List<String> proxies) {
        for (String p : proxies) {
            try {
                trusted.add(p);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(SETTING + ": \"" + p + "\" is no address, CIDR block or range", e);
            }
        }
    }

    String of(Context ctx) {
        return of(ctx.req().getRemoteAddr(), Collections.list(ctx.req().getHeaders(HEADER)));
    }

    /** The client of a connection from {@code peer} that sent {@code forwardedFor} (its header lines, may be empty). */
    String of(String peer, List<String> forwardedFor) {
        if (trusted.isEmpty() || forwardedFor == null || forwardedFor.isEmpty()) {
            return peer;
        }
        InetAddress from = literal(peer);
        if (from == null || !trusted.test(from)) {
            return peer;
        }
        String[] hops = String.join(",", forwardedFor).split(",");
        for (int i = hops.length - 1; i >= 0; i--) {
            InetAddress hop = literal(hops[i].strip());
            if (hop == null) {
                return peer;
            }
            if (!trusted.test(hop)) {
                return hop.getHostAddress();
            }
        }
        return peer; // every hop a trusted proxy: the nearest one is as far as can be told
    }

    /**
     * An IP address written as one (IPv4 dotted quad, or IPv6 with colons, in brackets or not), else null. Never a DNS
     * lookup: the header is the client's to write.
     */
    static InetAddress literal(String s) {
        if (s == null) {
            return null;
        }
        String a = s.startsWith("[") && s.endsWith("]") ? s.substring(1, s.length() - 1) : s;
        boolean ipv4 = a.matches("[0-9]{1,3}(\\.[0-9]{1,3}){3}")
                && Arrays.stream(a.split("\\.")).allMatch(n -> Integer.parseInt(n) <= 255);
        boolean ipv6 = a.indexOf(':') >= 0 && a.matches("[0-9A-Fa-f:.]+");
        if (!ipv4 && !ipv6) {
            return null;
        }
        try {
            // Only literals get here (a dotted quad of 0-255, or colons, which the JDK never looks up): no DNS.
            return InetAddress.getByName(a);
        } catch (UnknownHostException e) {
            return null;
        }
    }
}
