package io.stratus.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.stratus.hook.NetworkPolicy;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which address {@link ClientIp} believes, and that it reads nothing but IP literals from a header. */
class ClientIpTest {
    private final ClientIp behindProxy = new ClientIp(List.of("10.0.0.0/8", "192.0.2.1"));

    @Test
    void the_rightmost_hop_that_is_no_trusted_proxy_is_the_client() {
        assertThat(behindProxy.of("10.0.0.5", List.of("203.0.113.7"))).isEqualTo("203.0.113.7");
        assertThat(behindProxy.of("10.0.0.5", List.of("198.51.100.9, 203.0.113.7, 192.0.2.1"))).isEqualTo("203.0.113.7");
        assertThat(behindProxy.of("10.0.0.5", List.of("198.51.100.9", "203.0.113.7"))).as("two header lines").isEqualTo("203.0.113.7");
        assertThat(behindProxy.of("10.0.0.5", List.of("2001:db8::1"))).isEqualTo("2001:db8:0:0:0:0:0:1");
    }

    @Test
    void an_untrusted_peer_a_missing_or_garbled_header_leave_the_peer() {
        assertThat(behindProxy.of("203.0.113.7", List.of("198.51.100.9"))).as("not a proxy").isEqualTo("203.0.113.7");
        assertThat(behindProxy.of("10.0.0.5", List.of())).isEqualTo("10.0.0.5");
        assertThat(behindProxy.of("10.0.0.5", List.of("unknown"))).isEqualTo("10.0.0.5");
        assertThat(new ClientIp(List.of()).of("10.0.0.5", List.of("203.0.113.7"))).as("no trusted proxies").isEqualTo("10.0.0.5");
    }

    @Test
    void only_ip_literals_are_read_so_a_header_never_causes_a_dns_lookup() {
        assertThat(NetworkPolicy.literal("203.0.113.7")).isNotNull();
        assertThat(NetworkPolicy.literal("[2001:db8::1]")).isNotNull();
        assertThat(NetworkPolicy.literal("999.1.1.1")).isNull();
        assertThat(NetworkPolicy.literal("1.2.3")).isNull();
        assertThat(NetworkPolicy.literal("example.com")).isNull();
        assertThat(NetworkPolicy.literal("cafe")).isNull();
        assertThat(NetworkPolicy.literal("::zz")).isNull();
    }

    @Test
    void a_setting_that_is_no_address_stops_the_start() {
        assertThatThrownBy(() -> new ClientIp(List.of("10.0.0.0/99"))).hasMessageContaining("http.trusted-proxies");
    }
}
