package io.stratus.hook;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A OneNET trigger (API §6.4, docs/decisions.md) of one product: which stream of which devices it watches (no
 * {@code devIds}: every device of the product), where it posts, its type and threshold. {@code threshold} is the
 * comparison value or, for frozen and live, seconds; {@code lolmt}/{@code uplmt} bound an inout range. Times are epoch
 * ms; {@code updateTime} is when the definition last changed, where the silence clock of frozen and live starts.
 */
public record Trigger(long id, long productId, String title, String dsId, Set<Long> devIds, String url, TriggerType type,
                      double threshold, double lolmt, double uplmt, long createTime, long updateTime) {

    public Trigger {
        devIds = Set.copyOf(devIds);
    }

    /** A definition not yet stored (id and times are assigned on create). */
    public static Trigger draft(long productId, String title, String dsId, Set<Long> devIds, String url, TriggerType type,
                                double threshold, double lolmt, double uplmt) {
        return new Trigger(0, productId, title, dsId, devIds, url, type, threshold, lolmt, uplmt, 0, 0);
    }

    boolean watches(long deviceId) {
        return devIds.isEmpty() || devIds.contains(deviceId);
    }

    /** The listed devices in id order (empty: every device of the product). */
    public List<Long> sortedDevIds() {
        return devIds.stream().sorted().toList();
    }

    /** The threshold as OneNET writes it: a number, {@code {"lolmt","uplmt"}} for inout, null for change. */
    public Object thresholdJson() {
        return switch (type) {
            case INOUT -> {
                Map<String, Double> range = new LinkedHashMap<>();
                range.put("lolmt", lolmt);
                range.put("uplmt", uplmt);
                yield range;
            }
            case CHANGE -> null;
            default -> threshold;
        };
    }

    Trigger stored(long newId, long now) {
        return new Trigger(newId, productId, title, dsId, devIds, url, type, threshold, lolmt, uplmt, now, now);
    }

    Trigger replacing(Trigger old, long now) {
        return new Trigger(old.id, old.productId, title, dsId, devIds, url, type, threshold, lolmt, uplmt, old.createTime, now);
    }
}
