package io.stratus.telemetry;

import java.util.List;

/** A data stream of a device, with its latest point (null fields when it has none yet). */
public record Datastream(long deviceId, String id, String uuid, long createTime, long updateTime, String unit,
                         String unitSymbol, List<String> tags, Long latestAt, String latestValueJson) {
}
