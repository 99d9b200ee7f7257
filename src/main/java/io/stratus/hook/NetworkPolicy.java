package io.stratus.hook;

import io.netty.handler.ipfilter.IpFilterRuleType;
import io.netty.handler.ipfilter.IpSubnetFilterRule;
import io.netty.util.NetUtil;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The networks trigger and data-push URLs may not reach ({@code hook.deny-networks}): a comma-separated list of
 * CIDR blocks, IPv4 and IPv6 ({@code 169.254.0.0/16,fe80::/10}); a bare address is a block of one. Empty: no
 * restriction. The default denies every address that is not the public internet (loopback, private, shared and
 * link-local ranges, "this host"): a product's key holder must not reach the server's own API, its LAN or a cloud
 * metadata endpoint. An operator whose receivers live on the LAN or loopback sets the list without their blocks.
 *
 * <p>Checked twice: when a URL is configured, if its host is an IP literal or a loopback name ({@link #check(URI)},
 * no DNS lookup on an HTTP thread), and by {@link Delivery} on every address a host name resolves to, right before
 * connecting to one of those very addresses ({@link #check(String, List)}), which defeats names pointing at denied
 * addresses and DNS rebinding. The matching is Netty's {@link IpSubnetFilterRule}; entries are parsed here without
 * any DNS lookup (that rule's String constructor would resolve a name).
 */
public final class NetworkPolicy {
    /** The setting, for messages. */
    public static final String KEY = "hook.deny-networks";

    /** One denied block, as written in the setting (trimmed). */
    private record Block(String cidr, IpSubnetFilterRule rule) {
        boolean contains(InetAddress address) {
            return rule.matches(new InetSocketAddress(address, 0));
        }
    }

    /** Refused by the policy: a permanent failure, never retried. The message names the address and the block. */
    public static final class Denied extends IOException {
        private final String block;

        Denied(String message, String block) {
            super(message, null);
            this.block = block;
        }

        /** The CIDR block of the setting that refused it. */
        public String block() {
            return block;
        }
    }

    private static final NetworkPolicy NONE = new NetworkPolicy(List.of());

    private final List<Block> blocks;

    private NetworkPolicy(List<Block> blocks) {
        this.blocks = blocks;
    }

    /** No restriction. */
    public static NetworkPolicy none() {
        return NONE;
    }

    /**
     * Parses the setting; an {@link IllegalArgumentException} names the first entry that is not a CIDR block, so a
     * typo stops the server at start instead of silently allowing what it meant to deny.
     */
    public static NetworkPolicy parse(String list) {
        List<Block> blocks = new ArrayList<>();
        for (String entry : list.split(",", -1)) {
            String cidr = entry.trim();
            if (cidr.isEmpty()) {
                if (list.isBlank()) {
                    break;
                }
                throw new IllegalArgumentException(KEY + ": empty entry in \"" + list + "\"");
            }
            blocks.add(block(cidr));
        }
        return blocks.isEmpty() ? NONE : new NetworkPolicy(List.copyOf(blocks));
    }

    private static Block block(String cidr) {
        int slash = cidr.indexOf('/');
        String ip = slash < 0 ? cidr : cidr.substring(0, slash);
        InetAddress address = ip.indexOf('%') >= 0 ? null : literal(ip);
        if (address == null) {
            throw new IllegalArgumentException(KEY + ": \"" + cidr + "\" is not a CIDR block (an IPv4 or IPv6 address, "
                    + "then optionally /prefix)");
        }
        int bits = address instanceof Inet4Address ? 32 : 128;
        int prefix = bits;
        if (slash >= 0) {
            String digits = cidr.substring(slash + 1);
            prefix = digits.matches("[0-9]{1,3}") ? Integer.parseInt(digits) : -1;
            if (prefix < 0 || prefix > bits) {
                throw new IllegalArgumentException(KEY + ": \"" + cidr + "\" has a bad prefix length (0-" + bits + " for "
                        + (bits == 32 ? "IPv4" : "IPv6") + ")");
            }
        }
        return new Block(cidr, new IpSubnetFilterRule(address, prefix, IpFilterRuleType.REJECT));
    }

    /** True when nothing is denied. */
    public boolean isEmpty() {
        return blocks.isEmpty();
    }

    /** The block that denies {@code address}, if any; an IPv4-mapped IPv6 address counts as its IPv4 address. */
    public Optional<String> deniedBlock(InetAddress address) {
        InetAddress a = unmapped(address);
        for (Block b : blocks) {
            if (b.contains(a)) {
                return Optional.of(b.cidr);
            }
        }
        return Optional.empty();
    }

    /**
     * The check when a URL is configured: refuses a host that is an IP literal in a denied block (as the JDK or the C
     * library reads it), or a loopback name ({@code localhost}, {@code *.localhost}, RFC 6761) when 127.0.0.1 or ::1
     * is denied. Other names are not
     * resolved here (that would put a DNS lookup on an HTTP thread, and the answer may change): delivery checks them.
     */
    public void check(URI url) throws HookException {
        String host = url.getHost();
        if (blocks.isEmpty() || host == null) {
            return; // HookUrl refuses a URL without a host
        }
        List<InetAddress> addresses = new ArrayList<>();
        InetAddress literal = literal(host);
        if (literal == null) {
            literal = shortIpv4(host);
        }
        if (literal != null) {
            addresses.add(literal);
        } else if (isLoopbackName(host)) {
            addresses.add(InetAddress.getLoopbackAddress());
            addresses.add(literal("::1"));
        }
        // The C library's reading as well (0x7f000001, 0177.0.0.1 are 127.0.0.1 to inet_aton, and 0177.0.0.1 is
        // 177.0.0.1 to the JDK): a host that is a denied address in either reading is refused.
        InetAddress aton = atonIpv4(host);
        if (aton != null) {
            addresses.add(aton);
        }
        for (InetAddress a : addresses) {
            Optional<String> block = deniedBlock(a);
            if (block.isPresent()) {
                throw new HookException("url host " + host + " is in " + block.get() + ", which " + KEY
                        + " does not let triggers and data push reach");
            }
        }
    }

    /**
     * The check at delivery: {@code addresses} are what {@code host} resolved to; if any of them is denied, the
     * whole delivery is refused (a name that can answer with a denied address may answer with it next time).
     */
    public void check(String host, List<InetSocketAddress> addresses) throws Denied {
        for (InetSocketAddress a : addresses) {
            Optional<String> block = a.getAddress() == null ? Optional.empty() : deniedBlock(a.getAddress());
            if (block.isPresent()) {
                String ip = a.getAddress().getHostAddress();
                String what = a.getAddress().equals(literal(host)) ? host : host + " resolves to " + ip + ", which";
                throw new Denied(what + " is in " + block.get() + ", denied by " + KEY, block.get());
            }
        }
    }

    /** An IP literal (brackets and an IPv6 zone allowed, as in URLs) without any DNS lookup, else null. */
    static InetAddress literal(String host) {
        if (host == null || host.isEmpty()) {
            return null;
        }
        String h = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        int zone = h.indexOf('%');
        if (zone >= 0 && h.indexOf(':') >= 0) {
            h = h.substring(0, zone); // fe80::1%eth0 is still fe80::1
        }
        return NetUtil.createInetAddressFromIpAddressString(h);
    }

    /**
     * The JDK also reads 1 to 3 dot-separated decimal numbers as an IPv4 address, the last one filling the
     * remaining bytes ({@code 2852039166}, {@code 169.16689662}, {@code 169.254.43518} are all 169.254.169.254),
     * and {@link java.net.URI} takes them as host names: so they are literals here too. Else null.
     */
    static InetAddress shortIpv4(String host) {
        if (host == null || !host.matches("[0-9]{1,10}(\\.[0-9]{1,10}){0,2}")) {
            return null;
        }
        String[] parts = host.split("\\.");
        long[] values = new long[parts.length];
        for (int i = 0; i < parts.length; i++) {
            values[i] = Long.parseLong(parts[i]);
        }
        return packed(values);
    }

    /**
     * The C library's {@code inet_aton} reading of a host: 1 to 4 dot-separated numbers, each decimal, octal (a
     * leading 0) or hexadecimal ({@code 0x}), the last one filling the remaining bytes. Else null.
     */
    static InetAddress atonIpv4(String host) {
        if (host == null || !host.matches("(?i)(0x[0-9a-f]{0,8}|[0-9]{1,12})(\\.(0x[0-9a-f]{0,8}|[0-9]{1,12})){0,3}")) {
            return null;
        }
        String[] parts = host.split("\\.");
        long[] values = new long[parts.length];
        for (int i = 0; i < parts.length; i++) {
            String p = parts[i].toLowerCase(Locale.ROOT);
            try {
                values[i] = p.startsWith("0x") ? (p.length() == 2 ? 0 : Long.parseLong(p.substring(2), 16))
                        : p.length() > 1 && p.startsWith("0") ? Long.parseLong(p.substring(1), 8) : Long.parseLong(p);
            } catch (NumberFormatException notOctal) {
                return null; // 08, 09: not a number to inet_aton
            }
        }
        return packed(values);
    }

    /**
     * 1 to 4 numbers as IPv4 reads them: each but the last one byte, the last filling the remaining bytes; null when a
     * number does not fit.
     */
    private static InetAddress packed(long[] values) {
        long value = 0;
        for (int i = 0; i < values.length - 1; i++) {
            if (values[i] > 255) {
                return null;
            }
            value = value << 8 | values[i];
        }
        int lastBits = 8 * (5 - values.length);
        long last = values[values.length - 1];
        if (last >= 1L << lastBits) {
            return null;
        }
        value = value << lastBits | last;
        byte[] bytes = {(byte) (value >>> 24), (byte) (value >>> 16), (byte) (value >>> 8), (byte) value};
        try {
            return InetAddress.getByAddress(bytes);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e); // 4 bytes are always a valid IPv4 address
        }
    }

    private static boolean isLoopbackName(String host) {
        String h = host.toLowerCase(Locale.ROOT);
        if (h.endsWith(".")) {
            h = h.substring(0, h.length() - 1);
        }
        return h.equals("localhost") || h.endsWith(".localhost");
    }

    /** ::ffff:a.b.c.d as a.b.c.d: the JDK usually converts these itself, but an Inet6Address can still carry one. */
    private static InetAddress unmapped(InetAddress address) {
        if (address instanceof Inet6Address) {
            byte[] b = address.getAddress();
            boolean mapped = b[10] == (byte) 0xff && b[11] == (byte) 0xff;
            for (int i = 0; i < 10 && mapped; i++) {
                mapped = b[i] == 0;
            }
            if (mapped) {
                try {
                    return InetAddress.getByAddress(Arrays.copyOfRange(b, 12, 16));
                } catch (UnknownHostException e) {
                    throw new IllegalStateException(e); // 4 bytes are always a valid IPv4 address
                }
            }
        }
        return address;
    }

    /** The setting as parsed, comma-separated. */
    @Override
    public String toString() {
        return String.join(",", blocks.stream().map(Block::cidr).toList());
    }
}
