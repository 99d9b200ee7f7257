package io.stratus.hook;

import java.util.Optional;

/** The kinds of OneNET trigger (API §6.4, docs/decisions.md), with their names on the wire. */
public enum TriggerType {
    GT(">"),
    LT("<"),
    GE(">="),
    LE("<="),
    /** Entering or leaving [lolmt, uplmt]. */
    INOUT("inout"),
    /** A value different from the stream's previous one. */
    CHANGE("change"),
    /** No point for {@code threshold} seconds. */
    FROZEN("frozen"),
    /** The first point after at least {@code threshold} seconds without one. */
    LIVE("live");

    private final String wire;

    TriggerType(String wire) {
        this.wire = wire;
    }

    public String wire() {
        return wire;
    }

    public static Optional<TriggerType> parse(String wire) {
        for (TriggerType t : values()) {
            if (t.wire.equals(wire)) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }

    /** The four comparisons with a single numeric threshold. */
    public boolean isComparison() {
        return this == GT || this == LT || this == GE || this == LE;
    }

    /** Types whose threshold is a number of seconds of silence. */
    public boolean isSilence() {
        return this == FROZEN || this == LIVE;
    }

    boolean compare(double value, double threshold) {
        return switch (this) {
            case GT -> value > threshold;
            case LT -> value < threshold;
            case GE -> value >= threshold;
            case LE -> value <= threshold;
            default -> throw new IllegalStateException(this + " is not a comparison");
        };
    }
}
