package io.stratus.hook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.stratus.Config;
import io.stratus.Platform;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code hook.deny-networks}: CIDR matching (IPv4, IPv6, boundaries), parsing, and the check of configured URLs. */
class NetworkPolicyTest {
    private static final NetworkPolicy DEFAULT = policy(Config.DEFAULTS.get("hook.deny-networks"));
    private static final NetworkPolicy MULTI_TENANT = policy(
            "127.0.0.0/8, 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, ::1/128, fc00::/7");

    /** The policy a server builds from this setting: Config reads the list, NetworkPolicy its blocks. */
    private static NetworkPolicy policy(String setting) {
        return NetworkPolicy.of(Config.of(Map.of("hook.deny-networks", setting)).hooks().denyNetworks());
    }

    private static Config with(Map<String, String> settings, String denyNetworks) {
        Map<String, String> all = new HashMap<>(settings);
        all.put("hook.deny-networks", denyNetworks);
        return Config.of(all);
    }

    /** An address literal, never a DNS lookup. */
    private static InetAddress ip(String literal) {
        InetAddress a = NetworkPolicy.literal(literal);
        assertThat(a).as(literal).isNotNull();
        return a;
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(nullValues = "allowed", value = {
            "169.254.169.254, 169.254.0.0/16",    // AWS, GCP, Azure metadata
            "169.254.0.0, 169.254.0.0/16",        // first of the block
            "169.254.255.255, 169.254.0.0/16",    // last of the block
            "169.253.255.255, allowed",           // just below
            "169.255.0.0, allowed",               // just above
            "0.0.0.0, 0.0.0.0/8",                 // "this host": connecting to it reaches the server itself
            "0.255.255.255, 0.0.0.0/8",
            "1.0.0.0, allowed",
            "127.0.0.1, 127.0.0.0/8",             // loopback: the server's own API, its database port, ...
            "127.255.255.255, 127.0.0.0/8",
            "126.255.255.255, allowed",
            "128.0.0.0, allowed",
            "10.1.2.3, 10.0.0.0/8",
            "9.255.255.255, allowed",
            "11.0.0.0, allowed",
            "100.64.0.1, 100.64.0.0/10",          // shared address space (carrier-grade NAT)
            "100.127.255.255, 100.64.0.0/10",
            "100.128.0.0, allowed",
            "172.15.255.255, allowed",
            "172.16.0.0, 172.16.0.0/12",
            "172.31.255.255, 172.16.0.0/12",
            "172.32.0.0, allowed",
            "192.168.1.10, 192.168.0.0/16",
            "192.169.0.0, allowed",
            "8.8.8.8, allowed",
            "192.0.2.1, allowed",                 // TEST-NET-1: documentation, not private
            "fe80::1, fe80::/10",
            "fe80::, fe80::/10",
            "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff, fe80::/10",
            "fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff, allowed",
            "fec0::, allowed",
            "fd00:ec2::254, fc00::/7",            // AWS metadata over IPv6
            "fc00::, fc00::/7",
            "fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff, allowed",
            "::, ::/128",
            "::1, ::1/128",
            "::2, allowed",
            "2001:db8::1, allowed",
            "2606:4700::1111, allowed",
            "::ffff:169.254.169.254, 169.254.0.0/16", // an IPv4-mapped IPv6 literal is its IPv4 address
            "::ffff:127.0.0.1, 127.0.0.0/8",
    })
    void the_default_denies_everything_but_the_public_internet(String address, String block) {
        assertThat(DEFAULT.deniedBlock(ip(address))).isEqualTo(Optional.ofNullable(block));
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(nullValues = "allowed", value = {
            "127.0.0.1, 127.0.0.0/8",
            "127.255.255.255, 127.0.0.0/8",
            "128.0.0.0, allowed",
            "9.255.255.255, allowed",
            "10.0.0.0, 10.0.0.0/8",
            "172.15.255.255, allowed",
            "172.16.0.0, 172.16.0.0/12",
            "172.31.255.255, 172.16.0.0/12",
            "172.32.0.0, allowed",
            "192.168.255.255, 192.168.0.0/16",
            "192.169.0.0, allowed",
            "::1, ::1/128",
            "::2, allowed",
            "fc00::, fc00::/7",
            "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff, fc00::/7",
            "fe00::, allowed",
            "fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff, allowed",
    })
    void a_list_of_private_ranges_and_loopback_denies_exactly_those(String address, String block) {
        assertThat(MULTI_TENANT.deniedBlock(ip(address))).isEqualTo(Optional.ofNullable(block));
    }

    @Test
    void an_ipv4_mapped_ipv6_address_is_checked_as_its_ipv4_address() throws UnknownHostException {
        byte[] mapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff, (byte) 169, (byte) 254, (byte) 169, (byte) 254};
        InetAddress a = Inet6Address.getByAddress(null, mapped, -1); // stays an Inet6Address, unlike InetAddress.getByAddress

        assertThat(a).isInstanceOf(Inet6Address.class);
        assertThat(DEFAULT.deniedBlock(a)).contains("169.254.0.0/16");
    }

    @Test
    void a_bare_address_is_a_block_of_one_and_a_zero_prefix_is_a_whole_family() {
        NetworkPolicy one = policy("10.0.0.7,2001:db8::7");
        assertThat(one.deniedBlock(ip("10.0.0.7"))).contains("10.0.0.7");
        assertThat(one.deniedBlock(ip("10.0.0.6"))).isEmpty();
        assertThat(one.deniedBlock(ip("2001:db8::7"))).contains("2001:db8::7");
        assertThat(one.deniedBlock(ip("2001:db8::8"))).isEmpty();

        NetworkPolicy allV4 = policy("0.0.0.0/0");
        assertThat(allV4.deniedBlock(ip("255.255.255.255"))).contains("0.0.0.0/0");
        assertThat(allV4.deniedBlock(ip("::1"))).isEmpty();
        NetworkPolicy allV6 = policy("::/0");
        assertThat(allV6.deniedBlock(ip("fe80::1"))).contains("::/0");
        assertThat(allV6.deniedBlock(ip("::1"))).contains("::/0");
        assertThat(allV6.deniedBlock(ip("127.0.0.1"))).isEmpty();
    }

    @Test
    void host_bits_in_a_block_are_ignored_as_routers_do() {
        NetworkPolicy p = policy("10.9.8.7/8");
        assertThat(p.deniedBlock(ip("10.0.0.1"))).contains("10.9.8.7/8");
        assertThat(p.deniedBlock(ip("11.0.0.1"))).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "  \t "})
    void an_empty_list_denies_nothing(String list) {
        NetworkPolicy p = policy(list);
        assertThat(p.isEmpty()).isTrue();
        assertThat(p.deniedBlock(ip("169.254.169.254"))).isEmpty();
        assertThat(p.deniedBlock(ip("::"))).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/8x", "10.0.0/8", "256.0.0.0/8",
            "example.com/8", "localhost", "fe80::/10/2", "10.0.0.0/8,,192.168.0.0/16", "10.0.0.0/8,", "fe80::1%eth0/64"})
    void an_invalid_entry_is_refused_with_its_text_and_the_setting(String list) {
        assertThatThrownBy(() -> policy(list))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("hook.deny-networks: ");
    }

    @Test
    void an_invalid_entry_stops_the_server_before_its_store_opens(@TempDir Path dataDir) {
        Map<String, String> settings = Map.of("data.dir", dataDir.toString(), "mqtt.port", "0", "http.port", "0");
        assertThatThrownBy(() -> Platform.start(with(settings, "169.254.0.0/16,10.0.0.0/33")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("hook.deny-networks: \"10.0.0.0/33\" has a bad prefix length (0-32 for IPv4)");
        assertThatThrownBy(() -> Platform.start(with(settings, "metadata.internal")))
                .hasMessageContaining("\"metadata.internal\" is not a CIDR block");
        assertThat(dataDir).isEmptyDirectory();
    }

    @Test
    void an_empty_entry_stops_the_config_from_loading() {
        assertThatThrownBy(() -> Config.of(Map.of("hook.deny-networks", "10.0.0.0/8,,192.168.0.0/16")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("hook.deny-networks: empty entry in \"10.0.0.0/8,,192.168.0.0/16\"");
    }

    @Test
    void the_setting_comes_from_the_environment_and_may_be_emptied() {
        Config tenants = Config.load(null, Map.of("STRATUS_HOOK_DENY_NETWORKS", "127.0.0.0/8, ::1/128"), Map.of());
        assertThat(tenants.hooks().denyNetworks()).containsExactly("127.0.0.0/8", "::1/128");
        NetworkPolicy loopback = NetworkPolicy.of(tenants.hooks().denyNetworks());
        assertThat(loopback.deniedBlock(ip("127.0.0.1"))).contains("127.0.0.0/8");
        assertThat(loopback.deniedBlock(ip("169.254.169.254"))).isEmpty();

        Config open = Config.load(null, Map.of("STRATUS_HOOK_DENY_NETWORKS", ""), Map.of());
        assertThat(open.hooks().denyNetworks()).isEmpty();
        assertThat(NetworkPolicy.of(open.hooks().denyNetworks()).isEmpty()).isTrue();

        assertThat(policy(Config.DEFAULTS.get("hook.deny-networks"))).hasToString(Config.DEFAULTS.get("hook.deny-networks"));
    }

    @ParameterizedTest
    @CsvSource({
            "http://169.254.169.254/latest/meta-data/, 169.254.0.0/16",
            "http://169.254.169.254:80/, 169.254.0.0/16",
            "https://[fd00:ec2::254]/latest, fc00::/7",
            "http://[::ffff:169.254.169.254]/, 169.254.0.0/16",
            "http://[fe80::1%25eth0]:8080/, fe80::/10",
            "http://0.0.0.0:8080/, 0.0.0.0/8",
            "http://[::]/, ::/128",
    })
    void a_configured_url_with_a_denied_ip_literal_is_refused_naming_the_block(String url, String block) {
        HookException e = catchThrowableOfType(HookException.class, () -> DEFAULT.check(URI.create(url)));
        assertThat(e).as(url).isNotNull();
        assertThat(e.getMessage()).contains(block).contains("hook.deny-networks");
    }

    @ParameterizedTest
    @ValueSource(strings = {"http://2852039166/", "http://2852039166:80/latest"})
    void a_url_with_a_short_form_ipv4_literal_that_the_jdk_would_connect_to_is_refused(String url) {
        assertThatThrownBy(() -> DEFAULT.check(HookUrl.parse(url))).isInstanceOf(HookException.class)
                .hasMessageContaining("169.254.0.0/16");
    }

    @ParameterizedTest
    @ValueSource(strings = {"http://169.16689662/", "http://169.254.43518/", "http://127.1/"})
    void dotted_short_forms_are_no_valid_url_host_at_all(String url) {
        assertThatThrownBy(() -> HookUrl.parse(url)).isInstanceOf(HookException.class).hasMessage("url has no host");
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(nullValues = "none", value = {
            "10.1.2.3, 10.1.2.3",
            "010.001.002.003, 10.1.2.3",     // leading zeros are decimal in a dotted quad
            "256.1.2.3, none",
            "1.2.3, none",                   // short forms are shortIpv4's and atonIpv4's
            "[::1], ::1",
            "fe80::1%eth0, fe80::1",
            "1:2:3:4:5:6:7:8, 1:2:3:4:5:6:7:8",
            "1:2:3:4:5:6:7::, 1:2:3:4:5:6:7:0",
            "1:2:3:4:5:6:7:8:9, none",
            "1::2::3, none",
            "12345::, none",
            "::ffff:10.1.2.3, 10.1.2.3",     // IPv4-mapped
            "::10.1.2.3, 10.1.2.3",          // IPv4-compatible: read as its IPv4 address too
            "::ffff:0:10.1.2.3, none",
            "1::10.1.2.3, none",
            "example.com, none",
            "g::1, none",
    })
    void ip_literals_are_read_byte_by_byte(String literal, String address) throws UnknownHostException {
        InetAddress expected = address == null ? null : InetAddress.getByName(address); // a literal: no DNS lookup
        assertThat(NetworkPolicy.literal(literal)).isEqualTo(expected);
    }

    @ParameterizedTest
    @ValueSource(strings = {"2852039166", "169.16689662", "169.254.43518", "0", "1.2", "10.1.2", "4294967295"})
    void short_form_ipv4_literals_read_as_the_jdk_reads_them(String host) throws UnknownHostException {
        assertThat(NetworkPolicy.shortIpv4(host)).isEqualTo(InetAddress.getByName(host)); // a literal: no DNS lookup
    }

    @ParameterizedTest
    @ValueSource(strings = {"4294967296", "256.1", "1.16777216", "1.2.65536", "1.2.3.4", "12345678901", "a.1", "1..2"})
    void other_digit_strings_are_not_short_form_literals(String host) {
        assertThat(NetworkPolicy.shortIpv4(host)).isNull();
    }

    @ParameterizedTest
    @ValueSource(strings = {"https://example.com/hook", "http://93.184.216.34:8080/hook", "http://[2606:4700::1111]/hook",
            "http://metadata.google.internal/computeMetadata/", "http://receiver.lan/hook"})
    void the_default_lets_public_addresses_and_names_be_configured(String url) throws HookException {
        DEFAULT.check(URI.create(url)); // names are checked at delivery, after resolution
    }

    @ParameterizedTest
    @CsvSource({
            "http://127.0.0.1:8080/hook, 127.0.0.0/8",
            "http://localhost:8080/hook, 127.0.0.0/8",
            "http://LOCALHOST./hook, 127.0.0.0/8",
            "http://app.localhost/hook, 127.0.0.0/8",
            "http://[::1]/hook, ::1/128",
            "http://2130706433:8080/hook, 127.0.0.0/8",  // decimal: the JDK connects to 127.0.0.1
            "http://0x7f000001/hook, 127.0.0.0/8",       // hexadecimal: inet_aton reads 127.0.0.1
            "http://0177.0.0.1/hook, 127.0.0.0/8",       // octal to inet_aton (the JDK reads 177.0.0.1)
            "http://017700000001/hook, 127.0.0.0/8",
            "http://[::ffff:127.0.0.1]/hook, 127.0.0.0/8",
            "http://10.1.2.3/hook, 10.0.0.0/8",
            "http://192.168.1.20/hook, 192.168.0.0/16",
            "http://[fd12::1]/hook, fc00::/7",
    })
    void the_default_refuses_loopback_and_private_hosts_in_every_spelling(String url, String block) {
        assertThatThrownBy(() -> DEFAULT.check(HookUrl.parse(url))).as(url).isInstanceOf(HookException.class)
                .hasMessageContaining(block).hasMessageContaining("hook.deny-networks");
    }

    @ParameterizedTest
    @ValueSource(strings = {"http://0x7f.1/", "http://0x7f.0.0.1/", "http://0xa9.0xfe.0xa9.0xfe/"})
    void hexadecimal_dotted_forms_are_no_url_host_at_all(String url) {
        assertThatThrownBy(() -> HookUrl.parse(url)).isInstanceOf(HookException.class).hasMessage("url has no host");
    }

    @ParameterizedTest
    @CsvSource({
            "0x7f000001, 127.0.0.1",
            "0x7f.1, 127.0.0.1",
            "0177.0.0.1, 127.0.0.1",
            "017700000001, 127.0.0.1",
            "127.1, 127.0.0.1",
            "0X7F.0.0.1, 127.0.0.1",
            "0xa9.0xfe.0xa9.0xfe, 169.254.169.254",
            "2852039166, 169.254.169.254",
            "1.2.3.4, 1.2.3.4",
            "0, 0.0.0.0",
    })
    void inet_aton_forms_read_as_the_c_library_reads_them(String host, String address) {
        assertThat(NetworkPolicy.atonIpv4(host)).isEqualTo(ip(address));
    }

    @ParameterizedTest
    @ValueSource(strings = {"08.1", "1.2.3.4.5", "0x100.1", "256.1.1.1", "1.2.3.256", "4294967296", "a.1", "1..2", "0x1g",
            "example.com"})
    void other_hosts_are_no_inet_aton_forms(String host) {
        assertThat(NetworkPolicy.atonIpv4(host)).isNull();
    }

    @ParameterizedTest
    @ValueSource(strings = {"http://localhost:8080/hook", "http://LOCALHOST./hook", "http://app.localhost/hook",
            "http://127.0.0.1/hook", "http://[::1]/hook"})
    void loopback_names_are_refused_when_loopback_is_denied(String url) {
        assertThatThrownBy(() -> MULTI_TENANT.check(URI.create(url))).isInstanceOf(HookException.class)
                .hasMessageContaining("hook.deny-networks");
    }

    @Test
    void only_loopback_v6_denied_still_refuses_localhost() {
        NetworkPolicy v6 = policy("::1/128");
        assertThatThrownBy(() -> v6.check(URI.create("http://localhost/"))).hasMessageContaining("::1/128");
    }

    @Test
    void at_delivery_any_denied_address_of_a_name_refuses_it() {
        List<InetSocketAddress> answer = List.of(new InetSocketAddress(ip("93.184.216.34"), 80),
                new InetSocketAddress(ip("169.254.169.254"), 80));

        NetworkPolicy.Denied denied = catchThrowableOfType(NetworkPolicy.Denied.class, () -> DEFAULT.check("rebind.example", answer));

        assertThat(denied.block()).isEqualTo("169.254.0.0/16");
        assertThat(denied).hasMessage("rebind.example resolves to 169.254.169.254, which is in 169.254.0.0/16, denied by "
                + "hook.deny-networks");
        assertThat(catchThrowableOfType(NetworkPolicy.Denied.class,
                () -> DEFAULT.check("169.254.169.254", answer.subList(1, 2))))
                .hasMessage("169.254.169.254 is in 169.254.0.0/16, denied by hook.deny-networks");
    }

    @Test
    void at_delivery_allowed_addresses_pass() throws NetworkPolicy.Denied {
        DEFAULT.check("receiver.example", List.of(new InetSocketAddress(ip("93.184.216.34"), 80),
                new InetSocketAddress(ip("2606:4700::1111"), 80)));
        NetworkPolicy lanAllowed = policy("169.254.0.0/16");
        lanAllowed.check("receiver.lan", List.of(new InetSocketAddress(ip("192.168.1.20"), 80), new InetSocketAddress(ip("::1"), 80)));
        NetworkPolicy.none().check("anything", List.of(new InetSocketAddress(ip("169.254.169.254"), 80)));
    }
}
