package io.stratus.command;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The two bounds of open commands, {@code commands.max-open-per-product} and {@code commands.max-open}. */
class OpenLimitsTest {
    private static final long LAMPS = 1;
    private static final long METERS = 2;

    @Test
    void a_product_at_its_bound_is_refused_while_other_products_go_on() {
        OpenLimits limits = new OpenLimits(100, 2);
        limits.reserve(LAMPS);
        limits.reserve(LAMPS);

        assertRefused(limits, LAMPS, "commands.max-open-per-product");
        limits.reserve(METERS);

        assertThat(limits.openCount()).isEqualTo(3);
        assertThat(limits.refusedCount()).isEqualTo(1);
    }

    @Test
    void the_servers_bound_refuses_a_product_with_room_and_leaves_nothing_counted_for_it() {
        OpenLimits limits = new OpenLimits(2, 2);
        limits.reserve(LAMPS);
        limits.reserve(LAMPS);

        assertRefused(limits, METERS, "commands.max-open");
        assertThat(limits.openCount()).isEqualTo(2);
        assertThat(limits.refusedCount()).isEqualTo(1);

        limits.release(LAMPS);
        limits.release(LAMPS);
        limits.reserve(METERS);
        limits.reserve(METERS); // the refused one left no count behind, or this would pass the product's bound
        assertThat(limits.openCount()).isEqualTo(2);
    }

    @Test
    void a_released_command_frees_its_place() {
        OpenLimits limits = new OpenLimits(100, 1);
        limits.reserve(LAMPS);

        limits.release(LAMPS);

        limits.reserve(LAMPS);
        assertThat(limits.openCount()).isEqualTo(1);
        assertThat(limits.refusedCount()).isZero();
    }

    @Test
    void commands_of_an_earlier_run_count_even_over_the_bounds_and_new_ones_wait_for_room() {
        OpenLimits limits = new OpenLimits(100, 2);
        limits.count(LAMPS);
        limits.count(LAMPS);
        limits.count(LAMPS);
        assertThat(limits.openCount()).isEqualTo(3);

        assertRefused(limits, LAMPS, "commands.max-open-per-product");
        limits.release(LAMPS);
        limits.release(LAMPS);

        limits.reserve(LAMPS);
        assertThat(limits.openCount()).isEqualTo(2);
    }

    /** A refusal with errno 13 that names the setting whose bound was reached. */
    private static void assertRefused(OpenLimits limits, long productId, String setting) {
        assertThatThrownBy(() -> limits.reserve(productId))
                .isInstanceOfSatisfying(CommandException.class,
                        e -> assertThat(e.reason()).isEqualTo(CommandException.Reason.SYSTEM_LIMIT))
                .hasMessageContaining(", " + setting + ")");
    }
}
