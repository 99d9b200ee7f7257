package io.stratus.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.stratus.e2e.TestPlatform;
import io.stratus.e2e.TestPlatform.Reply;
import io.stratus.e2e.TestPlatform.TestDevice;
import io.stratus.e2e.TestPlatform.TestProduct;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@code GET /devices} (filters and pages) and {@code GET /devices/status}. */
class DeviceListTest {
    @RegisterExtension
    static final TestPlatform platform = TestPlatform.perClass();
    static TestProduct product;
    static TestProduct otherProduct;
    static List<TestDevice> pumps = new ArrayList<>();
    static TestDevice valve;
    static TestDevice foreign;

    /** 35 pumps and a tagged, public valve in one product; one device in another. */
    @BeforeAll
    static void start() {
        product = platform.createProduct("plant");
        otherProduct = platform.createProduct("elsewhere");
        for (int i = 1; i <= 35; i++) {
            pumps.add(platform.createDevice(product, "Pump " + i, "pump-" + i));
        }
        Reply r = platform.withKey(product.masterKey(), "POST", "/devices", Map.of("title", "Main valve", "auth_info", "valve-1",
                "tags", List.of("water", "critical"), "private", false));
        valve = new TestDevice(r.data().path("device_id").asText(), product.id(), "valve-1");
        foreign = platform.createDevice(otherProduct, "Pump abroad", "pump-1");
    }

    @Test
    void default_page_is_1_with_30_devices() {
        JsonNode data = list("").data();

        assertThat(data.path("total_count").asInt()).isEqualTo(36);
        assertThat(data.path("page").asInt()).isEqualTo(1);
        assertThat(data.path("per_page").asInt()).isEqualTo(30);
        assertThat(data.path("devices")).hasSize(30);
    }

    @Test
    void pages_cover_every_device_once() {
        List<String> seen = new ArrayList<>();
        for (int page = 1; page <= 4; page++) {
            list("?per_page=10&page=" + page).data().path("devices").forEach(d -> seen.add(d.path("id").asText()));
        }

        assertThat(seen).hasSize(36).doesNotHaveDuplicates().contains(valve.id()).doesNotContain(foreign.id());
    }

    @Test
    void a_page_past_the_end_is_empty() {
        JsonNode data = list("?per_page=100&page=2").data();

        assertThat(data.path("total_count").asInt()).isEqualTo(36);
        assertThat(data.path("page").asInt()).isEqualTo(2);
        assertThat(data.path("per_page").asInt()).isEqualTo(100);
        assertThat(data.path("devices")).isEmpty();
    }

    @Test
    void out_of_range_paging_is_errno_6() {
        for (String query : List.of("?per_page=101", "?per_page=0", "?page=0", "?page=10001", "?page=x", "?per_page=-1")) {
            assertThat(list(query).errno()).as(query).isEqualTo(6);
        }
        assertThat(list("?page=10000").errno()).isZero();
    }

    @Test
    void list_items_carry_the_device_fields() {
        JsonNode d = only(list("?auth_info=valve-1"));

        assertThat(d.path("id").asText()).isEqualTo(valve.id());
        assertThat(d.path("title").asText()).isEqualTo("Main valve");
        assertThat(d.path("online").asBoolean(true)).isFalse();
        assertThat(d.path("private").asBoolean(true)).isFalse();
        assertThat(d.path("create_time").asText()).matches("\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d");
        assertThat(d.path("tags").toString()).isEqualTo("[\"water\",\"critical\"]");
    }

    @Test
    void key_words_match_part_of_the_title_in_any_case() {
        JsonNode data = list("?key_words=pUmP%201").data();

        // "Pump 1" is part of Pump 1 and Pump 10..19.
        assertThat(data.path("total_count").asInt()).isEqualTo(11);
        assertThat(titles(data)).allMatch(t -> t.startsWith("Pump 1"));
    }

    @Test
    void key_words_match_an_exact_id() {
        JsonNode d = only(list("?key_words=" + valve.id()));

        assertThat(d.path("id").asText()).isEqualTo(valve.id());
    }

    @Test
    void auth_info_matches_exactly() {
        assertThat(only(list("?auth_info=pump-3")).path("title").asText()).isEqualTo("Pump 3");
        assertThat(list("?auth_info=pump").data().path("total_count").asInt()).isZero();
    }

    @Test
    void tag_and_private_filter() {
        assertThat(only(list("?tag=water")).path("id").asText()).isEqualTo(valve.id());
        assertThat(only(list("?private=false")).path("id").asText()).isEqualTo(valve.id());
        assertThat(list("?private=true").data().path("total_count").asInt()).isEqualTo(35);
        assertThat(list("?private=maybe").errno()).isEqualTo(6);
    }

    @Test
    void online_filter_uses_live_presence() {
        long id = Long.parseLong(pumps.get(4).id());
        long token = platform.platform().registry().markOnline(id, 0);
        try {
            JsonNode online = list("?online=true").data();
            JsonNode offline = list("?online=false").data();

            assertThat(online.path("total_count").asInt()).isEqualTo(1);
            assertThat(online.path("devices").get(0).path("id").asText()).isEqualTo(pumps.get(4).id());
            assertThat(online.path("devices").get(0).path("online").asBoolean()).isTrue();
            assertThat(offline.path("total_count").asInt()).isEqualTo(35);
        } finally {
            platform.platform().registry().markOffline(id, token);
        }
        assertThat(list("?online=true").data().path("total_count").asInt()).isZero();
        assertThat(list("?online=1").errno()).isEqualTo(6);
    }

