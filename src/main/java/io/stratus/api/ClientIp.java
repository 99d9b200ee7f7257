package io.stratus.api;

import io.javalin.http.Context;
import io.stratus.hook.NetworkPolicy;
import java.net.InetAddress;
import java.util.Collections;
import java.util.List;
import org.eclipse.jetty.util.InetAddressSet;

/**
 * The API client's IP address, for the failed-login throttles and logs: the connection's peer (after a PROXY protocol
 * header, {@code http.proxy-protocol}) or, when that peer is one of {@code http.trusted-proxies}, the address its
 * {@code X-Forwarded-For} names. That is the rightmost entry that is not itself a trusted proxy: proxies append what
 * they saw, so entries to its left were written by the client and prove nothing. An entry that is no IP literal
 * (a misconfigured proxy) leaves the peer's address; entries are never looked up in DNS, the header being the
 * client's to write. Without trusted proxies the header is never read.
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
        String peer = ctx.req().getRemoteAddr();
        return trusted.isEmpty() ? peer : of(peer, Collections.list(ctx.req().getHeaders(HEADER)));
    }

    /** The client of a connection from {@code peer} that sent {@code forwardedFor} (its header lines, may be empty). */
    String of(String peer, List<String> forwardedFor) {
        InetAddress from = NetworkPolicy.literal(peer);
        InetAddress client = from == null ? null : of(from, forwardedFor);
        return client == null || client.equals(from) ? peer : client.getHostAddress();
    }

    /** The client behind {@code peer}: {@code peer} itself unless it is a trusted proxy that forwarded for another. */
    InetAddress of(InetAddress peer, List<String> forwardedFor) {
        if (trusted.isEmpty() || forwardedFor == null || forwardedFor.isEmpty() || !trusted.test(peer)) {
            return peer;
        }
        String[] hops = String.join(",", forwardedFor).split(",");
        for (int i = hops.length - 1; i >= 0; i--) {
            InetAddress hop = NetworkPolicy.literal(hops[i].strip());
            if (hop == null) {
                return peer;
            }
            if (!trusted.test(hop)) {
                return hop;
            }
        }
        return peer; // every hop a trusted proxy: the nearest one is as far as can be told
    }
}
