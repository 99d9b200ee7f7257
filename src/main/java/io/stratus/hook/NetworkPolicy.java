package io.stratus.hook;

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
 * addresses and DNS rebinding. Entries and hosts are read here as IP literals, byte by byte, never with a DNS lookup
 * (the JDK's {@code InetAddress.getByName} would resolve whatever is not a literal to it).
 */
public final class NetworkPolicy {
    /** The setting, for messages. */
    public static final String KEY = "hook.deny-networks";

    /** One denied block, as written in the setting (trimmed): its address's bytes, of which the first prefix bits count. */
    private record Block(String cidr, byte[] network, int prefix) {
        /** Whether an address of the same family (4 or 16 bytes) has the same first {@code prefix} bits. */
        boolean contains(byte[] address) {
            if (address.length != network.length) {
                return false;
            }
            int whole = prefix / 8;
            for (int i = 0; i < whole; i++) {
                if (address[i] != network[i]) {
                    return false;
                }
            }
            int mask = (0xff << (8 - prefix % 8)) & 0xff;
            return prefix % 8 == 0 || ((address[whole] ^ network[whole]) & mask) == 0;
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
     * The policy of the setting's entries ({@link io.stratus.Config.HookSettings#denyNetworks}); an {@link
     * IllegalArgumentException} names the first entry that is not a CIDR block, so a typo stops the server at start
     * instead of silently allowing what it meant to deny.
     */
    public static NetworkPolicy of(List<String> cidrs) {
        List<Block> blocks = new ArrayList<>();
        for (String cidr : cidrs) {
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
        return new Block(cidr, address.getAddress(), prefix);
    }

    /** True when nothing is denied. */
    public boolean isEmpty() {
        return blocks.isEmpty();
    }

    /** The block that denies {@code address}, if any; an IPv4-mapped IPv6 address counts as its IPv4 address. */
    public Optional<String> deniedBlock(InetAddress address) {
        byte[] a = unmapped(address).getAddress();
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

    /**
     * An IP literal (brackets and an IPv6 zone allowed, as in URLs) without any DNS lookup, else null: IPv4 as four
     * decimal numbers of 0 to 255, IPv6 as RFC 4291 writes it. An IPv4-mapped IPv6 address is its IPv4 address.
     */
    public static InetAddress literal(String host) {
        if (host == null || host.isEmpty()) {
            return null;
        }
        String h = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        int zone = h.indexOf('%');
        if (zone >= 0 && h.indexOf(':') >= 0) {
            h = h.substring(0, zone); // fe80::1%eth0 is still fe80::1
        }
        byte[] bytes = h.indexOf(':') >= 0 ? ipv6(h) : ipv4(h);
        try {
            return bytes == null ? null : InetAddress.getByAddress(bytes);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e); // 4 or 16 bytes are always a valid address
        }
    }

    /** A dotted-quad IPv4 address: four decimal numbers of 0 to 255 (leading zeros are decimal too). Else null. */
    private static byte[] ipv4(String s) {
        if (!s.matches("[0-9]{1,3}(\\.[0-9]{1,3}){3}")) {
            return null;
        }
        String[] parts = s.split("\\.");
        byte[] bytes = new byte[4];
        for (int i = 0; i < 4; i++) {
            int n = Integer.parseInt(parts[i]);
            if (n > 255) {
                return null;
            }
            bytes[i] = (byte) n;
        }
        return bytes;
    }

    /**
     * An IPv6 address: eight groups of 1 to 4 hex digits separated by colons, or fewer around one {@code ::} that
     * stands for at least one group of zeros. A dotted-quad IPv4 address may end it only after 80 zero bits and 16
     * zero or one bits (IPv4-compatible {@code ::a.b.c.d} or IPv4-mapped {@code ::ffff:a.b.c.d}), and then the
     * result is that IPv4 address, as Netty's parser read these. Else null.
     */
    private static byte[] ipv6(String s) {
        int gap = s.indexOf("::");
        if (gap >= 0 && s.indexOf("::", gap + 1) >= 0) {
            return null;
        }
        int[] head = groups(gap < 0 ? s : s.substring(0, gap), gap < 0);
        int[] tail = gap < 0 ? new int[0] : groups(s.substring(gap + 2), true);
        if (head == null || tail == null || (gap < 0 ? head.length != 8 : head.length + tail.length > 7)) {
            return null;
        }
        byte[] bytes = new byte[16];
        for (int i = 0; i < head.length; i++) {
            bytes[2 * i] = (byte) (head[i] >> 8);
            bytes[2 * i + 1] = (byte) head[i];
        }
        for (int i = 0; i < tail.length; i++) {
            int at = 16 - 2 * (tail.length - i);
            bytes[at] = (byte) (tail[i] >> 8);
            bytes[at + 1] = (byte) tail[i];
        }
        return s.indexOf('.') < 0 ? bytes : embeddedIpv4(bytes);
    }

    /** The IPv4 address in the last 4 bytes of an IPv4-compatible or -mapped IPv6 address, else null. */
    private static byte[] embeddedIpv4(byte[] ipv6) {
        for (int i = 0; i < 10; i++) {
            if (ipv6[i] != 0) {
                return null;
            }
        }
        boolean compatibleOrMapped = ipv6[10] == ipv6[11] && (ipv6[10] == 0 || ipv6[10] == (byte) 0xff);
        return compatibleOrMapped ? Arrays.copyOfRange(ipv6, 12, 16) : null;
    }

    /** Colon-separated 16-bit groups ("" is none); an IPv4 address as the last, where allowed, is two. Else null. */
    private static int[] groups(String s, boolean ipv4Last) {
        if (s.isEmpty()) {
            return new int[0];
        }
        String[] parts = s.split(":", -1);
        byte[] v4 = ipv4Last && parts[parts.length - 1].indexOf('.') >= 0 ? ipv4(parts[parts.length - 1]) : null;
        int hex = v4 == null ? parts.length : parts.length - 1;
        int[] out = new int[v4 == null ? hex : hex + 2];
        for (int i = 0; i < hex; i++) {
            if (!parts[i].matches("[0-9a-fA-F]{1,4}")) {
                return null;
            }
            out[i] = Integer.parseInt(parts[i], 16);
        }
        if (v4 != null) {
            out[hex] = (v4[0] & 0xff) << 8 | v4[1] & 0xff;
            out[hex + 1] = (v4[2] & 0xff) << 8 | v4[3] & 0xff;
        }
        return out;
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