    @Test
    void device_id_lists_chosen_devices() {
        String ids = pumps.get(0).id() + "," + pumps.get(1).id() + "," + foreign.id();

        JsonNode data = list("?device_id=" + ids).data();

        assertThat(ids(data)).containsExactly(pumps.get(0).id(), pumps.get(1).id());
        assertThat(list("?device_id=1,x").errno()).isEqualTo(6);
        String tooMany = IntStream.rangeClosed(1, 101).mapToObj(String::valueOf).collect(Collectors.joining(","));
        assertThat(list("?device_id=" + tooMany).errno()).isEqualTo(6);
    }

    @Test
    void begin_and_end_filter_by_creation_day() {
        LocalDate first = creationDay(pumps.get(0));
        LocalDate last = creationDay(valve);

        assertThat(list("?begin=" + first + "&end=" + last).data().path("total_count").asInt()).isEqualTo(36);
        assertThat(list("?begin=" + last.plusDays(1)).data().path("total_count").asInt()).isZero();
        assertThat(list("?end=" + first.minusDays(1)).data().path("total_count").asInt()).isZero();
        assertThat(list("?begin=yesterday").errno()).isEqualTo(6);
    }

    @Test
    void filters_combine_with_paging() {
        JsonNode data = list("?key_words=pump&per_page=5&page=2").data();

        assertThat(data.path("total_count").asInt()).isEqualTo(35);
        assertThat(data.path("devices")).hasSize(5);
    }

    @Test
    void the_admin_lists_with_product_id_and_needs_it() {
        Reply with = platform.asAdmin("GET", "/devices?product_id=" + otherProduct.id(), null);
        Reply without = platform.asAdmin("GET", "/devices", null);

        assertThat(ids(with.data())).containsExactly(foreign.id());
        assertThat(without.errno()).isEqualTo(7);
        assertThat(platform.asAdmin("GET", "/devices?product_id=999999999", null).errno()).isEqualTo(8);
    }

    @Test
    void status_reports_the_asked_devices() {
        Reply r = status(product.masterKey(), pumps.get(0).id() + "," + valve.id());

        assertThat(r.errno()).isZero();
        assertThat(r.data().path("total_count").asInt()).isEqualTo(2);
        JsonNode first = r.data().path("devices").get(0);
        assertThat(first.path("id").asText()).isEqualTo(pumps.get(0).id());
        assertThat(first.path("title").asText()).isEqualTo("Pump 1");
        assertThat(first.path("online").isBoolean()).isTrue();
        assertThat(first.path("online").asBoolean()).isFalse();
    }

    @Test
    void status_skips_unknown_devices_and_those_of_other_products() {
        Reply r = status(product.masterKey(), pumps.get(0).id() + ",999999999," + foreign.id());

        assertThat(r.errno()).isZero();
        assertThat(ids(r.data())).containsExactly(pumps.get(0).id());
        assertThat(r.data().path("total_count").asInt()).isEqualTo(1);
    }

    @Test
    void status_for_the_admin_spans_products() {
        Reply r = platform.asAdmin("GET", "/devices/status?devIds=" + pumps.get(0).id() + "," + foreign.id(), null);

        assertThat(ids(r.data())).containsExactly(pumps.get(0).id(), foreign.id());
    }

    @Test
    void status_shows_online_devices() {
        long id = Long.parseLong(valve.id());
        long token = platform.platform().registry().markOnline(id, 0);
        try {
            Reply r = status(product.masterKey(), valve.id());

            assertThat(r.data().path("devices").get(0).path("online").asBoolean()).isTrue();
        } finally {
            platform.platform().registry().markOffline(id, token);
        }
    }

    @Test
    void status_needs_dev_ids_and_takes_at_most_1000() {
        String tooMany = IntStream.rangeClosed(1, 1001).mapToObj(String::valueOf).collect(Collectors.joining(","));

        assertThat(platform.withKey(product.masterKey(), "GET", "/devices/status", null).errno()).isEqualTo(7);
        assertThat(status(product.masterKey(), tooMany).errno()).isEqualTo(6);
        assertThat(status(product.masterKey(), "1,abc").errno()).isEqualTo(6);
    }

    @Test
    void status_needs_credentials() {
        Reply none = platform.call("GET", "/devices/status?devIds=" + valve.id(), null, Map.of());
        Reply wrong = status("wrong-key", valve.id());

        assertThat(none.status()).isEqualTo(200);
        assertThat(none.errno()).isEqualTo(2);
        assertThat(wrong.status()).isEqualTo(200);
        assertThat(wrong.errno()).isEqualTo(3);
    }

    private static LocalDate creationDay(TestDevice device) {
        String createTime = platform.withKey(product.masterKey(), "GET", "/devices/" + device.id(), null)
                .data().path("create_time").asText();
        return LocalDate.parse(createTime.substring(0, 10));
    }

    private static Reply list(String query) {
        return platform.withKey(product.masterKey(), "GET", "/devices" + query, null);
    }

    private static Reply status(String key, String devIds) {
        return platform.withKey(key, "GET", "/devices/status?devIds=" + devIds, null);
    }

    private static JsonNode only(Reply r) {
        assertThat(r.errno()).isZero();
        assertThat(r.data().path("total_count").asInt()).isEqualTo(1);
        assertThat(r.data().path("devices")).hasSize(1);
        return r.data().path("devices").get(0);
    }

    private static List<String> ids(JsonNode data) {
        List<String> ids = new ArrayList<>();
        data.path("devices").forEach(d -> ids.add(d.path("id").asText()));
        return ids;
    }

    private static List<String> titles(JsonNode data) {
        List<String> titles = new ArrayList<>();
        data.path("devices").forEach(d -> titles.add(d.path("title").asText()));
        return titles;
    }
}
